"""skinny.h's prefetching loops, on 1 and 2 threads, exact on small integers (every partial
sum exact, so an output read from a wrong row, column or gradient entry shows):
- axpys (the transpose of a row-major float32 matrix times at most four columns, a
  convolution's input gradient at batch 1), every weight vector loaded once for all columns
  and the next rows prefetched: shapes around the prefetch's end (the last 4 + 8 rows), the
  four-row groups' tail and the vector tail of each range;
- dots (a row-major matrix times at most four columns, the forward), each row prefetched
  1024 floats ahead and the next block's rows: shapes around the row blocks' ends, the
  prefetch distance and the vector tail."""
import numpy as np
import pytest

import ember_tensor
from ember_tensor import _team
from ember_tensor._kernels import blas

needs_pinning = pytest.mark.skipif(not _team.can_split(),
                                   reason="BLAS threads cannot be pinned per thread here")


@pytest.fixture
def skinny_from_small():
    """The skinny path from 64 elements, so that small shapes reach it too."""
    old = blas.set_skinny(64, 64)
    split = _team._GEMV_SPLIT_ELEMENTS
    _team._GEMV_SPLIT_ELEMENTS = 256   # small products cut in two as well
    yield
    _team._GEMV_SPLIT_ELEMENTS = split
    blas.set_skinny(*old)


def product(x, y):
    """``_team.matmul(x, y)``, checked to give the same bits on 1 and 2 threads."""
    old = ember_tensor.get_num_threads()
    try:
        got = []
        for threads in (1, 2):
            ember_tensor.set_num_threads(threads)
            got.append(_team.matmul(x, y))
    finally:
        ember_tensor.set_num_threads(old)
    np.testing.assert_array_equal(got[0], got[1])
    return got[0]


@needs_pinning
@pytest.mark.parametrize("r", [1, 3, 4, 5, 11, 12, 13, 16, 17, 29, 512])
@pytest.mark.parametrize("n", [17, 130, 333])
@pytest.mark.parametrize("m", [1, 2, 3, 4])
def test_axpys_exact_on_integers(skinny_from_small, r, n, m):
    # small integers: every partial sum is exact, so any output read from the wrong weight
    # row, column or gradient entry shows as a difference
    rng = np.random.default_rng(r * 1000 + n * 10 + m)
    w = rng.integers(-8, 9, (r, n)).astype(np.float32)
    g = rng.integers(-8, 9, (r, m)).astype(np.float32)
    if m == 1:   # (n x r) @ (r x 1): a matrix-vector product, BLAS's; two columns instead
        g = np.concatenate([g, -g], axis=1)
    got = product(w.T, g)
    np.testing.assert_array_equal(got, w.T.astype(np.float64) @ g.astype(np.float64))


@needs_pinning
@pytest.mark.parametrize("r,n", [(512, 4608), (37, 1000), (13, 4099)])
def test_axpys_close_to_float64(skinny_from_small, r, n):
    rng = np.random.default_rng(r + n)
    w = rng.standard_normal((r, n)).astype(np.float32)
    g = rng.standard_normal((r, 4)).astype(np.float32)
    got = product(w.T, g)
    ref = w.T.astype(np.float64) @ g.astype(np.float64)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5 * np.sqrt(r))


@needs_pinning
def test_axpys_strided_gradient_and_special_values(skinny_from_small):
    # an inf in one weight reaches only its own output row; G read through a transposed view
    rng = np.random.default_rng(3)
    w = rng.integers(-4, 5, (21, 300)).astype(np.float32)
    w[14, 77] = np.inf
    g = np.abs(rng.integers(1, 5, (3, 21))).astype(np.float32).T
    got = product(w.T, g)
    expect = w.T.astype(np.float64) @ g.astype(np.float64)
    np.testing.assert_array_equal(got, expect)
    assert np.isinf(got[77]).all() and np.isfinite(np.delete(got, 77, axis=0)).all()


@needs_pinning
@pytest.mark.parametrize("n", [2, 3, 5, 7, 8, 9, 130])
@pytest.mark.parametrize("k", [33, 1023, 1024, 1040, 1041, 2100])
@pytest.mark.parametrize("m", [2, 4])
def test_dots_exact_on_integers(skinny_from_small, n, k, m):
    rng = np.random.default_rng(n * 10000 + k * 10 + m)
    x = rng.integers(-8, 9, (n, k)).astype(np.float32)
    y = rng.integers(-8, 9, (k, m)).astype(np.float32)
    got = product(x, y)
    np.testing.assert_array_equal(got, x.astype(np.float64) @ y.astype(np.float64))


@needs_pinning
def test_dots_rows_apart_and_special_values(skinny_from_small):
    # rows further apart than k (a view): the prefetches follow lda; an inf stays in its row
    rng = np.random.default_rng(4)
    wide = rng.integers(-4, 5, (70, 3000)).astype(np.float32)
    wide[33, 2500] = np.inf
    x = wide[:, 1:2901]
    y = np.abs(rng.integers(1, 5, (2900, 3))).astype(np.float32)
    got = product(x, y)
    np.testing.assert_array_equal(got, x.astype(np.float64) @ y.astype(np.float64))
    assert np.isinf(got[33]).all() and np.isfinite(np.delete(got, 33, axis=0)).all()


@needs_pinning
@pytest.mark.parametrize("transposed", [False, True])
def test_prefetch_switch_keeps_bits(skinny_from_small, transposed):
    # the A/B switch (blas.set_skinny_prefetch) changes when lines arrive, never the sums
    rng = np.random.default_rng(9)
    w = rng.standard_normal((300, 2100)).astype(np.float32)
    x = w.T if transposed else w
    y = rng.standard_normal((x.shape[1], 4)).astype(np.float32)
    on = product(x, y)
    old = blas.set_skinny_prefetch(0)
    try:
        off = product(x, y)
    finally:
        blas.set_skinny_prefetch(old)
    np.testing.assert_array_equal(on, off)
    ref = x.astype(np.float64) @ y.astype(np.float64)
    np.testing.assert_allclose(on, ref, rtol=1e-5, atol=1e-5 * np.sqrt(x.shape[1]))


@needs_pinning
@pytest.mark.parametrize("n", [3, 4, 5, 7, 8, 9, 130])
@pytest.mark.parametrize("m", [1024, 1040, 4608])
@pytest.mark.parametrize("shift", [0, 3])
@pytest.mark.parametrize("groups", [0, 1])
@pytest.mark.parametrize("integers", [True, False])
def test_outer_streamed_groups(skinny_from_small, n, m, shift, groups, integers):
    # outer's streamed rows go four at a time (each vector of y's rows loaded once for all
    # four) when the rows share their alignment (forced on at SSE2, off at the others by
    # the switch): exact on integers, the same bits as the cached stores' one row at a
    # time, wherever out starts
    rng = np.random.default_rng(n * 100 + m + shift)
    if integers:
        x = rng.integers(-8, 9, (n, 4)).astype(np.float32)
        y = rng.integers(-8, 9, (4, m)).astype(np.float32)
    else:
        x = rng.standard_normal((n, 4)).astype(np.float32)
        y = rng.standard_normal((4, m)).astype(np.float32)
    old = blas.set_skinny_stream(0)
    old_groups = blas.set_skinny_outer_groups(groups)
    try:
        cached = product(x, y)
        blas.set_skinny_stream(1)
        out = np.empty(n * m + shift, np.float32)[shift:].reshape(n, m)
        assert _team.matmul(x, y, out=out) is out
        streamed = product(x, y)
    finally:
        blas.set_skinny_stream(old)
        blas.set_skinny_outer_groups(old_groups)
    np.testing.assert_array_equal(out, cached)
    np.testing.assert_array_equal(streamed, cached)
    ref = x.astype(np.float64) @ y.astype(np.float64)
    if integers:
        np.testing.assert_array_equal(cached, ref)
    else:
        np.testing.assert_allclose(cached, ref, rtol=1e-5, atol=1e-5)

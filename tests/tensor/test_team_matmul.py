"""Ember's matrix products on the OpenMP team (``ember_tensor._team.matmul``): the same
numbers as NumPy's, the same bits on any thread count, BLAS's threading left as it was."""
import numpy as np
import pytest

import ember_tensor
from ember_tensor import _team
from ember_tensor._kernels import blas

needs_pinning = pytest.mark.skipif(not _team.can_split(),
                                   reason="BLAS threads cannot be pinned per thread here")

# (m, k, n): passed through, pinned to the caller, split by rows, split by columns
SHAPES = [(8, 8, 8), (64, 64, 64), (40, 300, 300), (300, 200, 160), (3, 512, 6000),
          (1, 2048, 4100)]


@needs_pinning
@pytest.mark.parametrize("m,k,n", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("transposed", [False, True])
def test_matches_numpy_and_thread_counts(m, k, n, dtype, transposed):
    rng = np.random.default_rng(m * 7 + n)
    x = rng.standard_normal((k, m) if transposed else (m, k)).astype(dtype)
    x = x.T if transposed else x
    y = rng.standard_normal((k, n)).astype(dtype)
    got = same_on_1_and_2_threads(x, y)
    ref = x.astype(np.float64) @ y.astype(np.float64)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol * np.sqrt(k))
    assert got.shape == (m, n) and got.flags.c_contiguous


def same_on_1_and_2_threads(x, y):
    """``_team.matmul(x, y)``, checked to give the same bits on 1 and 2 threads."""
    old = ember_tensor.get_num_threads()
    try:
        got = {}
        for threads in (1, 2):
            ember_tensor.set_num_threads(threads)
            got[threads] = _team.matmul(x, y)
    finally:
        ember_tensor.set_num_threads(old)
    np.testing.assert_array_equal(got[1], got[2])
    return got[1]


@needs_pinning
def test_blas_threading_restored():
    # openblas_set_num_threads_local returns the calling thread's previous setting
    old = _team._blas_local(2)
    try:
        for side in (64, 150, 300):  # passed through, pinned, split
            x = np.ones((side, side), np.float32)
            np.testing.assert_array_equal(_team.matmul(x, x),
                                          np.full((side, side), side, np.float32))
            assert _team._blas_local(2) == 2
            np.testing.assert_array_equal(_team.matmul(x[None].repeat(3, 0), x[0]),
                                          np.full((3, side), side, np.float32))
            assert _team._blas_local(2) == 2
    finally:
        _team._blas_local(old)


def test_other_inputs_pass_through():
    a = np.arange(12, dtype=np.int64).reshape(3, 4)
    np.testing.assert_array_equal(_team.matmul(a, a.T), a @ a.T)
    v = np.ones(4, np.float32)
    np.testing.assert_array_equal(_team.matmul(np.ones((3, 4), np.float32), v),
                                  np.full(3, 4, np.float32))


def _on_threads(fn):
    """``fn()`` on 1 and on 2 threads (restoring the count)."""
    old = ember_tensor.get_num_threads()
    try:
        got = []
        for threads in (1, 2):
            ember_tensor.set_num_threads(threads)
            got.append(fn())
    finally:
        ember_tensor.set_num_threads(old)
    return got


def _check(x, y):
    """``_team.matmul(x, y)``: NumPy's shape and dtype, float64-reference values, the same
    bits on 1 and 2 threads."""
    one, two = _on_threads(lambda: _team.matmul(x, y))
    ref = np.matmul(x.astype(np.float64), y.astype(np.float64))
    k = x.shape[-1]
    tol = 1e-5 if x.dtype == np.float32 else 1e-12
    assert one.shape == ref.shape and one.dtype == x.dtype
    np.testing.assert_allclose(one, ref, rtol=tol, atol=tol * np.sqrt(max(k, 1)))
    np.testing.assert_array_equal(one, two)


# (x shape, y shape): batches (equal, broadcast, big enough to cut), matrix-vector and
# vector-matrix (cut from _GEMV_SPLIT_ELEMENTS), a batch of rows folded into one GEMM
PRODUCT_SHAPES = [
    ((5, 7, 3), (5, 3, 4)), ((1, 7, 3), (6, 3, 4)), ((6, 7, 3), (1, 3, 4)),
    ((4, 7, 3), (3, 2)), ((7, 3), (4, 3, 2)), ((2, 130, 200), (2, 200, 170)),
    ((9, 40, 50), (9, 50, 60)), ((300, 1000), (1000,)), ((1000,), (1000, 300)),
    ((33, 17), (17,)), ((17,), (17, 33)), ((3, 1, 200), (3, 200, 300)),
    ((3, 200, 300), (3, 300, 1)), ((600, 500), (500, 1)), ((1, 500), (500, 600)),
    ((4, 5, 6), (6,)), ((6,), (4, 6, 5)),
]


@needs_pinning
@pytest.mark.parametrize("sx,sy", PRODUCT_SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batched_and_vector_products(sx, sy, dtype):
    rng = np.random.default_rng(len(sx) * 31 + sx[-1])
    _check(rng.standard_normal(sx).astype(dtype), rng.standard_normal(sy).astype(dtype))


@needs_pinning
def test_strided_and_transposed_operands():
    rng = np.random.default_rng(3)
    base = rng.standard_normal((4, 60, 80)).astype(np.float32)
    x = base.transpose(0, 2, 1)[:, ::2, :]  # column-major matrices, every other row
    y = rng.standard_normal((4, 90, 60)).astype(np.float32)[:, ::3].transpose(0, 2, 1)
    _check(x, y)
    _check(base[0, 5:50, 10:70], base[1, :60:, 3:40])  # row-major views with a gap
    _check(base[0].T, base[1, :, 7])  # column-major matrix, strided vector
    _check(base[0, 3], base[1].T[:, ::4])
    _check(np.broadcast_to(base[0, :4, :5], (3, 4, 5)), base[1, :5, :6])  # batch stride 0
    _check(base[0, ::-1, :5], base[1, :5, ::-1])  # negative strides: copied by NumPy


def _blas_product(x, y):
    """``_team.matmul``'s cblas path alone (None when it declines)."""
    return _team._blas.matmul(x, y, _team._GEMM_SPLIT_MACS, _team._GEMM_TEAM_MACS,
                              _team._GEMV_SPLIT_ELEMENTS, _team._SPLIT_BATCH_BELOW)


@needs_pinning
def test_operands_blas_cannot_read_are_copied():
    """Stride-0 operands (sum's gradient reaches Linear's backward as a (1, n) expand of one
    value) and negative strides are copied for cblas, not left to NumPy's loop without BLAS
    (2.8 ms for a 1x1000 @ 1000x512)."""
    rng = np.random.default_rng(11)
    w = rng.standard_normal((1000, 512)).astype(np.float32)
    ones = np.broadcast_to(np.float32(1), (1, 1000))
    col = np.broadcast_to(np.float32(2), (1000, 1))
    batch = rng.standard_normal((3, 5, 7)).astype(np.float32)
    for x, y in [(ones, w), (col, w[:1]), (w[:5], np.broadcast_to(np.float32(3), (512, 4))),
                 (w[:6, :7], np.broadcast_to(np.float32(1), (7,))),
                 (np.broadcast_to(np.float32(1), (7,)), w[:7, :9]),
                 (np.broadcast_to(batch[0], (3, 5, 7)), batch.transpose(0, 2, 1)),
                 (batch[:, ::-1], batch[0, :, ::-1].T), (w[:4, ::-1], w[511::-1, :3])]:
        got = _blas_product(x, y)
        assert got is not None, (x.strides, y.strides)
        ref = np.matmul(x.astype(np.float64), y.astype(np.float64))
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-4)
        _check(x, y)


@needs_pinning
def test_empty_and_degenerate_products():
    for sx, sy in [((0, 3), (3, 4)), ((3, 0), (0, 4)), ((2, 0, 3), (2, 3, 5)),
                   ((2, 3, 0), (2, 0, 5)), ((0,), (0, 4)), ((4, 0), (0,))]:
        x, y = np.ones(sx, np.float32), np.ones(sy, np.float32)
        got = _team.matmul(x, y)
        np.testing.assert_array_equal(got, np.matmul(x, y))
        assert got.shape == np.matmul(x, y).shape and got.dtype == np.float32


def test_numpy_fallback_without_cblas():
    """An OpenBLAS without the ILP64 cblas names (another NumPy build) leaves every product
    to ``np.matmul``, with the same values."""
    import ctypes

    assert _team._cblas_addresses(ctypes.CDLL(None)) == (0, 0, 0, 0)
    rng = np.random.default_rng(5)
    cases = [((64, 64), (64, 64)), ((300, 200), (200, 160)), ((3, 40, 50), (3, 50, 60)),
             ((500, 600), (600,)), ((2, 3, 4, 5), (5, 6))]
    bound = _team._blas.bound()
    _team._blas.bind(0, 0, 0, 0, 0)
    try:
        assert not _team._blas.bound()
        for sx, sy in cases:
            x = rng.standard_normal(sx).astype(np.float32)
            y = rng.standard_normal(sy).astype(np.float32)
            one, two = _on_threads(lambda x=x, y=y: _team.matmul(x, y))
            np.testing.assert_allclose(one, np.matmul(x, y), rtol=1e-5, atol=1e-4)
            np.testing.assert_array_equal(one, two)
    finally:
        if bound:
            assert _team._bind_cblas()


@needs_pinning
def test_cblas_bound_when_found():
    # NumPy's wheels bundle scipy-openblas64, whose ILP64 cblas every product then calls
    assert _team._blas.bound() == any(_team._cblas_addresses(_team._openblas))


@pytest.mark.parametrize("m,k,n", [(8, 8, 8), (128, 576, 64), (64, 147, 1024)])
def test_product_into_out(m, k, n):
    """``out=`` receives the product in place (conv writes an image's output straight from
    the GEMM), the same bits as without it on 1 and 2 threads; an ``out`` cblas cannot take
    (strided, wrong dtype, overlapping an operand) still gets the right values."""
    rng = np.random.default_rng(m + n)
    x = rng.standard_normal((m, k)).astype(np.float32)
    y = rng.standard_normal((k, n)).astype(np.float32)
    want = _team.matmul(x, y)
    for threads in (1, 2):
        old = ember_tensor.get_num_threads()
        ember_tensor.set_num_threads(threads)
        try:
            out = np.full((m, n), np.nan, np.float32)
            assert _team.matmul(x, y, out=out) is out
            np.testing.assert_array_equal(out, want)
        finally:
            ember_tensor.set_num_threads(old)
    strided = np.zeros((m, 2 * n), np.float32)[:, ::2]
    _team.matmul(x, y, out=strided)
    np.testing.assert_allclose(strided, want, rtol=1e-5, atol=1e-4)
    wide = np.zeros((m, n), np.float64)
    _team.matmul(x, y, out=wide)
    np.testing.assert_allclose(wide, want, rtol=1e-5, atol=1e-4)
    if m == k == n:
        square = x.copy()
        _team.matmul(square, y, out=square)  # overlaps its operand: NumPy's path, a temporary
        np.testing.assert_allclose(square, want, rtol=1e-5, atol=1e-4)


def test_empty_product_into_out():
    out = np.full((3, 4), 7.0, np.float32)
    assert _team.matmul(np.ones((3, 0), np.float32), np.ones((0, 4), np.float32), out=out) is out
    np.testing.assert_array_equal(out, 0)


# ---- the skinny path (_kernels/skinny.h): a big row-major float32 matrix times at most four
# columns, summed in one pass instead of OpenBLAS's GEMM; every CPU level runs these


@pytest.fixture
def skinny_from_small():
    """The skinny path from 1024 elements, so that small shapes reach it too."""
    old = blas.set_skinny(1024, 1024)
    yield
    blas.set_skinny(*old)


@needs_pinning
@pytest.mark.parametrize("n,k", [(512, 4608), (130, 1000), (7, 333), (64, 17), (300, 2049)])
@pytest.mark.parametrize("m", [2, 3, 4])
@pytest.mark.parametrize("transposed", [False, True])
def test_matches_reference(skinny_from_small, n, k, m, transposed):
    # transposed: x is the transpose of a row-major (k x n) matrix (a convolution's input
    # gradient, the weights transposed), summed by skinny.h's axpys instead of its dots
    rng = np.random.default_rng(n * 31 + k + m)
    x = rng.standard_normal((k, n) if transposed else (n, k)).astype(np.float32)
    x = x.T if transposed else x
    y = rng.standard_normal((k, m)).astype(np.float32)
    got = same_on_1_and_2_threads(x, y)
    ref = x.astype(np.float64) @ y.astype(np.float64)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5 * np.sqrt(k))
    assert got.shape == (n, m) and got.dtype == np.float32
    # the path was taken: its dots round differently from OpenBLAS's somewhere (axpys' one
    # chain per output can match OpenBLAS's bits)
    old = blas.set_skinny(0)
    try:
        assert not np.array_equal(got, _team.matmul(x, y)) or k < 64 or transposed
    finally:
        blas.set_skinny(*old)


@needs_pinning
def test_strided_operands_and_out(skinny_from_small):
    rng = np.random.default_rng(5)
    wide = rng.standard_normal((200, 1500)).astype(np.float32)
    x = wide[:, 3:1203]                      # rows 1500 apart: lda > k
    y = rng.standard_normal((4, 1200)).astype(np.float32).T   # a transposed view
    out = np.full((200, 4), np.nan, np.float32)
    res = _team.matmul(x, y, out=out)
    assert res is out
    ref = x.astype(np.float64) @ y.astype(np.float64)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5 * np.sqrt(1200))
    assert np.array_equal(out, _team.matmul(np.ascontiguousarray(x), np.ascontiguousarray(y)))


@needs_pinning
def test_special_values_stay_in_their_outputs(skinny_from_small):
    # y's padding columns are zeros: an inf in x must not reach an output through them
    x = np.ones((64, 100), np.float32)
    x[5, 7] = np.inf
    y = np.ones((100, 2), np.float32)
    got = _team.matmul(x, y)
    expect = np.full((64, 2), 100, np.float32)
    expect[5] = np.inf
    np.testing.assert_array_equal(got, expect)


def test_other_shapes_stay_on_blas(skinny_from_small):
    # float64, five columns, a transposed x: not the skinny path, still exact on integers
    rng = np.random.default_rng(2)
    for x, y in [(rng.integers(-3, 4, (64, 300)).astype(np.float64),
                  rng.integers(-3, 4, (300, 4)).astype(np.float64)),
                 (rng.integers(-3, 4, (64, 300)).astype(np.float32),
                  rng.integers(-3, 4, (300, 5)).astype(np.float32)),
                 (rng.integers(-3, 4, (300, 64)).astype(np.float32).T,
                  rng.integers(-3, 4, (300, 3)).astype(np.float32))]:
        np.testing.assert_array_equal(_team.matmul(x, y),
                                      x.astype(np.int64) @ y.astype(np.int64))


@needs_pinning
@pytest.mark.parametrize("n,m", [(512, 4608), (130, 1000), (7, 333), (300, 2049)])
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_outer_matches_reference(skinny_from_small, n, m, k):
    # (n x k) @ (k x m), k <= 4: the weight gradient of a 2x2-pixel convolution output
    rng = np.random.default_rng(n * 13 + m + k)
    x = rng.standard_normal((n, k)).astype(np.float32)
    y = rng.standard_normal((m, k)).astype(np.float32).T      # cols.T, as the backward has
    got = same_on_1_and_2_threads(x, y)
    ref = x.astype(np.float64) @ y.astype(np.float64)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6 * k)
    assert got.shape == (n, m) and got.dtype == np.float32
    xs = np.asfortranarray(x)                                   # x by other strides
    out = np.empty(n * m + 1, np.float32)[1:].reshape(n, m)    # a differently placed out
    if out.flags.aligned:
        assert _team.matmul(xs, np.ascontiguousarray(y), out=out) is out
        np.testing.assert_array_equal(out, got)


@pytest.fixture
def wide_from_small():
    """skinny.h's outer_wide from 64 output elements, so that small shapes reach it too."""
    old = blas.set_skinny_wide(64)
    yield
    blas.set_skinny_wide(old)


@needs_pinning
@pytest.mark.parametrize("n,m", [(256, 2304), (256, 1152), (13, 1000), (100, 17), (9, 47)])
@pytest.mark.parametrize("k", [5, 9, 16])
@pytest.mark.parametrize("columns", [True, False])
def test_outer_wide_matches_reference(wide_from_small, n, m, k, columns):
    # (n x k) @ (k x m), 4 < k <= 16: a 4x4-pixel convolution output's weight gradient,
    # y as the backward has it (cols.T: stored by columns) or row-major
    rng = np.random.default_rng(n * 17 + m + k)
    x = rng.standard_normal((n, k)).astype(np.float32)
    y = (rng.standard_normal((m, k)).astype(np.float32).T if columns
         else rng.standard_normal((k, m)).astype(np.float32))
    got = same_on_1_and_2_threads(x, y)
    ref = x.astype(np.float64) @ y.astype(np.float64)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6 * k)
    assert got.shape == (n, m) and got.dtype == np.float32
    # each output is one chain over k in order, whatever the strides or where out lies
    out = np.empty(n * m + 1, np.float32)[1:].reshape(n, m)
    if out.flags.aligned:
        assert _team.matmul(np.asfortranarray(x), np.ascontiguousarray(y), out=out) is out
        np.testing.assert_array_equal(out, got)
    # the path was taken and each output is one chain over k in order: fused multiply-adds
    # where the level has them (a float64 product and sum rounded once: exact for these),
    # else a rounded product added
    x64, y64 = x.astype(np.float64), np.ascontiguousarray(y).astype(np.float64)
    fused = plain = (x64[:, :1] * y64[:1]).astype(np.float32)
    for j in range(1, k):
        term = x64[:, j:j + 1] * y64[j:j + 1]
        fused = (fused + term).astype(np.float32)
        plain = plain + term.astype(np.float32)
    level = ember_tensor.cpu_level()
    if level in ("avx2", "avx512"):
        np.testing.assert_array_equal(got, fused)
    elif level == "baseline":
        np.testing.assert_array_equal(got, plain)


def test_outer_wide_bounds_and_special_values(wide_from_small):
    # 4 and 17 inner elements stay off outer_wide; an inf reaches only its own row
    rng = np.random.default_rng(4)
    for k in (4, 17):
        x = rng.integers(-3, 4, (40, k)).astype(np.float32)
        y = rng.integers(-3, 4, (k, 300)).astype(np.float32)
        np.testing.assert_array_equal(_team.matmul(x, y), x.astype(np.int64) @ y.astype(np.int64))
    x = np.ones((40, 8), np.float32)
    x[3, 2] = np.inf
    got = _team.matmul(x, np.ones((8, 100), np.float32))
    expect = np.full((40, 100), 8, np.float32)
    expect[3] = np.inf
    np.testing.assert_array_equal(got, expect)


@needs_pinning
@pytest.mark.parametrize("m", [4608, 1000, 33])
@pytest.mark.parametrize("shift", [0, 1, 5])
def test_streamed_outer_same_bits(skinny_from_small, m, shift):
    # outer's streaming stores (big outputs) start at each row's first aligned element; the
    # head and the tail are vectors stored over the same elements: the bits are those of the
    # cached stores, wherever out lies
    rng = np.random.default_rng(m + shift)
    x = rng.standard_normal((70, 3)).astype(np.float32)
    y = rng.standard_normal((m, 3)).astype(np.float32).T
    old = blas.set_skinny_stream(0)
    try:
        cached = same_on_1_and_2_threads(x, y)
        blas.set_skinny_stream(1)
        out = np.empty(70 * m + shift, np.float32)[shift:].reshape(70, m)
        assert _team.matmul(x, y, out=out) is out
        np.testing.assert_array_equal(out, cached)
        np.testing.assert_array_equal(same_on_1_and_2_threads(x, y), cached)
    finally:
        blas.set_skinny_stream(old)


@pytest.fixture
def axpys_wide_from_small():
    """skinny.h's axpys_wide from 64 matrix elements, so that small shapes reach it too."""
    old = blas.set_skinny_axpys_wide(64)
    yield
    blas.set_skinny_axpys_wide(old)


def _chains(w, g):
    """w.T @ g as one chain over r in order a output: fused multiply-adds and rounded
    products added. For integers below 2**15 the float64 product and sum are exact, so
    rounding them once to float32 is the fused multiply-add's result."""
    w64, g64 = w.astype(np.float64), g.astype(np.float64)
    fused = plain = (w64[:1].T * g64[:1]).astype(np.float32)
    for r in range(1, w.shape[0]):
        term = w64[r:r + 1].T * g64[r:r + 1]
        fused = (fused + term).astype(np.float32)
        plain = plain + term.astype(np.float32)
    return fused, plain


@needs_pinning
@pytest.mark.parametrize("r,n", [(256, 2304), (256, 1152), (37, 1000), (3, 130), (1, 70)])
@pytest.mark.parametrize("m", [5, 9, 16])
def test_axpys_wide_matches_reference(axpys_wide_from_small, r, n, m):
    # (r x n)^T @ (r x m), 4 < m <= 16: a 4x4-pixel convolution output's input gradient,
    # the transposed weights times the output gradient
    rng = np.random.default_rng(r * 7 + n + m)
    w = rng.standard_normal((r, n)).astype(np.float32)
    g = rng.standard_normal((r, m)).astype(np.float32)
    got = same_on_1_and_2_threads(w.T, g)
    ref = w.T.astype(np.float64) @ g.astype(np.float64)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5 * np.sqrt(r))
    assert got.shape == (n, m) and got.dtype == np.float32
    # g by other strides, out placed elsewhere: the same bits
    out = np.empty(n * m + 1, np.float32)[1:].reshape(n, m)
    if out.flags.aligned:
        assert _team.matmul(w.T, np.asfortranarray(g), out=out) is out
        np.testing.assert_array_equal(out, got)
    # the path was taken and each output is one chain over r in order: fused multiply-adds
    # where the level has them, else rounded products added
    wi = rng.integers(-(1 << 15), 1 << 15, (r, n)).astype(np.float32)
    gi = rng.integers(-(1 << 15), 1 << 15, (r, m)).astype(np.float32)
    got = same_on_1_and_2_threads(wi.T, gi)
    fused, plain = _chains(wi, gi)
    level = ember_tensor.cpu_level()
    if level in ("avx2", "avx512"):
        np.testing.assert_array_equal(got, fused)
    elif level == "baseline":
        np.testing.assert_array_equal(got, plain)
    if r > 1 and level != "baseline":
        assert not np.array_equal(fused, plain)


def test_axpys_wide_bounds_and_special_values(axpys_wide_from_small):
    # 4 and 17 columns stay off axpys_wide (exact on integers either way); an inf in the
    # weights reaches only its own output row, never the zero-padded columns' neighbours
    rng = np.random.default_rng(8)
    for m in (4, 17):
        w = rng.integers(-3, 4, (50, 300)).astype(np.float32)
        g = rng.integers(-3, 4, (50, m)).astype(np.float32)
        np.testing.assert_array_equal(_team.matmul(w.T, g), w.T.astype(np.int64) @ g)
    w = np.ones((20, 100), np.float32)
    w[7, 33] = np.inf
    got = _team.matmul(w.T, np.ones((20, 6), np.float32))
    expect = np.full((100, 6), 20, np.float32)
    expect[33] = np.inf
    np.testing.assert_array_equal(got, expect)

"""Ember's matrix products on the OpenMP team (``ember_tensor._team.matmul``): the same
numbers as NumPy's, the same bits on any thread count, BLAS's threading left as it was."""
import numpy as np
import pytest

import ember_tensor
from ember_tensor import _team

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
    old = ember_tensor.get_num_threads()
    try:
        got = {}
        for threads in (1, 2):
            ember_tensor.set_num_threads(threads)
            got[threads] = _team.matmul(x, y)
    finally:
        ember_tensor.set_num_threads(old)
    ref = x.astype(np.float64) @ y.astype(np.float64)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got[1], ref, rtol=tol, atol=tol * np.sqrt(k))
    np.testing.assert_array_equal(got[1], got[2])
    assert got[1].shape == (m, n) and got[1].flags.c_contiguous


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
    finally:
        _team._blas_local(old)


def test_other_inputs_pass_through():
    a = np.arange(12, dtype=np.int64).reshape(3, 4)
    np.testing.assert_array_equal(_team.matmul(a, a.T), a @ a.T)
    v = np.ones(4, np.float32)
    np.testing.assert_array_equal(_team.matmul(np.ones((3, 4), np.float32), v),
                                  np.full(3, 4, np.float32))

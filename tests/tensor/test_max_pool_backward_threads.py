"""max_pool2d_backward's thread rule (``BACKWARD_COUNTS_ZEROING``): whichever way the
zeroing is counted and however many threads run, the gradient is the same bits and matches
a float64 scatter."""
import numpy as np
import pytest

import ember_tensor
from ember_tensor._kernels import max_pool as max_pool_kernels
from ember_tensor.nn import max_pool2d_backward, max_pool2d_with_indices


@pytest.fixture
def restore():
    threads = ember_tensor.get_num_threads()
    counts = max_pool_kernels.BACKWARD_COUNTS_ZEROING
    yield
    ember_tensor.set_num_threads(threads)
    max_pool_kernels.BACKWARD_COUNTS_ZEROING = counts


@pytest.mark.parametrize("shape", [(1, 64, 32, 32), (4, 64, 32, 32), (1, 3, 9, 9)])
def test_same_bits_whatever_the_rule_and_threads(restore, shape):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape).astype(np.float32)
    out, idx = max_pool2d_with_indices(x, 3, 2, 1)
    go = rng.standard_normal(np.asarray(out).shape).astype(np.float32)
    planes = shape[0] * shape[1]
    plane = shape[2] * shape[3]
    expected = np.zeros(planes * plane)
    flat = np.asarray(idx).reshape(planes, -1) + (np.arange(planes) * plane)[:, None]
    np.add.at(expected, flat.ravel(), go.reshape(planes, -1).ravel().astype(np.float64))
    results = []
    for counts in (False, True):
        max_pool_kernels.BACKWARD_COUNTS_ZEROING = counts
        for threads in (1, 2):
            ember_tensor.set_num_threads(threads)
            gx = np.asarray(max_pool2d_backward(go, x, idx))
            np.testing.assert_allclose(gx.ravel(), expected, rtol=1e-6, atol=1e-6)
            results.append(gx.copy())
    for gx in results[1:]:
        np.testing.assert_array_equal(gx, results[0])


def test_backward_overwrites_a_dirty_buffer_on_two_threads(restore):
    # the zeroing runs inside the split loop: every plane's stale values must go, whichever
    # thread count the rule picks
    ember_tensor.set_num_threads(2)
    planes, side = 64, 32
    go = np.ones((planes, 16, 16), np.float32)
    idx = np.zeros((planes, 16, 16), np.int64)
    for counts in (False, True):
        max_pool_kernels.BACKWARD_COUNTS_ZEROING = counts
        gx = np.full((planes, side, side), 7.0, np.float32)
        max_pool_kernels.max_pool2d_backward(go, idx, gx)
        expected = np.zeros((planes, side, side), np.float32)
        expected[:, 0, 0] = 256
        np.testing.assert_array_equal(gx, expected)

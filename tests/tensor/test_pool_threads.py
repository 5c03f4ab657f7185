"""Average pooling gives the same numbers on two threads as on one: its window bounds were
shared between the threads of the plane loop, and 26 of 120 calls came out wrong."""
import numpy as np
import pytest

import ember_tensor as et
from ember_tensor.nn import pooling


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel, stride, padding", [(5, 3, 0), (3, 1, 1)])
def test_avg_pool_threads_agree(dtype, kernel, stride, padding):
    x = et.from_numpy(np.random.default_rng(0).standard_normal((2, 768, 17, 17)).astype(dtype))
    threads = et.get_num_threads()
    try:
        et.set_num_threads(1)
        want = pooling.avg_pool2d(x, kernel, stride, padding).numpy()
        grad_want = pooling.avg_pool2d_backward(
            et.from_numpy(np.ones_like(want)), x, kernel, stride, padding).numpy()
        et.set_num_threads(2)
        for _ in range(10):
            np.testing.assert_array_equal(pooling.avg_pool2d(x, kernel, stride, padding).numpy(),
                                          want)
            np.testing.assert_array_equal(pooling.avg_pool2d_backward(
                et.from_numpy(np.ones_like(want)), x, kernel, stride, padding).numpy(),
                grad_want)
    finally:
        et.set_num_threads(threads)

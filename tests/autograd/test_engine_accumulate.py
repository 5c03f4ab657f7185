"""Two gradients meeting at one input (a residual block's input) are summed with Ember's add
kernel when both are float32/float64 of one shape (``_backward_steps._add``), else with
NumPy as before: the same correctly rounded sums, bit for bit, on 1 and 2 threads."""
import numpy as np
import pytest

import ember
from ember._core import _backward_steps as BS
from ember._tensor import Tensor
from ember_tensor import Array


def _t(a):
    return Tensor._make(Array(a))


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int64])
@pytest.mark.parametrize("shape", [(), (7,), (1, 64, 16, 16), (4, 64, 32, 32)])
def test_sum_is_numpys(threads, dtype, shape):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal(shape) * 100).astype(dtype)
    b = (rng.standard_normal(shape) * 100).astype(dtype)
    if a.ndim and dtype in (np.float32, np.float64):
        a.flat[0], b.flat[1] = np.nan, -np.inf
    old = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        got = BS._add(_t(a), _t(b), False)._data._np
    finally:
        ember.set_num_threads(old)
    want = np.asarray(a + b)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert got.tobytes() == want.tobytes()


def test_mixed_operands_keep_numpys_sum():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.ones(6, dtype=np.float64).reshape(2, 3)
    got = BS._add(_t(a), _t(b), False)._data._np
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, a + b)
    t = BS._add(_t(a.T), _t(np.ones((3, 2), np.float32)), False)._data._np  # strided a
    np.testing.assert_array_equal(t, a.T + 1)


def test_residual_gradient():
    x = ember.randn(1, 4, 5, 5, requires_grad=True)
    y = x * 2.0
    z = y.relu() + y  # two gradients meet at y
    z.sum().backward()
    xa = x.detach().numpy()
    want = (((xa * 2) > 0).astype(np.float32) + 1) * 2
    np.testing.assert_array_equal(x.grad.numpy(), want)


def test_float_operands_of_one_shape_take_the_kernel(monkeypatch):
    calls = []
    real = BS._fast
    monkeypatch.setattr(BS, "_fast", lambda *a: calls.append(a[0]) or real(*a))
    BS._add(_t(np.ones(3, np.float32)), _t(np.ones(3, np.float32)), False)
    BS._add(_t(np.ones(3, np.float16)), _t(np.ones(3, np.float16)), False)
    BS._add(_t(np.ones(3, np.float32)), _t(np.ones((2, 3), np.float32)), False)
    assert calls == ["add"]

"""Pooling to 1x1 (every ResNet's and MobileNet's global pool) runs its own one-pass kernels:
these pin them to the general paths they replace. The average must equal
``mean((-2, -1), keepdim=True)`` bit for bit, node and gradients included; the maximum must
keep the window scan's index rules (first maximum; with NaNs, torch's pool keeps the last)."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F


def _input(shape, dtype, seed=0):
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return ember.tensor(x).requires_grad_(True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 5, 7, 7), (4, 9, 6), (2, 3, 70, 70), (1, 2, 1, 1)])
def test_global_avg_pool_equals_mean_exactly(shape, dtype):
    x = _input(shape, dtype)
    g = ember.tensor(np.random.default_rng(1).standard_normal(
        shape[:-2] + (1, 1)).astype(dtype))
    pooled, mean = F.adaptive_avg_pool2d(x, 1), x.mean((-2, -1), keepdim=True)
    assert type(pooled.grad_fn).__name__ == "MeanBackward1"
    assert pooled.dtype == mean.dtype and tuple(pooled.shape) == tuple(mean.shape)
    np.testing.assert_array_equal(pooled.detach().numpy(), mean.detach().numpy())
    (got,) = ember.autograd.grad(pooled, (x,), g)
    (want,) = ember.autograd.grad(mean, (x,), g)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_global_avg_pool_second_order():
    # under create_graph the gradient is built from Tensor ops, so it has a graph of its own
    x = _input((2, 3, 4, 4), np.float64)
    g = ember.ones(2, 3, 1, 1, dtype=ember.float64, requires_grad=True)
    (gx,) = ember.autograd.grad(F.adaptive_avg_pool2d(x, (1, 1)), (x,), g, create_graph=True)
    np.testing.assert_array_equal(gx.detach().numpy(), np.full((2, 3, 4, 4), 1 / 16))
    (gg,) = ember.autograd.grad((gx * gx).sum(), (g,))
    np.testing.assert_allclose(gg.numpy(), np.full((2, 3, 1, 1), 2 * 16 / 256))


def test_global_avg_pool_other_dtypes_keep_the_mean_path():
    half = ember.ones(1, 2, 3, 3, dtype=ember.float16)
    assert F.adaptive_avg_pool2d(half, 1).dtype == ember.float16
    with pytest.raises(RuntimeError, match="mean"):
        F.adaptive_avg_pool2d(ember.ones(1, 2, 3, 3, dtype=ember.int64), 1)


def _window_scan_argmax(plane):
    # torch's adaptive max rule: a later value replaces the best if greater, or if it is NaN
    best = 0
    for i, v in enumerate(plane):
        if v > plane[best] or np.isnan(v):
            best = i
    return best


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_global_max_pool_indices_follow_the_window_scan(dtype):
    x = np.random.default_rng(2).integers(-3, 4, (2, 6, 5, 7)).astype(dtype)  # many ties
    x[0, 1, 2, 3] = x[0, 1, 4, 0] = np.nan  # two NaNs: the last wins
    x[1, 2, 0, 0] = np.nan
    x[1, 3] = -np.inf
    out, idx = F.adaptive_max_pool2d(ember.tensor(x), 1, return_indices=True)
    planes = x.reshape(12, 35)
    want = np.array([_window_scan_argmax(p) for p in planes]).reshape(2, 6, 1, 1)
    np.testing.assert_array_equal(idx.numpy(), want)
    np.testing.assert_array_equal(out.numpy().ravel(), planes[np.arange(12), want.ravel()])

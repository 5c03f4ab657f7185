"""Pooling to 1x1 (every ResNet's and MobileNet's global pool) runs its own one-pass kernels:
these pin them to the general paths they replace. The average must equal
``mean((-2, -1), keepdim=True)`` bit for bit, node and gradients included; the maximum must
keep the window scan's index rules (first maximum; with NaNs, torch's pool keeps the last)."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F
import ember_tensor


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


# planes below 64 elements are summed in registers (avg_pool.h), longer ones by row_sum: every
# count of full 16-element lane blocks (0-3), a remainder or none, and the first long plane
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("hw", [(1, 1), (3, 5), (4, 4), (1, 17), (5, 7), (6, 8), (7, 7), (7, 9),
                                (8, 8), (5, 13)])
def test_short_plane_sums_equal_mean_exactly(hw, dtype):
    # +-2**60 in every plane: which small terms the double partial sums absorb depends on
    # the order of the additions, so any change of order changes the result
    n = hw[0] * hw[1]
    rng = np.random.default_rng(n)
    planes = rng.standard_normal((74, n)).astype(dtype)
    for p in planes if n > 1 else ():
        i, j = rng.choice(n, 2, replace=False)
        p[i], p[j] = 2.0 ** 60, -2.0 ** 60
    x = ember.tensor(planes.reshape((2, 37) + hw))
    pooled, mean = F.adaptive_avg_pool2d(x, 1), x.mean((-2, -1), keepdim=True)
    np.testing.assert_array_equal(pooled.detach().numpy(), mean.detach().numpy())


def test_global_avg_pool_non_contiguous_input():
    base = _input((2, 7, 7, 6), np.float32)
    x = base.permute(0, 3, 1, 2)  # (2, 6, 7, 7), channels last in memory
    pooled = F.adaptive_avg_pool2d(x, 1)
    want = x.contiguous().mean((-2, -1), keepdim=True)
    np.testing.assert_array_equal(pooled.detach().numpy(), want.detach().numpy())
    g = ember.ones(2, 6, 1, 1)
    (gx,) = ember.autograd.grad(pooled, (base,), g)
    np.testing.assert_array_equal(gx.numpy(), np.full((2, 7, 7, 6), 1 / 49, np.float32))


@pytest.fixture
def restore_threads():
    old = ember_tensor.get_num_threads()
    yield
    ember_tensor.set_num_threads(old)


@pytest.mark.parametrize("pool", ["avg", "max"])
def test_global_and_adaptive_pools_same_on_one_and_two_threads(pool, restore_threads):
    # large enough for the kernels to split planes over two threads
    x = _input((4, 300, 7, 7), np.float32, seed=3)
    g1 = ember.tensor(np.random.default_rng(4).standard_normal((4, 300, 1, 1), np.float32))
    g3 = ember.tensor(np.random.default_rng(5).standard_normal((4, 300, 3, 3), np.float32))
    fn = F.adaptive_avg_pool2d if pool == "avg" else F.adaptive_max_pool2d
    results = []
    for threads in (1, 2):
        ember_tensor.set_num_threads(threads)
        got = []
        for size, g in ((1, g1), (3, g3)):
            out = fn(x, size)
            (gx,) = ember.autograd.grad(out, (x,), g)
            got += [out.detach().numpy(), gx.numpy()]
        results.append(got)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


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

"""Gradients of gradients through F.grid_sample and F.affine_grid: gradgradcheck in float64 for
every mode x padding x align_corners (grid points past [-1, 1] included), the nodes torch
names, the Tensor-op composite against the kernel, and the usual backward staying the
kernel's (no graph). ``test_torch_grid_sample_double_backward.py`` compares with torch."""
import itertools

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember._ops.nn_grid_reference import grid_sample_composite

MODES = ["bilinear", "nearest", "bicubic"]
PADDINGS = ["zeros", "border", "reflection"]
COMBOS = list(itertools.product(MODES, PADDINGS, [False, True]))


def _inputs(seed, grid_requires_grad=True):
    rng = np.random.default_rng(seed)
    x = ember.tensor(rng.standard_normal((1, 1, 3, 4)), requires_grad=True)
    # inside and past [-1, 1], up to a full fold away: every padding's folds and the zero
    # taps are reached; jittered so no point sits on a kink
    g = np.array([[[[-0.35, 0.6], [2.3, -1.7]], [[-2.9, 1.2], [0.8, -0.45]]]])
    g = ember.tensor(g + rng.uniform(-0.1, 0.1, g.shape), requires_grad=grid_requires_grad)
    return x, g


@pytest.mark.parametrize("mode,padding_mode,align_corners", COMBOS)
def test_gradgradcheck(mode, padding_mode, align_corners):
    x, g = _inputs(sum(map(ord, mode + padding_mode)) + align_corners)
    assert ember.autograd.gradgradcheck(
        lambda a, b: F.grid_sample(a, b, mode=mode, padding_mode=padding_mode,
                                   align_corners=align_corners), (x, g))


@pytest.mark.parametrize("mode,padding_mode,align_corners", COMBOS)
def test_composite_equals_the_kernel(mode, padding_mode, align_corners):
    rng = np.random.default_rng(7)
    x = ember.tensor(rng.standard_normal((2, 3, 5, 6)))
    g = ember.tensor(rng.standard_normal((2, 4, 3, 2)) * 1.6)
    want = F.grid_sample(x, g, mode=mode, padding_mode=padding_mode,
                         align_corners=align_corners).numpy()
    got = grid_sample_composite(x, g, mode, padding_mode, align_corners).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)


def test_first_derivatives_are_torchs_nodes_and_the_fast_path_records_nothing():
    x, g = _inputs(0)
    y = F.grid_sample(x, g, mode="bicubic", padding_mode="reflection", align_corners=False)
    fast = ember.autograd.grad(y.sum(), (x, g), retain_graph=True)
    assert all(t.grad_fn is None and not t.requires_grad for t in fast)
    gx, gg = ember.autograd.grad(y.sum(), (x, g), create_graph=True)
    assert gx.grad_fn.name() == gg.grad_fn.name() == "GridSampler2DBackwardBackward0"
    np.testing.assert_array_equal(gx.detach().numpy(), fast[0].numpy())
    np.testing.assert_array_equal(gg.detach().numpy(), fast[1].numpy())


def test_only_the_input_requires_grad():
    # the node then makes grad_input alone; its second derivative reaches the grid's
    # incoming gradient only through grad, which is linear
    x, g = _inputs(3, grid_requires_grad=False)
    assert ember.autograd.gradgradcheck(
        lambda a: F.grid_sample(a, g, mode="bilinear", align_corners=True), (x,))
    (gx,) = ember.autograd.grad(F.grid_sample(x, g, align_corners=True).sum(), x,
                                create_graph=True)
    assert gx.grad_fn.name() == "GridSampler2DBackwardBackward0"


def test_grid_gradient_of_the_grid_gradient():
    # d/dgrid of a function of grad_grid only: the input held constant
    x, g = _inputs(4)
    x = x.detach()
    assert ember.autograd.gradgradcheck(
        lambda b: F.grid_sample(x, b, mode="bicubic", padding_mode="border",
                                align_corners=True), (g,))


@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_gradgradcheck(align_corners):
    theta = ember.tensor(np.random.default_rng(1).standard_normal((2, 2, 3)),
                         requires_grad=True)
    assert ember.autograd.gradgradcheck(
        lambda t: F.affine_grid(t, (2, 1, 3, 4), align_corners=align_corners) ** 2, (theta,))
    grid = F.affine_grid(theta, (2, 1, 3, 4), align_corners=align_corners)
    fast = ember.autograd.grad((grid ** 2).sum(), theta, retain_graph=True)[0]
    assert fast.grad_fn is None
    (recorded,) = ember.autograd.grad((grid ** 2).sum(), theta, create_graph=True)
    assert recorded.grad_fn.name() == "TransposeBackward0"
    np.testing.assert_allclose(recorded.detach().numpy(), fast.numpy(), rtol=1e-14,
                               atol=1e-14)


def test_warp_then_sample_double_backward():
    # the usual chain: theta -> affine_grid -> grid_sample, a gradient penalty on the input
    rng = np.random.default_rng(2)
    theta = ember.tensor(rng.standard_normal((1, 2, 3)) * 0.5, requires_grad=True)
    x = ember.tensor(rng.standard_normal((1, 1, 4, 4)), requires_grad=True)
    assert ember.autograd.gradgradcheck(
        lambda t, a: F.grid_sample(a, F.affine_grid(t, (1, 1, 3, 3), align_corners=False),
                                   align_corners=False), (theta, x))

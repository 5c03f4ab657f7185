"""Second derivatives through F.grid_sample and F.affine_grid against torch's
(``GridSampler2DBackwardBackward0``): first derivatives under create_graph, their grad_fn
names, then the gradients of a random projection of them with respect to the input, the grid
and the incoming gradient."""
import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ember  # noqa: E402
import ember.nn.functional as EF  # noqa: E402
import torch.nn.functional as TF  # noqa: E402

COMBOS = list(itertools.product(["bilinear", "nearest", "bicubic"],
                                ["zeros", "border", "reflection"], [False, True]))


def _arrays(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 2, 4, 5))
    grid = rng.standard_normal((2, 3, 3, 2)) * 1.5  # a third of the points past [-1, 1]
    go = rng.standard_normal((2, 2, 3, 3))
    return x, grid, go, rng.standard_normal(x.shape), rng.standard_normal(grid.shape)


def _second(T, F, arrays, **kw):
    x, grid, go, vx, vg = (T.tensor(a, dtype=T.float64, requires_grad=True) for a in arrays)
    y = F.grid_sample(x, grid, **kw)
    gx, gg = T.autograd.grad(y, (x, grid), go, create_graph=True)
    names = [gx.grad_fn.name(), gg.grad_fn.name()]
    projection = (gx * vx.detach()).sum() + (gg * vg.detach()).sum()
    second = T.autograd.grad(projection, (x, grid, go), allow_unused=True)
    return names, [gx.detach().numpy(), gg.detach().numpy()], second


def _assert_close(got, want, rtol, atol):
    for g, w in zip(got, want):
        if g is None and w is None:
            continue
        # an unused gradient: None on one side, zeros on the other (nearest's grid)
        ref = (w if w is not None else g).numpy()
        g = np.zeros_like(ref) if g is None else g.numpy()
        w = np.zeros_like(ref) if w is None else w.numpy()
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


@pytest.mark.parametrize("mode,padding_mode,align_corners", COMBOS)
def test_grid_sample_second_derivatives_match_torch(mode, padding_mode, align_corners):
    arrays = _arrays(len(mode) * 7 + len(padding_mode) + align_corners)
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    t_names, t_first, t_second = _second(torch, TF, arrays, **kw)
    e_names, e_first, e_second = _second(ember, EF, arrays, **kw)
    assert e_names == t_names == ["GridSampler2DBackwardBackward0"] * 2
    tol = 1e-12 if mode != "bicubic" else 1e-11
    for e, t in zip(e_first, t_first):
        np.testing.assert_allclose(e, t, rtol=tol, atol=tol)
    _assert_close(e_second, t_second, rtol=tol, atol=tol)


def _affine_second(T, F, theta, v, align_corners):
    theta = T.tensor(theta, dtype=T.float64, requires_grad=True)
    grid = F.affine_grid(theta, (2, 3, 4, 5), align_corners=align_corners)
    (gt,) = T.autograd.grad((grid ** 3).sum(), theta, create_graph=True)
    (second,) = T.autograd.grad((gt * T.tensor(v)).sum(), theta)
    return gt.grad_fn.name(), gt.detach().numpy(), second.numpy()


@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_second_derivatives_match_torch(align_corners):
    rng = np.random.default_rng(4)
    theta, v = rng.standard_normal((2, 2, 3)), rng.standard_normal((2, 2, 3))
    t_name, t_first, t_second = _affine_second(torch, TF, theta, v, align_corners)
    e_name, e_first, e_second = _affine_second(ember, EF, theta, v, align_corners)
    assert e_name == t_name
    np.testing.assert_allclose(e_first, t_first, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(e_second, t_second, rtol=1e-12, atol=1e-12)


def _penalty_grads(T, F, arrays):
    """A spatial-transformer gradient penalty: theta -> affine_grid -> grid_sample, the norm
    of d(out)/d(input) differentiated with respect to theta and the input."""
    theta, x, w = (T.tensor(a, dtype=T.float64, requires_grad=True) for a in arrays)
    grid = F.affine_grid(theta, (1, 2, 4, 4), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection",
                        align_corners=False)
    (gx,) = T.autograd.grad((out * w).sum() ** 2, x, create_graph=True)
    return [g.numpy() for g in T.autograd.grad((gx ** 2).sum(), (theta, x, w))]


def test_spatial_transformer_gradient_penalty_matches_torch():
    rng = np.random.default_rng(6)
    arrays = [rng.standard_normal((1, 2, 3)) * 0.8, rng.standard_normal((1, 2, 5, 5)),
              rng.standard_normal((1, 2, 4, 4))]
    got = _penalty_grads(ember, EF, arrays)
    want = _penalty_grads(torch, TF, arrays)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


def _third(T, F, arrays, **kw):
    x, grid, go, vx, vg = (T.tensor(a, dtype=T.float64, requires_grad=True) for a in arrays)
    gx, gg = T.autograd.grad(F.grid_sample(x, grid, **kw), (x, grid), go, create_graph=True)
    second = T.autograd.grad((gx * vx.detach()).sum() + (gg * vg.detach()).sum(),
                             (x, grid, go), create_graph=True)
    energy = sum((s * s).sum() for s in second)
    return [g.numpy() for g in T.autograd.grad(energy, (x, grid, go))]


@pytest.mark.parametrize("mode,padding_mode", [("bilinear", "zeros"),
                                               ("bicubic", "reflection")])
def test_grid_sample_third_derivatives_match_torch(mode, padding_mode):
    # the composite's own graph is differentiated once more
    arrays = _arrays(11)
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=False)
    for e, t in zip(_third(ember, EF, arrays, **kw), _third(torch, TF, arrays, **kw)):
        np.testing.assert_allclose(e, t, rtol=1e-9, atol=1e-10)

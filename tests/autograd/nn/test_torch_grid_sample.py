"""F.grid_sample / F.affine_grid against torch: values (bit for bit in the bilinear and
nearest forwards, as ember_vision's warps need; bicubic to rounding), gradients, grad_fn
names, errors, warnings; gradcheck in float64."""
import warnings

import numpy as np
import pytest

import ember
import ember.nn.functional as EF

torch = pytest.importorskip("torch")
TF = torch.nn.functional

MODES = ["bilinear", "nearest", "bicubic"]
PADDINGS = ["zeros", "border", "reflection"]


def _case(dtype, seed=0, n=2, c=3, h=7, w=9, oh=5, ow=6):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    # spread past [-1, 1] so padding matters; exact edges and centre included
    g = (rng.standard_normal((n, oh, ow, 2)) * 1.5).astype(dtype)
    g[0, 0, :3] = [[-1, 1], [1, -1], [0, 0]]
    go = rng.standard_normal((n, c, oh, ow)).astype(dtype)
    return x, g, go


def _run(lib, F, x, g, go, **kw):
    xt = lib.tensor(x, requires_grad=True)
    gt = lib.tensor(g, requires_grad=True)
    out = F.grid_sample(xt, gt, **kw)
    out.backward(lib.tensor(go))
    return out, xt.grad.numpy(), gt.grad.numpy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", PADDINGS)
@pytest.mark.parametrize("mode", MODES)
def test_grid_sample_matches_torch(mode, padding_mode, align_corners, dtype):
    x, g, go = _case(dtype)
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    out, gx, gg = _run(ember, EF, x, g, go, **kw)
    ref, rgx, rgg = _run(torch, TF, x, g, go, **kw)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    if mode == "bicubic":  # torch's fused multiply-adds there are not reproduced
        np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=tol,
                                   atol=tol)
    else:
        np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())
    assert type(out.grad_fn).__name__ == type(ref.grad_fn).__name__ == "GridSampler2DBackward0"
    np.testing.assert_allclose(gx, rgx, rtol=tol, atol=tol)
    np.testing.assert_allclose(gg, rgg, rtol=tol, atol=tol)


def test_grid_sample_large_and_threads_match_torch():
    # big enough to run the kernels' OpenMP paths; a rotation grid as the warps make
    x = np.random.default_rng(1).standard_normal((2, 4, 64, 80)).astype(np.float32)
    th = np.array([[[0.8, -0.6, 0.1], [0.6, 0.8, -0.05]]] * 2, np.float32)
    grid = TF.affine_grid(torch.tensor(th), [2, 4, 70, 90], align_corners=False).numpy()
    go = np.ones((2, 4, 70, 90), np.float32)
    out, gx, gg = _run(ember, EF, x, grid, go, align_corners=False)
    ref, rgx, rgg = _run(torch, TF, x, grid, go, align_corners=False)
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())
    np.testing.assert_allclose(gx, rgx, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gg, rgg, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("channels", [1, 3, 16])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", PADDINGS)
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_blocks_match_torch(mode, padding_mode, align_corners, channels):
    # odd sizes, rows of 131 points (two of the kernel's 64-point blocks and a tail), a
    # batch of two
    x, g, go = _case(np.float32, seed=5, n=2, c=channels, h=9, w=11, oh=3, ow=131)
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    out, gx, gg = _run(ember, EF, x, g, go, **kw)
    ref, rgx, rgg = _run(torch, TF, x, g, go, **kw)
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())
    np.testing.assert_allclose(gx, rgx, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gg, rgg, rtol=1e-4, atol=1e-4)
    # NaN and far-out points, forward only (torch's backward crashes on them)
    g[1, 2, :4] = [[np.nan, 0], [0, np.nan], [1e30, -1e30], [-7.5, 3.25]]
    out = EF.grid_sample(ember.tensor(x), ember.tensor(g), **kw)
    ref = TF.grid_sample(torch.tensor(x), torch.tensor(g), **kw)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


def test_grid_sample_only_grid_requires_grad():
    x, g, go = _case(np.float64)
    gt = ember.tensor(g, requires_grad=True)
    EF.grid_sample(ember.tensor(x), gt, align_corners=True).backward(ember.tensor(go))
    rt = torch.tensor(g, requires_grad=True)
    TF.grid_sample(torch.tensor(x), rt, align_corners=True).backward(torch.tensor(go))
    np.testing.assert_allclose(gt.grad.numpy(), rt.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", PADDINGS)
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_grid_sample_gradcheck(mode, padding_mode, align_corners):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 2, 4, 5))
    # random points (none on a pixel or an edge, where the sampling has kinks), a few outside
    g = rng.uniform(-1.3, 1.3, (1, 3, 3, 2))
    xt = ember.tensor(x, requires_grad=True)
    gt = ember.tensor(g, requires_grad=True)
    assert ember.autograd.gradcheck(
        lambda a, b: EF.grid_sample(a, b, mode=mode, padding_mode=padding_mode,
                                    align_corners=align_corners), (xt, gt))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [[2, 3, 5, 7], [2, 1, 1, 4], [2, 1, 16, 16]])
def test_affine_grid_matches_torch(size, align_corners, dtype):
    th = np.random.default_rng(2).standard_normal((2, 2, 3)).astype(dtype)
    go = np.random.default_rng(3).standard_normal((2, size[2], size[3], 2)).astype(dtype)
    res = []
    for lib, F in ((ember, EF), (torch, TF)):
        t = lib.tensor(th, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = F.affine_grid(t, size, align_corners=align_corners)
        out.backward(lib.tensor(go))
        res.append((out.detach().numpy(), t.grad.numpy(), type(out.grad_fn).__name__))
    (a, ga, na), (b, gb, nb) = res
    if dtype == np.float32:
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ga, gb, rtol=1e-5, atol=1e-5)
    assert na == nb == "AffineGridGeneratorBackward0"


def _error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the type is what is compared
        return type(e).__name__, str(e)
    return None


BAD_GRID_SAMPLE = [
    ((1, 2, 3, 4), (2, 2, 2, 2), {}),
    ((1, 2, 3, 4), (1, 2, 2, 3), {}),
    ((2, 3, 4), (1, 2, 2, 2), {}),
    ((1, 2, 3, 4), (1, 2, 2), {}),
    ((1, 2, 0, 4), (1, 2, 2, 2), {}),
    ((1, 2, 3, 4), (1, 2, 2, 2), {"mode": "linear"}),
    ((1, 2, 3, 4), (1, 2, 2, 2), {"padding_mode": "wrap"}),
]


@pytest.mark.parametrize("xs, gs, kw", BAD_GRID_SAMPLE)
def test_grid_sample_errors_match_torch(xs, gs, kw):
    got = _error(lambda: EF.grid_sample(ember.rand(*xs), ember.rand(*gs), align_corners=False,
                                        **kw))
    want = _error(lambda: TF.grid_sample(torch.rand(*xs), torch.rand(*gs), align_corners=False,
                                         **kw))
    assert got == want and want is not None


def test_grid_sample_dtype_errors_match_torch():
    for xd, gd in (("float64", "float32"), ("int64", "int64")):
        got = _error(lambda: EF.grid_sample(ember.ones(1, 1, 2, 2, dtype=getattr(ember, xd)),
                                            ember.zeros(1, 1, 1, 2, dtype=getattr(ember, gd)),
                                            align_corners=False))
        want = _error(lambda: TF.grid_sample(torch.ones(1, 1, 2, 2, dtype=getattr(torch, xd)),
                                             torch.zeros(1, 1, 1, 2, dtype=getattr(torch, gd)),
                                             align_corners=False))
        assert got == want


@pytest.mark.parametrize("shape, size", [((2, 2, 3), [1, 3, 4, 5]), ((1, 3, 4), [1, 3, 4, 5]),
                                         ((1, 2, 3), [1, 3, 4]), ((1, 2, 3), [1, 3, 0, 5])])
def test_affine_grid_errors_match_torch(shape, size):
    got = _error(lambda: EF.affine_grid(ember.rand(*shape), size, align_corners=False))
    want = _error(lambda: TF.affine_grid(torch.rand(*shape), size, align_corners=False))
    assert want is not None
    assert got == (want[0], want[1].replace("torch.Size", "ember.Size"))  # README: reprs


def test_align_corners_default_warns_as_torch():
    for F, lib in ((EF, ember), (TF, torch)):
        with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
            F.grid_sample(lib.rand(1, 1, 2, 2), lib.zeros(1, 1, 1, 2))
        with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
            F.affine_grid(lib.rand(1, 2, 3), [1, 1, 2, 2])

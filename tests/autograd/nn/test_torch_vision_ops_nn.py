"""The vision-model ops (``vision_ops_cases``) against live torch: values, dtypes, grad_fn
names, gradients; module reprs; error types and words for bad arguments."""
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))

torch = pytest.importorskip("torch")

import ember  # noqa: E402
import ember.nn.functional as EF  # noqa: E402
import torch.nn.functional as TF  # noqa: E402

from nn_compare import run_case  # noqa: E402
from vision_ops_cases import CASES, REPRS  # noqa: E402


@pytest.mark.parametrize("name,specs,fn", CASES, ids=[c[0] for c in CASES])
def test_case_matches_torch(name, specs, fn):
    tv, tn, tg, arrays = run_case(torch, TF, specs, fn, seed=7)
    ev, en, eg, _ = run_case(ember, EF, specs, fn, seed=7, inputs=arrays)
    assert en == tn
    for e, t in zip(ev, tv, strict=True):
        assert e.shape == t.shape and e.dtype == t.dtype
        np.testing.assert_allclose(e, t, rtol=1e-10, atol=1e-12)
    for e, t in zip(eg, tg, strict=True):
        assert (e is None) == (t is None)
        if t is not None:
            np.testing.assert_allclose(e, t, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("make", REPRS)
def test_repr_matches_torch(make):
    assert repr(make(ember.nn)) == repr(make(torch.nn))


@pytest.mark.parametrize("mode,shape,kw", [
    ("bilinear", (2, 3, 5, 7), dict(size=(9, 4))),
    ("bilinear", (1, 1, 3, 3), dict(size=(64, 48))),
    ("bilinear", (2, 3, 5, 7), dict(scale_factor=1.5, align_corners=True)),
    ("nearest", (2, 3, 5, 7), dict(scale_factor=(2.3, 0.7))),
    ("linear", (2, 3, 9), dict(size=5)),
])
def test_interpolate_float32(mode, shape, kw):
    """float32 source positions are computed in float32, as torch's kernels do."""
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    want = TF.interpolate(torch.tensor(x), mode=mode, **kw).numpy()
    got = EF.interpolate(ember.tensor(x), mode=mode, **kw).numpy()
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_interpolate_uint8_nearest():
    x = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(1, 3, 4, 5)
    want = TF.interpolate(torch.tensor(x), size=(7, 3)).numpy()
    np.testing.assert_array_equal(EF.interpolate(ember.tensor(x), size=(7, 3)).numpy(), want)


def _error(call):
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the type and words are what we compare
        return type(exc), str(exc)
    return None


BAD_CALLS = [
    lambda T, F: F.interpolate(T.ones(1, 2, 4), size=3, mode="bilinear"),
    lambda T, F: F.interpolate(T.ones(1, 2, 4, 4), size=3, mode="linear"),
    lambda T, F: F.interpolate(T.ones(1, 2, 4, 4), size=3, mode="foo"),
    lambda T, F: F.interpolate(T.ones(1, 2, 4, 4).long(), size=3, mode="bilinear"),
    lambda T, F: F.interpolate(T.ones(1, 2, 4, 4).long(), size=3, mode="nearest-exact"),
    lambda T, F: F.interpolate(T.ones(1, 2, 4).long(), size=3, mode="linear"),
    lambda T, F: F.interpolate(T.ones(1, 2, 4).long(), size=3),
    lambda T, F: F.interpolate(T.ones(1, 2, 4, 4), size=3, align_corners=True),
    lambda T, F: F.interpolate(T.ones(1, 2, 4, 4), size=3, scale_factor=2),
    lambda T, F: F.interpolate(T.ones(1, 2, 4, 4)),
    lambda T, F: F.interpolate(T.ones(1, 2, 4, 4), size=(3, 4, 5)),
    lambda T, F: F.interpolate(T.ones(1, 2, 4, 4), scale_factor=(3, 4, 5)),
    lambda T, F: F.interpolate(T.ones(1, 2, 4, 4), scale_factor=0.1),
    lambda T, F: F.interpolate(T.ones(1, 2, 4, 4), size=3, recompute_scale_factor=True),
    lambda T, F: F.interpolate(T.ones(1, 2, 4), size=3, mode="linear", antialias=True),
    lambda T, F: F.adaptive_max_pool2d(T.ones(2, 3), 2),
    lambda T, F: F.adaptive_max_pool2d(T.ones(1, 2, 0, 3), 2),
    lambda T, F: F.adaptive_max_pool2d(T.ones(1, 2, 4, 3).long(), 2),
    lambda T, F: F.adaptive_max_pool2d(T.ones(1, 2, 4, 3), (2, 3, 4)),
    lambda T, F: F.adaptive_max_pool2d(T.ones(1, 2, 4, 3), -1),
    lambda T, F: F.hardswish(T.arange(3)),
    lambda T, F: F.hardsigmoid(T.arange(3)),
    lambda T, F: F.silu(T.arange(3)),
    lambda T, F: F.hardtanh(T.ones(3), 2.0, 1.0),
    lambda T, F: F.hardswish(T.ones(3, requires_grad=True), inplace=True),
    lambda T, F: F.channel_shuffle(T.ones(1, 5, 2, 2), 2),
    lambda T, F: F.channel_shuffle(T.ones(5), 2),
    lambda T, F: F.channel_shuffle(T.ones(1, 4, 2), 0),
]


@pytest.mark.parametrize("call", BAD_CALLS)
def test_errors_match_torch(call):
    want = _error(lambda: call(torch, TF))
    assert want is not None
    assert _error(lambda: call(ember, EF)) == want


def test_activation_nan_and_boundaries():
    """torch's vectorised rules at the kinks (x = +-3, hardtanh's bounds) and for NaN/inf,
    placed where torch's vector loop (not its scalar tail) handles them."""
    special = [np.nan, 3.0, -3.0, np.inf, -np.inf, 0.0, 6.0, -1.0, 1.0]
    for dtype in (np.float32, np.float64):
        x = np.concatenate([special, np.linspace(-5, 5, 119)]).astype(dtype)
        for name in ("hardswish", "hardsigmoid", "silu", "relu6", "hardtanh"):
            t = torch.tensor(x, requires_grad=True)
            e = ember.tensor(x, requires_grad=True)
            to, eo = getattr(TF, name)(t), getattr(EF, name)(e)
            to.sum().backward()
            eo.sum().backward()
            np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=1e-6)
            np.testing.assert_allclose(e.grad.numpy()[:9], t.grad.numpy()[:9], rtol=1e-6)

"""conv2d's memoised forward plans (``nn/conv.py``: ``_plan``): a repeated call with the same
shapes takes its checks, geometry and shape-only route from a dict. These tests make sure
the lookup never changes a result, never skips a check a differing call must fail, and
leaves the per-call choices (the Winograd switch) per call."""
import pathlib
import sys

import numpy as np
import pytest

from ember_tensor import from_numpy
from ember_tensor.nn import conv, winograd

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from test_nn_kernels import conv_reference  # noqa: E402


# (x shape, w shape, bias, stride, padding, groups): one per route of conv2d's plan
CASES = [
    ((1, 64, 16, 16), (128, 64, 1, 1), False, 2, 0, 1),   # 1x1/2 downsample, one image
    ((3, 16, 8, 8), (32, 16, 1, 1), True, 2, 0, 1),       # the batched downsample
    ((2, 32, 9, 9), (32, 32, 3, 3), True, 1, 1, 1),       # 3x3 (Winograd shape)
    ((2, 3, 20, 20), (8, 3, 7, 7), True, 2, 3, 1),        # stem
    ((2, 8, 10, 10), (8, 1, 3, 3), False, 1, 1, 8),       # depthwise
    ((2, 8, 10, 10), (12, 4, 3, 3), True, 2, 1, 2),       # grouped, im2col
    ((4, 9, 9), (5, 4, 3, 3), False, 1, 0, 1),            # unbatched
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES)
def test_repeated_calls_same_bits_and_right(case, dtype):
    xs, ws, has_b, stride, pad, groups = case
    rng = np.random.default_rng(sum(xs) + sum(ws))
    x = rng.standard_normal(xs).astype(dtype)
    w = (rng.standard_normal(ws) * 0.1).astype(dtype)
    b = rng.standard_normal(ws[0]).astype(dtype) if has_b else None
    args = (from_numpy(x), from_numpy(w), None if b is None else from_numpy(b),
            stride, pad, 1, groups)
    conv._plans.clear()
    first = conv.conv2d(*args).numpy()
    again = [conv.conv2d(*args).numpy() for _ in range(3)]
    for a in again:
        np.testing.assert_array_equal(a, first)
    unbatched = len(xs) == 3
    ref = conv_reference((x[None] if unbatched else x).astype(np.float64), w.astype(np.float64),
                         b, (stride, stride), (pad, pad), (1, 1), groups)
    ref = ref[0] if unbatched else ref
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(first, ref, rtol=tol, atol=tol * np.abs(ref).max())


def _error(fn):
    with pytest.raises(Exception) as info:
        fn()
    return type(info.value), str(info.value)


def test_a_call_that_differs_from_a_planned_one_is_still_checked():
    x = from_numpy(np.ones((1, 4, 6, 6), np.float32))
    w = from_numpy(np.ones((8, 4, 1, 1), np.float32))
    conv.conv2d(x, w, None, 2, 0)  # planned
    w64 = from_numpy(np.ones((8, 4, 1, 1), np.float64))
    bad_bias = from_numpy(np.ones(7, np.float32))
    bias64 = from_numpy(np.ones(8, np.float64))
    wrong = [
        (lambda: conv.conv2d(x, w64, None, 2, 0), RuntimeError, "expected scalar type"),
        (lambda: conv.conv2d(x, w, bad_bias, 2, 0), RuntimeError, "expected bias"),
        (lambda: conv.conv2d(x, w, bias64, 2, 0), RuntimeError, "bias type"),
        (lambda: conv.conv2d(x, w, None, 2.0, 0), TypeError, ""),  # 2.0 == 2, but no int
        (lambda: conv.conv2d(x, w, None, 2, 0, 1, 2), RuntimeError, "channels"),
        (lambda: conv.conv2d(x, w, None, 0, 0), RuntimeError, "non-positive stride"),
    ]
    for fn, kind, words in wrong:
        first = _error(fn)
        assert first[0] is kind and words in first[1]
        assert _error(fn) == first  # a failed check stores no plan: it fails again


def test_winograd_switch_is_read_per_call(monkeypatch):
    seen = []
    real = conv._winograd_conv3x3
    monkeypatch.setattr(conv, "_winograd_conv3x3", lambda *a, **k: seen.append(1) or real(*a, **k))
    monkeypatch.setattr(winograd, "_ENABLED", True)
    rng = np.random.default_rng(3)
    x = from_numpy(rng.standard_normal((1, 64, 16, 16)).astype(np.float32))
    w = from_numpy(rng.standard_normal((64, 64, 3, 3)).astype(np.float32))
    conv.conv2d(x, w, None, 1, 1)
    on = len(seen)
    assert on == 1  # the shape Winograd takes (test_winograd checks the rule itself)
    winograd.set_enabled(False)
    conv.conv2d(x, w, None, 1, 1)
    assert len(seen) == on
    winograd.set_enabled(True)
    conv.conv2d(x, w, None, 1, 1)
    assert len(seen) == on + 1


def test_plans_stay_bounded(monkeypatch):
    monkeypatch.setattr(conv, "_PLANS_MAX", 4)
    conv._plans.clear()
    w = from_numpy(np.ones((2, 1, 1, 1), np.float32))
    for side in range(1, 12):
        out = conv.conv2d(from_numpy(np.ones((1, 1, side, side), np.float32)), w)
        assert out.shape == (1, 2, side, side)
        assert len(conv._plans) <= 4

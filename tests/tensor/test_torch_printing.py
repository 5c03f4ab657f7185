"""format_tensor against live torch on randomly drawn tensors and print options."""
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ember_tensor import _printing  # noqa: E402
from ember_tensor._array import Array  # noqa: E402

DTYPES = [torch.float32, torch.float64, torch.float16, torch.int64, torch.int32, torch.int8,
          torch.uint8, torch.bool]
OPTION_SETS = [{}, {"precision": 2}, {"precision": 6}, {"sci_mode": True},
               {"sci_mode": False}, {"linewidth": 50}, {"threshold": 20},
               {"edgeitems": 2, "threshold": 30}, {"profile": "short"}]


@pytest.fixture(autouse=True)
def _restore():
    yield
    torch.set_printoptions(profile="default")
    _printing.set_printoptions(profile="default")


def _draw(rng):
    nd = int(rng.integers(0, 5))
    shape = tuple(int(s) for s in rng.integers(0 if rng.random() < 0.05 else 1, 7, size=nd))
    if rng.random() < 0.1:
        shape = (int(rng.integers(1, 1500)),)
    dtype = DTYPES[int(rng.integers(len(DTYPES)))]
    if dtype.is_floating_point:
        scale = 10.0 ** rng.uniform(-9, 11)
        x = rng.standard_normal(shape) * scale
        if rng.random() < 0.3:
            x = np.round(x)
        if rng.random() < 0.15 and x.size:
            flat = x.reshape(-1)
            flat[rng.integers(x.size, size=max(1, x.size // 5))] = rng.choice(
                [math.nan, math.inf, -math.inf, 0.0])
        t = torch.from_numpy(np.asarray(x)).to(dtype)
    elif dtype == torch.bool:
        t = torch.from_numpy(np.asarray(rng.random(shape) > 0.5))
    else:
        info = torch.iinfo(dtype)
        hi = min(info.max, 10 ** int(rng.integers(1, 12)))
        lo = max(info.min, -hi)
        t = torch.from_numpy(np.asarray(rng.integers(lo, hi, size=shape))).to(dtype)
    return t


@pytest.mark.parametrize("seed", range(300))
def test_random_tensor_repr(seed):
    rng = np.random.default_rng(seed)
    t = _draw(rng)
    opts = OPTION_SETS[seed % len(OPTION_SETS)]
    torch.set_printoptions(**opts)
    _printing.set_printoptions(**opts)
    want = repr(t).replace("torch.", "ember.")
    assert _printing.format_tensor(Array(t.numpy().copy())) == want


@pytest.mark.parametrize("seed", range(40))
def test_requires_grad_suffix_wraps_as_torch(seed):
    rng = np.random.default_rng(1000 + seed)
    n = int(rng.integers(1, 12))
    t = torch.from_numpy(rng.standard_normal(n) * 10.0 ** rng.uniform(-2, 4)).float()
    t.requires_grad_(True)
    if seed % 2:
        t = t * 1
        suffix = "grad_fn=<MulBackward0>"
    else:
        suffix = "requires_grad=True"
    want = repr(t).replace("torch.", "ember.")
    assert _printing.format_tensor(Array(t.detach().numpy().copy()), (suffix,)) == want


def test_noncontiguous_and_views():
    x = torch.randn(6, 8)
    for view in (x.t(), x[::2, 1::3], x[:, 0], x[3]):
        assert (_printing.format_tensor(Array(view.numpy()))
                == repr(view).replace("torch.", "ember."))

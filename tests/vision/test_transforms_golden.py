"""ember_vision.transforms (v1 and v2) against torchvision's outputs stored by
tools/make_golden_transforms.py, without torch: deterministic functions on PIL, uint8 and
float inputs; random transforms replaying torchvision's recorded draws (so the order and
kind of draws is checked too); and the distributions ember's own generator gives."""
import json
import pathlib
import random

import numpy as np
import pytest
from PIL import Image

import ember
import ember_vision.transforms as ET
import ember_vision.transforms.v2 as ET2
from ember_vision.transforms import _rng
from ember_vision.transforms import functional as F1
from ember_vision.transforms.v2 import functional as F2

GOLDEN = pathlib.Path(__file__).parent / "golden"
ARRAYS = np.load(GOLDEN / "transforms_functional.npz")
SPEC = json.loads((GOLDEN / "transforms_functional.json").read_text())
RANDOM_ARRAYS = np.load(GOLDEN / "transforms_random.npz")
RANDOM_CASES = json.loads((GOLDEN / "transforms_random.json").read_text())


def _input(kind):
    if kind == "pil":
        return Image.fromarray(ARRAYS["hwc"])
    return ember.from_numpy(ARRAYS[kind].copy())


def _np(out):
    return np.asarray(out) if isinstance(out, Image.Image) else out.numpy()


def assert_matches(ours, expected):
    assert ours.shape == expected.shape and ours.dtype == expected.dtype
    if expected.dtype == np.uint8:
        # within 1/255 everywhere, and equal almost everywhere
        d = np.abs(ours.astype(np.int32) - expected.astype(np.int32))
        assert d.max() <= 1 and (d > 0).mean() < 0.02
    else:
        np.testing.assert_allclose(ours, expected, atol=3e-5, rtol=1e-5)


FUNCTIONAL = [(api, name, call, kind)
              for api in ("v1", "v2")
              for name, call in SPEC["cases"] + SPEC["uint8_only"]
              for kind in (("u8", "f32", "pil") if [name, call] in SPEC["cases"]
                           else ("u8", "pil"))]


@pytest.mark.parametrize("api,name,call,kind", FUNCTIONAL,
                         ids=[f"{a}-{n}-{k}" for a, n, _, k in FUNCTIONAL])
def test_functional_matches_torchvision(api, name, call, kind):
    F = F1 if api == "v1" else F2
    out = eval(call, {"F": F, "IM": ET.InterpolationMode, "x": _input(kind)})
    assert_matches(_np(out), ARRAYS[f"{api}/{name}/{kind}"])


class _Replay:
    """Answers ember_vision's draw helpers with torchvision's recorded draws, checking that
    each call is the one torchvision made at that point."""

    def __init__(self, draws):
        self.draws = list(draws)

    def helper(self, name):
        def answer(*args):
            assert self.draws, f"an extra draw: {name}{args}"
            want_name, want_args, value = self.draws.pop(0)
            assert (name, [np.asarray(a).tolist() for a in args]) == (want_name, want_args)
            if name in ("normal", "rand_tensor"):
                return ember.from_numpy(np.asarray(value, dtype=np.float32))
            if name == "dirichlet":
                return np.asarray(value, dtype=np.float32)
            return value
        return answer


@pytest.mark.parametrize("case", RANDOM_CASES, ids=[f"{c['api']}-{c['expr'][:40]}-{c['kind']}"
                                                    for c in RANDOM_CASES])
def test_random_transforms_replay_torchvisions_draws(monkeypatch, case):
    module = ET if case["api"] == "v1" else ET2
    t = eval(case["expr"], dict(vars(module), DTYPE=ember))
    assert repr(t) == case["repr"].replace("torch.", "ember.")
    replay = _Replay(case["draws"])
    for name in ("rand", "uniform", "randint", "randperm", "normal", "dirichlet", "multinomial",
                 "rand_tensor"):
        monkeypatch.setattr(_rng, name, replay.helper(name))
    random.seed(case["python_seed"])  # RandomOrder/RandomChoice (v1) draw from Python's
    out = t(_input(case["kind"]))
    assert not replay.draws, f"draws left over: {replay.draws[:3]}"
    assert_matches(_np(out), RANDOM_ARRAYS[case["key"]])


# ---------------------------------------------------------------- ember's own generator

def test_seeded_transforms_repeat_and_flip_rate():
    t = ET.RandomHorizontalFlip(p=0.3)
    img = _input("u8")
    ember.manual_seed(0)
    flips = [not np.array_equal(_np(t(img)), ARRAYS["u8"]) for _ in range(2000)]
    assert abs(np.mean(flips) - 0.3) < 0.04
    ember.manual_seed(5)
    first = [_np(ET.RandomRotation(30)(img)) for _ in range(3)]
    ember.manual_seed(5)
    again = [_np(ET.RandomRotation(30)(img)) for _ in range(3)]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))


def test_parameter_distributions():
    ember.manual_seed(1)
    crops = [ET.RandomCrop.get_params(_input("u8"), (4, 5))[:2] for _ in range(3000)]
    tops, lefts = np.array(crops).T
    assert set(tops) == set(range(6)) and set(lefts) == set(range(7))
    assert np.bincount(lefts).min() > 300  # uniform over the 7 offsets (~428 each)
    jitter = [ET.ColorJitter.get_params((0.5, 1.5), None, None, (-0.2, 0.1))
              for _ in range(2000)]
    b = np.array([j[1] for j in jitter])
    h = np.array([j[4] for j in jitter])
    assert 0.5 <= b.min() and b.max() < 1.5 and abs(b.mean() - 1.0) < 0.03
    assert -0.2 <= h.min() and h.max() < 0.1 and abs(h.mean() + 0.05) < 0.01
    assert all(sorted(j[0]) == [0, 1, 2, 3] for j in jitter[:50])
    angles = [ET.RandomAffine.get_params([-10, 20], [0.1, 0.2], [0.9, 1.1], [-5, 5], [23, 17])
              for _ in range(2000)]
    a = np.array([x[0] for x in angles])
    tx = np.array([x[1][0] for x in angles])
    assert -10 <= a.min() and a.max() < 20 and abs(a.mean() - 5) < 0.6
    assert set(tx) <= set(range(-2, 3))
    ember.manual_seed(2)
    ops = [_rng.randint(0, 14) for _ in range(2800)]
    assert np.bincount(ops, minlength=14).min() > 140


def test_v2_structures_pass_through():
    img = _input("u8")
    label = ember.tensor([3])
    out_img, out_label = ET2.RandomVerticalFlip(p=1.0)(img, label)
    assert out_label is label
    np.testing.assert_array_equal(_np(out_img), ARRAYS["u8"][:, ::-1])
    sample = ET2.Compose([ET2.ToImage(), ET2.ToDtype(ember.float32, scale=True)])(
        {"image": _input("pil"), "id": 7})
    assert sample["id"] == 7 and sample["image"].dtype == ember.float32
    from_array = ET2.ToImage()(ARRAYS["hwc"])
    np.testing.assert_array_equal(_np(from_array), ARRAYS["hwc"].transpose(2, 0, 1))
    np.testing.assert_allclose(_np(sample["image"]),
                               ARRAYS["hwc"].transpose(2, 0, 1) * np.float32(1 / 255))


def test_errors():
    with pytest.raises(ValueError, match="Padding mode should be either constant"):
        ET.Pad(2, padding_mode="wrap")
    with pytest.raises(ValueError, match=r"kernel_size should have odd and positive"):
        F1.gaussian_blur(_input("u8"), 4)
    with pytest.raises(TypeError, match="Only torch.uint8 image tensors are supported"):
        F1.posterize(_input("f32"), 3)
    with pytest.raises(ValueError, match="Interpolation mode 'bicubic' is unsupported"):
        F1.rotate(_input("u8"), 10.0, interpolation=ET.InterpolationMode.BICUBIC)
    with pytest.raises(ValueError, match=r"Required crop size \(30, 30\) is larger"):
        ET.RandomCrop(30)(_input("u8"))

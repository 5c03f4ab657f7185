"""Write tests/vision/golden/transforms_*: torchvision's outputs for ember_vision.transforms'
default-suite tests (which run without torch).

- transforms_functional.npz: deterministic functions (v1 and v2 functional) on a small uint8
  image, a float image and a PIL image, as torchvision computes them.
- transforms_random.npz + transforms_random.json: random transforms (v1 and v2). Each is run
  twice from the same torch seed: torchvision's gives the expected output; ember_vision's,
  with its draw helpers routed to torch, records every draw (helper, arguments, value). The
  test replays those draws, so it checks that Ember asks for the same numbers in the same
  order and turns them into torchvision's output.

    python tools/make_golden_transforms.py
"""
import json
import pathlib
import random
import sys
import types

import numpy as np
import torch
from PIL import Image

sys.modules.setdefault("torchvision._meta_registrations",  # see tests/conftest.py
                       types.ModuleType("torchvision._meta_registrations"))
import torchvision  # noqa: E402
import torchvision.transforms.v2 as T2  # noqa: E402
from torchvision.transforms import functional as TF  # noqa: E402
from torchvision.transforms.v2 import functional as TF2  # noqa: E402

import ember  # noqa: E402
import ember_vision.transforms as ET  # noqa: E402
import ember_vision.transforms.v2 as ET2  # noqa: E402
from ember_vision.transforms import _rng  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "vision" / "golden"

rng = np.random.default_rng(15)
U8 = rng.integers(0, 256, (3, 9, 11), dtype=np.uint8)
F32 = rng.random((3, 9, 11), dtype=np.float32)
HWC = rng.integers(0, 256, (9, 11, 3), dtype=np.uint8)

# (name, call text); "F" is v1 or v2 functional, "IM" its InterpolationMode
FUNCTIONAL = [
    ("brightness", "F.adjust_brightness(x, 1.4)"),
    ("contrast", "F.adjust_contrast(x, 0.6)"),
    ("saturation", "F.adjust_saturation(x, 1.7)"),
    ("hue", "F.adjust_hue(x, -0.2)"),
    ("sharpness", "F.adjust_sharpness(x, 2.2)"),
    ("gamma", "F.adjust_gamma(x, 0.8, 1.1)"),
    ("grey3", "F.rgb_to_grayscale(x, 3)"),
    ("autocontrast", "F.autocontrast(x)"),
    ("invert", "F.invert(x)"),
    ("pad_reflect", "F.pad(x, [2, 1, 3, 4], padding_mode='reflect')"),
    ("pad_fill", "F.pad(x, [1, 2], fill=3)"),
    ("rotate", "F.rotate(x, 35.0, interpolation=IM.BILINEAR, fill=[9.0, 20.0, 30.0])"),
    ("rotate_expand", "F.rotate(x, -60.0, expand=True)"),
    ("affine", "F.affine(x, 10.0, [1, -2], 1.1, [5.0, -3.0], interpolation=IM.BILINEAR)"),
    ("perspective", "F.perspective(x, [[0, 0], [10, 0], [10, 8], [0, 8]], "
                    "[[1, 1], [9, 0], [10, 7], [2, 8]])"),
    ("blur", "F.gaussian_blur(x, [5, 3], [1.2, 0.7])"),
    ("crop", "F.crop(x, -1, 2, 6, 11)"),
    ("vflip", "F.vflip(x)"),
]
UINT8_ONLY = [("posterize", "F.posterize(x, 3)"), ("equalize", "F.equalize(x)"),
              ("solarize", "F.solarize(x, 100)")]


def _np(out):
    if isinstance(out, Image.Image):
        return np.asarray(out)
    return out.numpy()


def functional_goldens():
    out = {"u8": U8, "f32": F32, "hwc": HWC}
    for tag, F in (("v1", TF), ("v2", TF2)):
        env = {"F": F, "IM": torchvision.transforms.InterpolationMode}
        for name, call in FUNCTIONAL + UINT8_ONLY:
            inputs = {"u8": torch.from_numpy(U8.copy()), "pil": Image.fromarray(HWC)}
            if (name, call) in FUNCTIONAL:
                inputs["f32"] = torch.from_numpy(F32.copy())
            for kind, x in inputs.items():
                out[f"{tag}/{name}/{kind}"] = _np(eval(call, dict(env, x=x)))
    np.savez_compressed(OUT / "transforms_functional.npz", **out)
    (OUT / "transforms_functional.json").write_text(
        json.dumps({"cases": FUNCTIONAL, "uint8_only": UINT8_ONLY}, indent=1) + "\n")


# (api, constructor text, input kinds); both libraries build from the same text
RANDOM = [
    ("v1", "RandomCrop(7, padding=2, padding_mode='edge')", "u8 f32 pil"),
    ("v1", "RandomCrop(12, pad_if_needed=True, fill=4)", "u8 pil"),
    ("v1", "ColorJitter(0.4, 0.4, 0.4, 0.1)", "u8 f32 pil"),
    ("v1", "RandomGrayscale(0.5)", "u8 pil"),
    ("v1", "RandomRotation(40, interpolation=InterpolationMode.BILINEAR, fill=5)", "u8 f32 pil"),
    ("v1", "RandomAffine(15, translate=(0.2, 0.2), scale=(0.8, 1.2), shear=10)", "u8 pil"),
    ("v1", "RandomPerspective(0.5, p=1.0)", "u8 f32 pil"),
    ("v1", "RandomVerticalFlip()", "u8 pil"),
    ("v1", "GaussianBlur(3, sigma=(0.3, 2.0))", "u8 f32 pil"),
    ("v1", "RandomErasing(p=1.0, value='random')", "f32"),
    ("v1", "RandomErasing(p=1.0, value=(0.2, 0.4, 0.6))", "f32"),
    ("v1", "RandomApply([RandomRotation(20), ColorJitter(0.3)], p=0.7)", "u8 pil"),
    ("v1", "RandomOrder([ColorJitter(0.5), RandomCrop(8), RandomHorizontalFlip()])", "u8"),
    ("v1", "RandomChoice([RandomVerticalFlip(1.0), Grayscale(3)], p=[1, 3])", "u8"),
    ("v1", "AutoAugment(AutoAugmentPolicy.CIFAR10)", "u8 pil"),
    ("v1", "RandAugment(num_ops=3, magnitude=15)", "u8 pil"),
    ("v1", "TrivialAugmentWide()", "u8 pil"),
    ("v1", "AugMix(severity=5, chain_depth=2)", "u8 pil"),
    ("v1", "ElasticTransform(alpha=15.0, sigma=1.5)", "u8 f32 pil"),
    ("v2", "RandomCrop(7, padding=2, padding_mode='edge')", "u8 pil"),
    ("v2", "RandomResizedCrop(6, scale=(0.3, 1.0))", "f32 pil"),
    ("v2", "ColorJitter(0.4, 0.4, 0.4, 0.1)", "u8 f32 pil"),
    ("v2", "RandomRotation(40, interpolation=InterpolationMode.BILINEAR, fill=5)", "u8 pil"),
    ("v2", "RandomErasing(p=1.0)", "u8 pil"),
    ("v2", "RandomChoice([RandomVerticalFlip(1.0), Grayscale(3)], p=[1, 3])", "u8"),
    ("v2", "RandomOrder([ColorJitter(0.5), RandomCrop(8), RandomHorizontalFlip()])", "u8"),
    ("v2", "RandAugment(num_ops=3, magnitude=15)", "u8 pil"),
    ("v2", "TrivialAugmentWide()", "u8 pil"),
    ("v2", "Compose([ToImage(), RandomCrop(8), ToDtype(DTYPE.float32, scale=True)])", "pil"),
    ("v2", "RandomPhotometricDistort(p=0.8)", "u8 pil"),
    ("v2", "RandomShortestSize([6, 8], max_size=12)", "f32 pil"),
    ("v2", "GaussianNoise(0.05, 0.2)", "f32"),
    ("v2", "ElasticTransform(alpha=(15.0, 25.0), sigma=1.5, fill=7)", "u8 pil"),
]


def _recording_rng(log):
    """ember_vision's draw helpers answered by torch, each answer logged."""
    def record(name, fn):
        def helper(*args):
            value = fn(*args)
            log.append([name, [np.asarray(a).tolist() for a in args],
                        np.asarray(value).tolist()])
            return value
        return helper

    normal = record("normal", lambda shape: torch.empty(list(shape)).normal_().numpy())
    rand_tensor = record("rand_tensor", lambda shape: torch.rand(list(shape)).numpy())
    return {
        "rand": record("rand", lambda n=None: torch.rand(1).item() if n is None
                       else torch.rand((n,)).tolist()),
        "uniform": record("uniform", lambda lo, hi: torch.empty(1).uniform_(lo, hi).item()),
        "randint": record("randint", lambda lo, hi, n=None: (
            torch.randint(lo, hi, size=(1,)).item() if n is None
            else torch.randint(lo, hi, size=(n,)).tolist())),
        "randperm": record("randperm", lambda n: torch.randperm(n).tolist()),
        "normal": lambda shape: ember.from_numpy(normal(shape)),
        "dirichlet": record("dirichlet", lambda a: torch._sample_dirichlet(
            torch.tensor(np.asarray(a), dtype=torch.float32)).numpy()),
        "rand_tensor": lambda shape: ember.from_numpy(rand_tensor(shape)),
        "multinomial": record("multinomial",
                              lambda p: int(torch.multinomial(torch.tensor(p), 1))),
    }


def _inputs(kind, lib):
    if kind == "pil":
        return Image.fromarray(HWC)
    a = (U8 if kind == "u8" else F32).copy()
    return torch.from_numpy(a) if lib == "torch" else ember.from_numpy(a)


def random_goldens():
    arrays, cases = {}, []
    originals = {name: getattr(_rng, name) for name in _recording_rng([])}
    for k, (api, expr, kinds) in enumerate(RANDOM):
        tv_mod, em_mod = (torchvision.transforms, ET) if api == "v1" else (T2, ET2)
        theirs_t = eval(expr, dict(vars(tv_mod), DTYPE=torch))
        ours_t = eval(expr, dict(vars(em_mod), DTYPE=ember))
        for kind in kinds.split():
            torch.manual_seed(k)
            random.seed(k)
            expected = _np(theirs_t(_inputs(kind, "torch")))
            log = []
            for name, fn in _recording_rng(log).items():
                setattr(_rng, name, fn)
            try:
                torch.manual_seed(k)
                random.seed(k)
                ours = _np(ours_t(_inputs(kind, "ember")))
            finally:
                for name, fn in originals.items():
                    setattr(_rng, name, fn)
            diff = np.abs(ours.astype(np.float64) - expected.astype(np.float64)).max()
            assert diff <= (1 if expected.dtype == np.uint8 else 1e-4), (expr, kind, diff)
            key = f"{k}/{kind}"
            arrays[key] = expected
            cases.append({"key": key, "api": api, "expr": expr, "kind": kind,
                          "python_seed": k, "repr": repr(theirs_t), "draws": log})
    np.savez_compressed(OUT / "transforms_random.npz", **arrays)
    (OUT / "transforms_random.json").write_text(json.dumps(cases, indent=0) + "\n")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    functional_goldens()
    random_goldens()
    for p in sorted(OUT.glob("transforms_*")):
        print(p.name, p.stat().st_size)


if __name__ == "__main__":
    main()

"""ember_vision's random transform classes against torchvision's, under the same draws.

Ember's generator is not torch's, so the tests swap ember_vision's draw helpers (``_rng``) for
their torch twins: with the same torch seed, the ember transform then sees exactly the numbers
torchvision's does *only if* it makes the same calls in the same order, and its output must
equal torchvision's (PIL exactly, uint8 within 1/255, float within float32 rounding).
Reprs are compared too.
"""
import random

import numpy as np
import pytest
torch = pytest.importorskip("torch")
from PIL import Image  # noqa: E402

import ember  # noqa: E402
import ember_vision.transforms as ET  # noqa: E402
from ember_vision.transforms import _rng  # noqa: E402

H, W = 17, 23


def _u8(shape, seed):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


INPUTS = {
    "pil": lambda: Image.fromarray(_u8((H, W, 3), 0)),
    "pil_grey": lambda: Image.fromarray(_u8((H, W), 1)),
    "u8": lambda: _u8((3, H, W), 2),
    "f32": lambda: np.random.default_rng(3).random((3, H, W), dtype=np.float32),
    "batch_u8": lambda: _u8((2, 3, H, W), 4),
}


@pytest.fixture
def torch_draws(monkeypatch):
    """Route ember_vision's random draws through torch's generator, call for call."""
    monkeypatch.setattr(_rng, "rand", lambda n=None: torch.rand(1).item() if n is None
                        else torch.rand((n,)).tolist())
    monkeypatch.setattr(_rng, "uniform",
                        lambda lo, hi: torch.empty(1).uniform_(lo, hi).item())
    monkeypatch.setattr(_rng, "randint", lambda lo, hi, n=None: (
        torch.randint(lo, hi, size=(1,)).item() if n is None
        else torch.randint(lo, hi, size=(n,)).tolist()))
    monkeypatch.setattr(_rng, "randperm", lambda n: torch.randperm(n).tolist())
    monkeypatch.setattr(_rng, "normal", lambda shape: ember.from_numpy(
        torch.empty(list(shape), dtype=torch.float32).normal_().numpy()))
    monkeypatch.setattr(_rng, "dirichlet", lambda a: torch._sample_dirichlet(
        torch.tensor(np.asarray(a), dtype=torch.float32)).numpy())
    monkeypatch.setattr(_rng, "rand_tensor",
                        lambda shape: ember.from_numpy(torch.rand(list(shape)).numpy()))
    monkeypatch.setattr(_rng, "multinomial",
                        lambda p: int(torch.multinomial(torch.tensor(p), 1)))


def _inputs(kind):
    x = INPUTS[kind]()
    if isinstance(x, Image.Image):
        return x, x.copy()
    return ember.from_numpy(x.copy()), torch.from_numpy(x.copy())


def assert_same(ours, theirs, tol_frac=0.02):
    if isinstance(theirs, Image.Image):
        assert isinstance(ours, Image.Image), type(ours)
        assert (ours.mode, ours.size) == (theirs.mode, theirs.size)
        a, b = np.asarray(ours).astype(np.int32), np.asarray(theirs).astype(np.int32)
        assert np.abs(a - b).max() <= 1 and (a != b).mean() < tol_frac
        return
    a, b = ours.numpy(), theirs.numpy()
    assert a.shape == b.shape and a.dtype == b.dtype
    if a.dtype == np.uint8:
        d = np.abs(a.astype(np.int32) - b.astype(np.int32))
        assert d.max() <= 1 and (d > 0).mean() < tol_frac, (d.max(), (d > 0).mean())
    else:
        np.testing.assert_allclose(a, b, atol=3e-5, rtol=1e-5)


def _run(ours_t, theirs_t, kind, seeds=range(4)):
    for seed in seeds:
        e, t = _inputs(kind)
        torch.manual_seed(seed)
        random.seed(seed)
        theirs = theirs_t(t)
        torch.manual_seed(seed)
        random.seed(seed)
        ours = ours_t(e)
        if isinstance(theirs, tuple):
            for a, b in zip(ours, theirs):
                assert_same(a, b)
        else:
            assert_same(ours, theirs)


# (constructor expression, inputs it accepts). Both sides are built from the same text.
CASES = [
    ("RandomCrop(9)", "all"),
    ("RandomCrop((20, 10), padding=3, padding_mode='reflect')", "all"),
    ("RandomCrop(30, pad_if_needed=True, fill=9)", "all"),
    ("RandomCrop([12, 25], padding=[1, 2], pad_if_needed=True, padding_mode='symmetric')", "all"),
    ("Pad([1, 2, 3, 4], fill=5)", "all"),
    ("Pad(2, padding_mode='edge')", "all"),
    ("ColorJitter(0.4, 0.4, 0.4, 0.1)", "all"),
    ("ColorJitter(brightness=(0.5, 1.5), hue=0.3)", "all"),
    ("Grayscale(3)", "rgb"),
    ("RandomGrayscale(0.5)", "all"),
    ("RandomRotation(30)", "all"),
    ("RandomRotation((-90, 45), interpolation=InterpolationMode.BILINEAR, expand=True, fill=7)",
     "all"),
    ("RandomAffine(20, translate=(0.2, 0.1), scale=(0.8, 1.2), shear=(-10, 10, -5, 5))", "all"),
    ("RandomAffine(0, shear=15, interpolation=InterpolationMode.BILINEAR, center=(3, 4))", "all"),
    ("RandomPerspective(0.6, p=0.8)", "all"),
    ("RandomPerspective(0.3, p=1.0, interpolation=InterpolationMode.NEAREST, fill=100)", "all"),
    ("RandomVerticalFlip()", "all"),
    ("RandomHorizontalFlip(0.7)", "all"),
    ("GaussianBlur(5, sigma=(0.2, 3.0))", "all"),
    ("GaussianBlur((3, 7))", "all"),
    ("RandomErasing(p=0.9)", "tensor"),
    ("RandomErasing(p=1.0, scale=(0.1, 0.3), value='random')", "tensor"),
    ("RandomErasing(p=1.0, value=(0.1, 0.5, 0.9))", "tensor"),
    ("RandomApply([ColorJitter(0.5), RandomRotation(10)], p=0.6)", "all"),
    ("RandomChoice([RandomVerticalFlip(1.0), Grayscale(3), RandomCrop(10)], p=[1, 2, 3])", "rgb"),
    ("RandomOrder([ColorJitter(0.5), RandomCrop(12), RandomHorizontalFlip()])", "all"),
    ("RandomInvert()", "all"), ("RandomPosterize(3, p=0.7)", "u8"),
    ("RandomSolarize(120, p=0.7)", "u8"), ("RandomAdjustSharpness(2.0)", "all"),
    ("RandomAutocontrast()", "all"), ("RandomEqualize()", "u8"),
    ("RandomResizedCrop((8, 11), scale=(0.2, 0.9))", "all"),
    ("ConvertImageDtype(DTYPE.float64)", "tensor"),
    ("Lambda(lambda x: x)", "all"),
    ("TenCrop(7)", "all"),
    ("ElasticTransform(alpha=20.0, sigma=2.0)", "all"),
    ("ElasticTransform(alpha=(15.0, 40.0), sigma=(1.5, 2.5), fill=9, "
     "interpolation=InterpolationMode.NEAREST)", "all"),
    ("AutoAugment()", "u8"),
    ("AutoAugment(AutoAugmentPolicy.CIFAR10, fill=[10, 20, 30])", "u8"),
    ("AutoAugment(AutoAugmentPolicy.SVHN, interpolation=InterpolationMode.BILINEAR)", "u8"),
    ("RandAugment()", "u8"),
    ("RandAugment(num_ops=3, magnitude=20, fill=5)", "u8"),
    ("TrivialAugmentWide()", "u8"),
    ("TrivialAugmentWide(num_magnitude_bins=11, interpolation=InterpolationMode.BILINEAR)", "u8"),
    ("AugMix()", "u8"),
    ("AugMix(severity=7, mixture_width=2, chain_depth=2, alpha=0.5, all_ops=False)", "u8"),
]
KINDS = {
    "all": ["pil", "pil_grey", "u8", "f32", "batch_u8"],
    "rgb": ["pil", "u8", "f32", "batch_u8"],
    "tensor": ["u8", "f32", "batch_u8"],
    "u8": ["pil", "u8", "batch_u8"],
}


def _build(module, expr, dtype_module):
    env = dict(vars(module))
    env["DTYPE"] = dtype_module
    return eval(expr, env)


@pytest.mark.parametrize("expr,kinds", CASES, ids=[c[0][:50] for c in CASES])
def test_same_output_under_same_draws(torchvision, torch_draws, expr, kinds):
    ours_t = _build(ET, expr, ember)
    theirs_t = _build(torchvision.transforms, expr, torch)
    if not expr.startswith("Lambda"):
        assert repr(ours_t) == repr(theirs_t)
    for kind in KINDS[kinds]:
        if expr.startswith("ConvertImageDtype") and kind == "f32":
            continue
        _run(ours_t, theirs_t, kind)


def test_autoaugment_policies_are_torchvisions(torchvision):
    for policy in ET.AutoAugmentPolicy:
        tv_policy = torchvision.transforms.AutoAugmentPolicy(policy.value)
        assert (ET.AutoAugment(policy).policies
                == torchvision.transforms.AutoAugment(tv_policy).policies)


@pytest.mark.parametrize("cls", ["RandAugment", "TrivialAugmentWide", "AugMix", "AutoAugment"])
def test_augmentation_spaces_are_torchvisions(torchvision, cls):
    ours = getattr(ET, cls)()
    theirs = getattr(torchvision.transforms, cls)()
    if cls == "TrivialAugmentWide":
        args = (31,)
    else:
        args = (10 if cls in ("AugMix", "AutoAugment") else 31, (H, W))
    a, b = ours._augmentation_space(*args), theirs._augmentation_space(*args)
    assert list(a) == list(b)
    for name in a:
        np.testing.assert_array_equal(np.asarray(a[name][0]), b[name][0].numpy())
        assert a[name][1] == b[name][1]


@pytest.mark.parametrize("name", ["RandomResizedCrop", "RandomAffine", "RandomPerspective",
                                  "RandomErasing", "ColorJitter"])
def test_parameters_follow_torchvisions_distribution(torchvision, name):
    """Ember's own generator (not torch's): the drawn parameters have torchvision's
    distribution (quantiles of each parameter agree within sampling noise)."""
    T = torchvision.transforms
    img_t, img_e = torch.zeros(3, 40, 60), ember.zeros(3, 40, 60)
    draws = {
        "RandomResizedCrop": lambda M, img: M.RandomResizedCrop.get_params(
            img, (0.08, 1.0), (3 / 4, 4 / 3)),
        "RandomAffine": lambda M, img: (lambda p: (p[0], *p[1], p[2], *p[3]))(
            M.RandomAffine.get_params([-30, 30], [0.2, 0.1], [0.7, 1.3], [-10, 10, -5, 5],
                                      [60, 40])),
        "RandomPerspective": lambda M, img: sum(
            M.RandomPerspective.get_params(60, 40, 0.5)[1], []),
        "RandomErasing": lambda M, img: M.RandomErasing.get_params(
            img, (0.02, 0.33), (0.3, 3.3), [0.0])[:4],
        "ColorJitter": lambda M, img: (lambda p: (*[int(i) for i in p[0]], *p[1:]))(
            M.ColorJitter.get_params((0.6, 1.4), (0.6, 1.4), (0.6, 1.4), (-0.1, 0.1))),
    }[name]
    torch.manual_seed(0)
    ember.manual_seed(0)
    theirs = np.array([draws(T, img_t) for _ in range(3000)], dtype=np.float64)
    ours = np.array([draws(ET, img_e) for _ in range(3000)], dtype=np.float64)
    qs = [0.1, 0.25, 0.5, 0.75, 0.9]
    spread = theirs.std(axis=0) + 1e-9
    for col in range(theirs.shape[1]):
        a, b = np.quantile(ours[:, col], qs), np.quantile(theirs[:, col], qs)
        integral = np.all(theirs[:, col] == np.round(theirs[:, col]))
        assert np.all(np.abs(a - b) <= 0.1 * spread[col] + (1.01 if integral else 0)), (
            col, a, b)

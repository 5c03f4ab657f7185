"""ember_vision.transforms against torch's resize (golden), PIL, and hand-computed values."""
import pathlib

import numpy as np
import pytest
from PIL import Image

import ember
import ember_vision.transforms as T
from ember_vision.transforms import functional as F

GOLDEN = pathlib.Path(__file__).parent / "golden"


def _pil(h, w, seed=0):
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))


def _t(a):
    return ember.from_numpy(np.ascontiguousarray(a))


# ----------------------------------------------------------------- reprs

def test_compose_and_member_reprs_are_torchvisions():
    t = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(),
                   T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])])
    assert repr(t) == (
        "Compose(\n"
        "    Resize(size=256, interpolation=bilinear, max_size=None, antialias=True)\n"
        "    CenterCrop(size=(224, 224))\n"
        "    ToTensor()\n"
        "    Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])\n"
        ")")
    assert repr(T.RandomResizedCrop(224)) == (
        "RandomResizedCrop(size=(224, 224), scale=(0.08, 1.0), ratio=(0.75, 1.3333), "
        "interpolation=bilinear, antialias=True)")
    assert repr(T.RandomHorizontalFlip()) == "RandomHorizontalFlip(p=0.5)"
    assert repr(T.PILToTensor()) == "PILToTensor()"
    assert repr(T.Lambda(lambda x: x)) == "Lambda()"


def test_image_classification_preset_repr():
    assert repr(T.ImageClassification(crop_size=224)) == (
        "ImageClassification(\n"
        "    crop_size=[224]\n"
        "    resize_size=[256]\n"
        "    mean=[0.485, 0.456, 0.406]\n"
        "    std=[0.229, 0.224, 0.225]\n"
        "    interpolation=InterpolationMode.BILINEAR\n"
        ")")


# ----------------------------------------------------------------- conversions

def test_to_tensor_scales_uint8_and_moves_channels_first():
    img = _pil(4, 5)
    t = T.ToTensor()(img)
    assert tuple(t.shape) == (3, 4, 5) and t.dtype == ember.float32
    expected = np.asarray(img).transpose(2, 0, 1).astype(np.float32) / 255
    np.testing.assert_array_equal(t.numpy(), expected)


def test_to_tensor_grey_and_float_ndarray():
    grey = Image.fromarray(np.array([[0, 255], [51, 102]], dtype=np.uint8))
    np.testing.assert_allclose(T.ToTensor()(grey).numpy(), [[[0, 1], [0.2, 0.4]]], atol=1e-7)
    arr = np.full((2, 3, 1), 7.5, dtype=np.float64)  # non-uint8 arrays keep their values
    t = T.ToTensor()(arr)
    assert t.dtype == ember.float64 and tuple(t.shape) == (1, 2, 3)
    assert float(t.numpy().max()) == 7.5


def test_to_tensor_rejects_other_types():
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        T.ToTensor()([1, 2, 3])


def test_pil_to_tensor_keeps_uint8():
    img = _pil(3, 2)
    t = T.PILToTensor()(img)
    assert t.dtype == ember.uint8
    np.testing.assert_array_equal(t.numpy(), np.asarray(img).transpose(2, 0, 1))


def test_normalize_values_and_errors():
    x = np.arange(12, dtype=np.float32).reshape(3, 2, 2) / 12
    out = T.Normalize((0.1, 0.2, 0.3), (0.5, 0.25, 2.0))(_t(x)).numpy()
    mean = np.array([0.1, 0.2, 0.3], np.float32)[:, None, None]
    std = np.array([0.5, 0.25, 2.0], np.float32)[:, None, None]
    np.testing.assert_array_equal(out, (x - mean) / std)
    with pytest.raises(TypeError, match="Input tensor should be a float tensor. Got"):
        T.Normalize(0.5, 0.5)(_t(np.zeros((3, 2, 2), np.uint8)))
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize((0, 0, 0), (1, 0, 1))(_t(x))
    with pytest.raises(ValueError, match=r"tensor image of size \(\.\.\., C, H, W\)"):
        T.Normalize(0.5, 0.5)(_t(np.zeros((2, 2), np.float32)))
    with pytest.raises(TypeError, match="img should be Tensor Image"):
        T.Normalize(0.5, 0.5)(x)


def test_convert_image_dtype():
    u8 = _t(np.array([[[0, 128, 255]]], np.uint8))
    f = T.ConvertImageDtype(ember.float32)(u8)
    np.testing.assert_allclose(f.numpy(), [[[0, 128 / 255, 1]]], rtol=1e-6)
    back = F.convert_image_dtype(f, ember.uint8)
    np.testing.assert_array_equal(back.numpy(), [[[0, 128, 255]]])  # x * 255.999, truncated
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        F.convert_image_dtype(f, ember.int64)


def test_lambda_requires_a_callable():
    assert T.Lambda(lambda v: v + 1)(1) == 2
    with pytest.raises(TypeError, match="Argument lambd should be callable, got 'int'"):
        T.Lambda(3)


# ----------------------------------------------------------------- geometry

@pytest.mark.parametrize("hw,size,expected", [
    ((30, 40), 20, (20, 26)), ((40, 30), 20, (26, 20)), ((30, 40), [10, 12], (10, 12)),
    ((50, 50), 7, (7, 7)),
])
def test_resize_output_sizes(hw, size, expected):
    out = T.Resize(size)(_pil(*hw))
    assert (out.height, out.width) == expected
    t = T.Resize(size)(_t(np.zeros((3,) + hw, np.float32)))
    assert tuple(t.shape) == (3,) + expected


def test_resize_pil_is_pil_bilinear():
    img = _pil(33, 47)
    out = T.Resize(16)(img)
    np.testing.assert_array_equal(np.asarray(out),
                                  np.asarray(img.resize((22, 16), Image.BILINEAR)))


def test_resize_max_size_and_bad_sizes():
    out = T.Resize(10, max_size=12)(_pil(10, 40))
    assert (out.height, out.width) == (3, 12)
    with pytest.raises(ValueError, match="must be strictly greater"):
        T.Resize(10, max_size=10)(_pil(10, 40))
    with pytest.raises(TypeError, match="Size should be int or sequence"):
        T.Resize("big")
    with pytest.raises(ValueError, match="1 or 2 values"):
        T.Resize([1, 2, 3])


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "nearest"])
@pytest.mark.parametrize("hw", [(7, 9), (5, 30), (26, 34)])
def test_tensor_resize_matches_torch_antialias(mode, hw):
    golden = np.load(GOLDEN / "resize.npz")
    key = f"{mode}_aa_{hw[0]}x{hw[1]}" if mode != "nearest" else f"nearest_{hw[0]}x{hw[1]}"
    out = F.resize(_t(golden["float_image"]), list(hw), interpolation=F.InterpolationMode(mode))
    np.testing.assert_allclose(out.numpy(), golden[key], atol=1e-5)


def test_uint8_tensor_resize_rounds_like_torchvision():
    golden = np.load(GOLDEN / "resize.npz")
    out = F.resize(_t(golden["uint8_image"]), [8, 5])
    assert out.dtype == ember.uint8
    assert np.abs(out.numpy().astype(int) - golden["uint8_bilinear_aa_8x5"]).max() <= 1


def test_batched_tensor_resize():
    x = np.random.default_rng(1).random((2, 3, 10, 12), dtype=np.float32)
    out = F.resize(_t(x), [5, 6])
    assert tuple(out.shape) == (2, 3, 5, 6)
    np.testing.assert_allclose(out.numpy()[1], F.resize(_t(x[1]), [5, 6]).numpy())


def test_center_crop_offsets_and_padding():
    x = np.arange(5 * 6, dtype=np.float32).reshape(1, 5, 6)
    np.testing.assert_array_equal(T.CenterCrop(3)(_t(x)).numpy(), x[:, 1:4, 2:5])
    np.testing.assert_array_equal(T.CenterCrop((2, 4))(_t(x)).numpy(), x[:, 2:4, 1:5])
    padded = T.CenterCrop(7)(_t(x)).numpy()  # larger than the image: zero border
    assert padded.shape == (1, 7, 7)
    np.testing.assert_array_equal(padded[:, 1:6, 0:6], x)
    assert padded[:, 0].sum() == 0 and padded[:, 6].sum() == 0 and padded[:, :, 6].sum() == 0
    img = _pil(5, 6)
    np.testing.assert_array_equal(np.asarray(T.CenterCrop(3)(img)),
                                  np.asarray(img)[1:4, 2:5])


def test_random_resized_crop_is_seeded_and_sized():
    img = _pil(40, 60)
    ember.manual_seed(3)
    a = np.asarray(T.RandomResizedCrop(16)(img))
    ember.manual_seed(3)
    b = np.asarray(T.RandomResizedCrop(16)(img))
    assert a.shape == (16, 16, 3)
    np.testing.assert_array_equal(a, b)
    for _ in range(20):
        i, j, h, w = T.RandomResizedCrop.get_params(img, (0.08, 1.0), (3 / 4, 4 / 3))
        assert 0 <= i <= 40 - h and 0 <= j <= 60 - w and h > 0 and w > 0
    # impossible ratios fall back to the centred crop
    assert T.RandomResizedCrop.get_params(img, (1.0, 1.0), (10.0, 10.0)) == (17, 0, 6, 60)


def test_random_horizontal_flip():
    img = _pil(3, 4)
    np.testing.assert_array_equal(np.asarray(T.RandomHorizontalFlip(p=1.0)(img)),
                                  np.asarray(img)[:, ::-1])
    assert T.RandomHorizontalFlip(p=0.0)(img) is img
    x = np.arange(6, dtype=np.float32).reshape(1, 2, 3)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(_t(x)).numpy(), x[..., ::-1])


def test_image_classification_preset_values():
    img = _pil(300, 280)
    out = T.ImageClassification(crop_size=224)(img)
    assert tuple(out.shape) == (3, 224, 224) and out.dtype == ember.float32
    # reference: PIL resize + crop, /255, normalise; the preset rounds to uint8 in between
    ref = np.asarray(img.resize((256, 274), Image.BILINEAR), np.float32)[25:249, 16:240] / 255
    ref = (ref - [0.485, 0.456, 0.406]) / np.array([0.229, 0.224, 0.225])
    np.testing.assert_allclose(out.numpy(), ref.transpose(2, 0, 1), atol=1.01 / 255 / 0.224)

"""Colour adjustments (``adjust_*``, grayscale, posterize, solarize, equalize, ...).

PIL images go through Pillow's ``ImageEnhance``/``ImageOps`` as torchvision's PIL path does.
Tensors follow torchvision's tensor arithmetic step by step, in the same float type
(float32 for integer images) and with the same final cast (``.to(dtype)`` truncates), so the
results agree to the last bit or, where float sums are ordered differently, within 1/255.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

from ._base import check_image, check_pil, image_array, is_pil, max_value, work_dtype, wrap

if TYPE_CHECKING:
    from ._base import ImageLike

__all__ = [
    "adjust_brightness", "adjust_contrast", "adjust_gamma", "adjust_hue", "adjust_saturation",
    "adjust_sharpness", "autocontrast", "equalize", "invert", "posterize", "rgb_to_grayscale",
    "solarize", "to_grayscale",
]

_RGB_WEIGHTS = (0.2989, 0.587, 0.114)


def _float(arr):
    return arr.astype(work_dtype(arr.dtype), copy=False)


def _grey_np(arr):
    """(..., 1, H, W) luma of a (..., C, H, W) array, in the image's dtype (truncated)."""
    if arr.shape[-3] != 3:
        return arr.copy()
    f = _float(arr)
    dt = f.dtype.type
    r, g, b = f[..., 0, :, :], f[..., 1, :, :], f[..., 2, :, :]
    grey = dt(_RGB_WEIGHTS[0]) * r + dt(_RGB_WEIGHTS[1]) * g + dt(_RGB_WEIGHTS[2]) * b
    return grey.astype(arr.dtype, copy=False)[..., None, :, :]


def _blend(img1, img2, ratio):
    """``ratio * img1 + (1 - ratio) * img2`` clamped to the pixel range, cast as torch does."""
    ratio = float(ratio)
    dt = work_dtype(img1.dtype).type
    out = dt(ratio) * _float(img1) + dt(1.0 - ratio) * _float(img2)
    return np.clip(out, 0, max_value(img1.dtype)).astype(img1.dtype, copy=False)


def _check_factor(value, name):
    if value < 0:
        raise ValueError(f"{name} ({value}) is not non-negative.")


def to_grayscale(img: Image.Image, num_output_channels: int = 1) -> Image.Image:
    """PIL image -> grayscale PIL image with 1 or 3 channels."""
    check_pil(img)
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    grey = img.convert("L")
    if num_output_channels == 3:
        a = np.asarray(grey, dtype=np.uint8)
        grey = Image.fromarray(np.dstack([a, a, a]), "RGB")
    return grey


def rgb_to_grayscale(img: ImageLike, num_output_channels: int = 1) -> ImageLike:
    """ITU-R 601-2 luma (0.2989 R + 0.587 G + 0.114 B), with 1 or 3 output channels."""
    if is_pil(img):
        return to_grayscale(img, num_output_channels)
    arr = image_array(img, min_dims=3, channels=(1, 3))
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    grey = _grey_np(arr)
    if num_output_channels == 3:
        grey = np.broadcast_to(grey, arr.shape)
    return wrap(grey)


def adjust_brightness(img: ImageLike, brightness_factor: float) -> ImageLike:
    _check_factor(brightness_factor, "brightness_factor")
    if is_pil(img):
        return ImageEnhance.Brightness(img).enhance(brightness_factor)
    arr = image_array(img, channels=(1, 3))
    return wrap(_blend(arr, np.zeros_like(arr), brightness_factor))


def adjust_contrast(img: ImageLike, contrast_factor: float) -> ImageLike:
    _check_factor(contrast_factor, "contrast_factor")
    if is_pil(img):
        return ImageEnhance.Contrast(img).enhance(contrast_factor)
    arr = image_array(img, channels=(1, 3))
    dt = work_dtype(arr.dtype)
    source = _grey_np(arr) if arr.shape[-3] == 3 else arr
    mean = source.astype(dt).mean(axis=(-3, -2, -1), keepdims=True, dtype=np.float64)
    return wrap(_blend(arr, mean.astype(dt), contrast_factor))


def adjust_saturation(img: ImageLike, saturation_factor: float) -> ImageLike:
    _check_factor(saturation_factor, "saturation_factor")
    if is_pil(img):
        return ImageEnhance.Color(img).enhance(saturation_factor)
    arr = image_array(img, channels=(1, 3))
    if arr.shape[-3] == 1:  # as PIL: nothing to desaturate
        return img
    return wrap(_blend(arr, _grey_np(arr), saturation_factor))


def _rgb_to_hsv(img):
    r, g, b = img[..., 0, :, :], img[..., 1, :, :], img[..., 2, :, :]
    maxc, minc = img.max(axis=-3), img.min(axis=-3)
    same = maxc == minc
    cr = maxc - minc
    one = np.ones_like(maxc)
    s = cr / np.where(same, one, maxc)
    div = np.where(same, one, cr)
    rc, gc, bc = (maxc - r) / div, (maxc - g) / div, (maxc - b) / div
    dt = img.dtype.type
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (dt(2.0) + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (dt(4.0) + gc - rc)
    h = np.fmod((hr + hg + hb) / dt(6.0) + dt(1.0), dt(1.0))
    return h, s, maxc


def _hsv_to_rgb(h, s, v):
    dt = h.dtype.type
    i = np.floor(h * dt(6.0))
    f = h * dt(6.0) - i
    i = i.astype(np.int32) % 6
    p = np.clip(v * (dt(1.0) - s), 0.0, 1.0)
    q = np.clip(v * (dt(1.0) - s * f), 0.0, 1.0)
    t = np.clip(v * (dt(1.0) - s * (dt(1.0) - f)), 0.0, 1.0)
    # sextant i picks (r, g, b) from these rows
    table = ((v, q, p, p, t, v), (t, v, v, q, p, p), (p, p, t, v, v, q))
    return np.stack([np.choose(i, row) for row in table], axis=-3)


def adjust_hue(img: ImageLike, hue_factor: float) -> ImageLike:
    if not (-0.5 <= hue_factor <= 0.5):
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    if is_pil(img):
        mode = img.mode
        if mode in {"L", "1", "I", "F"}:
            return img
        h, s, v = img.convert("HSV").split()
        np_h = np.array(h, dtype=np.uint8)
        np_h += np.uint8(np.int32(hue_factor * 255) & 0xFF)  # wraps around, as PIL's hue does
        return Image.merge("HSV", (Image.fromarray(np_h, "L"), s, v)).convert(mode)
    from .functional import _convert_dtype_np

    arr = image_array(img, min_dims=3, channels=(1, 3))
    if arr.shape[-3] == 1:
        return img
    f = _convert_dtype_np(arr, np.dtype(np.float32))
    h, s, v = _rgb_to_hsv(f)
    h = np.mod(h + np.float32(hue_factor), np.float32(1.0))
    return wrap(_convert_dtype_np(_hsv_to_rgb(h, s, v), arr.dtype))


def adjust_gamma(img: ImageLike, gamma: float, gain: float = 1) -> ImageLike:
    """``gain * img ** gamma`` on values scaled to [0, 1]."""
    if is_pil(img):
        if gamma < 0:
            raise ValueError("Gamma should be a non-negative real number")
        mode = img.mode
        table = [int((255 + 1 - 1e-3) * gain * pow(v / 255.0, gamma)) for v in range(256)] * 3
        return img.convert("RGB").point(table).convert(mode)
    from .functional import _convert_dtype_np

    if not hasattr(img, "shape"):
        raise TypeError("Input img should be a Tensor.")
    arr = image_array(img, channels=(1, 3))
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    f = arr if np.issubdtype(arr.dtype, np.floating) else _convert_dtype_np(
        arr, np.dtype(np.float32))
    out = np.clip(f.dtype.type(gain) * np.power(f, f.dtype.type(gamma)), 0, 1)
    return wrap(_convert_dtype_np(out.astype(f.dtype, copy=False), arr.dtype))


def _blurred_degenerate(arr):
    """PIL's SMOOTH filter (3x3, centre weight 5) on the interior; the border is kept."""
    dt = work_dtype(arr.dtype)
    kernel = np.ones((3, 3), dtype=dt)
    kernel[1, 1] = 5.0
    kernel /= kernel.sum()
    f = arr.astype(dt, copy=False)
    h, w = arr.shape[-2:]
    acc = np.zeros(arr.shape[:-2] + (h - 2, w - 2), dtype=dt)
    for dy in range(3):
        for dx in range(3):
            acc += kernel[dy, dx] * f[..., dy:dy + h - 2, dx:dx + w - 2]
    out = arr.copy()
    if np.issubdtype(arr.dtype, np.integer):
        acc = np.round(acc)
    out[..., 1:-1, 1:-1] = acc.astype(arr.dtype)
    return out


def adjust_sharpness(img: ImageLike, sharpness_factor: float) -> ImageLike:
    _check_factor(sharpness_factor, "sharpness_factor")
    if is_pil(img):
        return ImageEnhance.Sharpness(img).enhance(sharpness_factor)
    arr = image_array(img, channels=(1, 3))
    if arr.shape[-1] <= 2 or arr.shape[-2] <= 2:
        return img
    return wrap(_blend(arr, _blurred_degenerate(arr), sharpness_factor))


def invert(img: ImageLike) -> ImageLike:
    if is_pil(img):
        return ImageOps.invert(img)
    arr = image_array(img, min_dims=3, channels=(1, 3))
    return wrap(_inverted(arr))


def _inverted(arr):
    if arr.dtype == np.bool_:
        return ~arr
    return (arr.dtype.type(max_value(arr.dtype)) - arr).astype(arr.dtype, copy=False)


def posterize(img: ImageLike, bits: int) -> ImageLike:
    """Keep the top ``bits`` bits of each channel (uint8 only)."""
    if is_pil(img):
        return ImageOps.posterize(img, bits)
    arr = image_array(img, min_dims=3)
    if arr.dtype != np.uint8:
        raise TypeError(
            # a tensor here: PIL images returned above
            f"Only torch.uint8 image tensors are supported, but found {img.dtype}")  # type: ignore[union-attr]
    image_array(img, channels=(1, 3))
    mask = np.uint8((-int(2 ** (8 - bits))) & 0xFF)
    return wrap(arr & mask)


def solarize(img: ImageLike, threshold: float) -> ImageLike:
    """Invert every value at or above ``threshold``."""
    if is_pil(img):
        # PIL compares each value with the threshold, so a float one works as torchvision passes it
        return ImageOps.solarize(img, threshold)  # type: ignore[arg-type]
    arr = image_array(img, min_dims=3, channels=(1, 3))
    if threshold > max_value(arr.dtype):
        raise TypeError("Threshold should be less than bound of img.")
    # torch compares an integer image with a float threshold in float32
    thr = work_dtype(arr.dtype).type(threshold)
    return wrap(np.where(arr >= thr, _inverted(arr), arr))


def autocontrast(img: ImageLike) -> ImageLike:
    """Stretch each channel so its darkest pixel becomes 0 and its lightest the maximum."""
    if is_pil(img):
        return ImageOps.autocontrast(img)
    arr = image_array(img, min_dims=3, channels=(1, 3))
    bound = max_value(arr.dtype)
    dt = work_dtype(arr.dtype)
    lo = arr.min(axis=(-2, -1), keepdims=True).astype(dt)
    hi = arr.max(axis=(-2, -1), keepdims=True).astype(dt)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = dt.type(bound) / (hi - lo)
    flat = ~np.isfinite(scale)
    lo[flat] = 0
    scale[flat] = 1
    out = np.clip((arr.astype(dt) - lo) * scale, 0, bound)
    return wrap(out.astype(arr.dtype, copy=False))


def _equalize_channel(chan):
    hist = np.bincount(chan.reshape(-1), minlength=256)
    nonzero = hist[hist != 0]
    step = int(nonzero[:-1].sum()) // 255
    if step == 0:
        return chan
    lut = (np.cumsum(hist) + step // 2) // step
    lut = np.clip(np.concatenate([[0], lut[:-1]]), 0, 255)
    return lut[chan.astype(np.int64)].astype(np.uint8)


def equalize(img: ImageLike) -> ImageLike:
    """Histogram equalisation per channel (uint8 only)."""
    if is_pil(img):
        return ImageOps.equalize(img)
    check_image(img)
    arr = image_array(img)
    if not 3 <= arr.ndim <= 4:
        raise TypeError(
            f"Input image tensor should have 3 or 4 dimensions, but found {arr.ndim}")
    if arr.dtype != np.uint8:
        raise TypeError(
            # a tensor here: PIL images returned above
            f"Only torch.uint8 image tensors are supported, but found {img.dtype}")  # type: ignore[union-attr]
    image_array(img, channels=(1, 3))
    planes = arr.reshape(-1, *arr.shape[-2:])
    out = np.stack([_equalize_channel(p) for p in planes]).reshape(arr.shape)
    return wrap(out)

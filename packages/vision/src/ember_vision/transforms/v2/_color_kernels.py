"""v2's tensor colour kernels, which compute differently from v1's (grayscale weights added
with fused multiply-adds, saturation/contrast against an untruncated grey, sharpness blended
in place, float images accepted by posterize/equalize). PIL images take the v1 path, which
is also what torchvision v2 does for them."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import _color as v1
from .._base import image_array, is_pil, max_value, wrap
from ..functional import _convert_dtype_np

if TYPE_CHECKING:
    from .._base import ImageLike

__all__ = [
    "adjust_brightness", "adjust_contrast", "adjust_gamma", "adjust_hue", "adjust_saturation",
    "adjust_sharpness", "autocontrast", "equalize", "posterize", "rgb_to_grayscale",
]


def _fma(a, b, c):
    """``c + b * a`` rounded once (torch's ``add_(a, alpha=b)`` on float32 is a fused
    multiply-add); float32 products are exact in float64."""
    if a.dtype == np.float64 or (hasattr(c, "dtype") and c.dtype == np.float64):
        return c + b * a
    return (np.float64(b) * a.astype(np.float64) + c).astype(np.float32)


def _float(arr):
    return arr if np.issubdtype(arr.dtype, np.floating) else arr.astype(np.float32)


def _grey(arr, preserve_dtype=True):
    f = _float(arr)
    dt = f.dtype.type
    grey = _fma(f[..., 2, :, :], 0.114, _fma(f[..., 1, :, :], 0.587, f[..., 0, :, :] * dt(0.2989)))
    grey = grey[..., None, :, :]
    return grey.astype(arr.dtype) if preserve_dtype else grey


def _blend(img1, img2, ratio):
    ratio = float(ratio)
    f = _float(img1)
    out = np.clip(_fma(_float(img2), 1.0 - ratio, f * f.dtype.type(ratio)), 0,
                  max_value(img1.dtype))
    return out.astype(img1.dtype, copy=False)


def rgb_to_grayscale(img: ImageLike, num_output_channels: int = 1) -> ImageLike:
    if is_pil(img):
        return v1.to_grayscale(img, num_output_channels)
    arr = image_array(img, min_dims=3, channels=(1, 3))
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels must be 1 or 3")
    if arr.shape[-3] == 1:
        reps = [1] * arr.ndim
        reps[-3] = num_output_channels
        return wrap(np.tile(arr, reps))
    grey = _grey(arr)
    return wrap(np.broadcast_to(grey, arr.shape) if num_output_channels == 3 else grey)


def adjust_brightness(img: ImageLike, brightness_factor: float) -> ImageLike:
    if is_pil(img):
        return v1.adjust_brightness(img, brightness_factor)
    v1._check_factor(brightness_factor, "brightness_factor")
    arr = image_array(img, channels=(1, 3))
    f = _float(arr)
    out = np.clip(f * f.dtype.type(brightness_factor), 0, max_value(arr.dtype))
    return wrap(out.astype(arr.dtype, copy=False))


def _grey_floor(arr):
    grey = _grey(arr, preserve_dtype=False)
    return grey if np.issubdtype(arr.dtype, np.floating) else np.floor(grey)


def adjust_saturation(img: ImageLike, saturation_factor: float) -> ImageLike:
    if is_pil(img):
        return v1.adjust_saturation(img, saturation_factor)
    v1._check_factor(saturation_factor, "saturation_factor")
    arr = image_array(img, channels=(1, 3))
    if arr.shape[-3] == 1:
        return img
    return wrap(_blend(arr, _grey_floor(arr), saturation_factor))


def adjust_contrast(img: ImageLike, contrast_factor: float) -> ImageLike:
    if is_pil(img):
        return v1.adjust_contrast(img, contrast_factor)
    v1._check_factor(contrast_factor, "contrast_factor")
    arr = image_array(img, channels=(1, 3))
    grey = _grey_floor(arr) if arr.shape[-3] == 3 else _float(arr)
    mean = grey.mean(axis=(-3, -2, -1), keepdims=True, dtype=np.float64).astype(grey.dtype)
    return wrap(_blend(arr, mean, contrast_factor))


def adjust_sharpness(img: ImageLike, sharpness_factor: float) -> ImageLike:
    if is_pil(img):
        return v1.adjust_sharpness(img, sharpness_factor)
    arr = image_array(img)
    if arr.shape[-3] not in (1, 3):
        raise TypeError(
            f"Input image tensor can have 1 or 3 channels, but found {arr.shape[-3]}")
    v1._check_factor(sharpness_factor, "sharpness_factor")
    h, w = arr.shape[-2:]
    if arr.size == 0 or h <= 2 or w <= 2:
        return img
    out = _float(arr).copy()
    dt = out.dtype.type
    a, b = dt(1.0 / 13.0), dt(5.0 / 13.0)
    blurred = np.zeros(arr.shape[:-2] + (h - 2, w - 2), dtype=out.dtype)
    for dy in range(3):
        for dx in range(3):
            blurred += (b if (dy, dx) == (1, 1) else a) * out[..., dy:dy + h - 2, dx:dx + w - 2]
    if not np.issubdtype(arr.dtype, np.floating):
        blurred = np.round(blurred)
    view = out[..., 1:-1, 1:-1]
    out[..., 1:-1, 1:-1] = _fma(blurred - view, 1.0 - sharpness_factor, view)
    out = np.clip(out, 0, max_value(arr.dtype))
    return wrap(out.astype(arr.dtype, copy=False))


def adjust_hue(img: ImageLike, hue_factor: float) -> ImageLike:
    if is_pil(img):
        return v1.adjust_hue(img, hue_factor)
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    arr = image_array(img, channels=(1, 3))
    if arr.shape[-3] == 1 or arr.size == 0:
        return img
    f = _convert_dtype_np(arr, np.dtype(np.float32))
    h, s, v = v1._rgb_to_hsv(f)
    h = np.mod(h + np.float32(hue_factor), np.float32(1.0))
    return wrap(_convert_dtype_np(v1._hsv_to_rgb(h, s, v), arr.dtype))


def adjust_gamma(img: ImageLike, gamma: float, gain: float = 1.0) -> ImageLike:
    if is_pil(img):
        return v1.adjust_gamma(img, gamma, gain)
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    arr = image_array(img)
    f = _float(arr) if np.issubdtype(arr.dtype, np.floating) else _convert_dtype_np(
        arr, np.dtype(np.float32))
    out = np.power(f, f.dtype.type(gamma))
    if gain != 1.0:
        out = np.clip(out * f.dtype.type(gain), 0.0, 1.0)
    return wrap(_convert_dtype_np(out.astype(f.dtype, copy=False), arr.dtype))


def posterize(img: ImageLike, bits: int) -> ImageLike:
    if is_pil(img):
        return v1.posterize(img, bits)
    if not isinstance(bits, int) or not 0 <= bits <= 8:
        raise TypeError(
            f"bits must be a positive integer in the range [0, 8], got {bits} instead.")
    arr = image_array(img)
    if np.issubdtype(arr.dtype, np.floating):
        levels = 1 << bits
        dt = arr.dtype.type
        return wrap(np.clip(np.floor(arr * dt(levels)), 0, levels - 1) * dt(1.0 / levels))
    value_bits = 8 if arr.dtype == np.uint8 else np.iinfo(arr.dtype).bits - 1
    if bits >= value_bits:
        return img
    mask = ((1 << bits) - 1) << (value_bits - bits)
    return wrap(arr & arr.dtype.type(mask))


def autocontrast(img: ImageLike) -> ImageLike:
    if is_pil(img):
        return v1.autocontrast(img)
    arr = image_array(img, channels=(1, 3))
    if arr.size == 0:
        return img
    bound = max_value(arr.dtype)
    f = _float(arr)
    lo = f.min(axis=(-2, -1), keepdims=True)
    hi = f.max(axis=(-2, -1), keepdims=True)
    same = hi == lo
    inv_scale = (hi - lo) * f.dtype.type(1.0 / bound)
    lo = np.where(same, 0, lo).astype(f.dtype)
    inv_scale = np.where(same, 1, inv_scale).astype(f.dtype)
    out = np.clip((f - lo) / inv_scale, 0, bound)
    return wrap(out.astype(arr.dtype, copy=False))


def equalize(img: ImageLike) -> ImageLike:
    if is_pil(img):
        return v1.equalize(img)
    arr = image_array(img)
    if arr.size == 0:
        return img
    u8 = _convert_dtype_np(arr, np.dtype(np.uint8))
    planes = u8.reshape(-1, *u8.shape[-2:])
    out = np.stack([v1._equalize_channel(p) for p in planes]).reshape(u8.shape)
    return wrap(_convert_dtype_np(out, arr.dtype))

"""``transforms.v2.functional`` for plain tensors and PIL images: v2's names (``to_image``,
``to_dtype``, ``horizontal_flip``, ...) and v2's tensor arithmetic where it differs from v1
(colour kernels, warp fill blending). Everything else is v1's function."""
from __future__ import annotations

from typing import TYPE_CHECKING, Union

import numpy as np
from PIL import Image

from ... import _interop as io
from .. import _geometry
from .._base import InterpolationMode, image_array, wrap
from ..functional import (
    _convert_dtype_np, center_crop, convert_image_dtype, crop, erase as _erase_tensor, five_crop,
    gaussian_blur, get_dimensions, get_image_num_channels, get_image_size, hflip, invert,
    normalize, pad, pil_to_tensor, resize, resized_crop, solarize, ten_crop, to_pil_image,
    to_tensor, vflip,
)
from ._color_kernels import (
    adjust_brightness, adjust_contrast, adjust_gamma, adjust_hue, adjust_saturation,
    adjust_sharpness, autocontrast, equalize, posterize, rgb_to_grayscale,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    import ember
    from ember import Tensor

    from .._base import ImageLike

__all__ = [
    "InterpolationMode", "adjust_brightness", "adjust_contrast", "adjust_gamma", "adjust_hue",
    "adjust_saturation", "adjust_sharpness", "affine", "autocontrast", "center_crop",
    "convert_image_dtype", "crop", "elastic", "elastic_transform", "equalize", "erase", "five_crop",
    "gaussian_blur", "gaussian_noise", "get_dimensions", "get_image_num_channels", "get_image_size",
    "get_size", "grayscale_to_rgb", "hflip", "horizontal_flip", "invert", "normalize", "pad",
    "permute_channels", "perspective", "pil_to_tensor", "posterize", "resize", "resized_crop",
    "rgb_to_grayscale", "rotate", "solarize", "ten_crop", "to_dtype", "to_grayscale", "to_image",
    "to_pil_image", "to_tensor", "vertical_flip", "vflip",
]

horizontal_flip = hflip
vertical_flip = vflip
to_grayscale = rgb_to_grayscale


def get_size(inpt: ImageLike) -> list[int]:
    """``[height, width]``."""
    return get_dimensions(inpt)[1:]


def to_image(inpt: Union[ImageLike, np.ndarray]) -> ImageLike:
    """PIL image, (H, W, C) ndarray or tensor -> (C, H, W) tensor (no scaling)."""
    if isinstance(inpt, np.ndarray):
        arr: np.ndarray = inpt[:, :, None] if inpt.ndim == 2 else inpt
        return wrap(np.ascontiguousarray(arr.transpose(2, 0, 1)))
    if isinstance(inpt, Image.Image):
        return pil_to_tensor(inpt)
    if io.is_tensor(inpt):
        return inpt
    raise TypeError(
        f"Input can either be a pure Tensor, a numpy array, or a PIL image, but got {type(inpt)} "
        "instead.")


def to_dtype(inpt: ImageLike, dtype: ember.dtype | None = None, scale: bool = False) -> ImageLike:
    """Cast a tensor; ``scale=True`` maps value ranges (uint8 -> float multiplies by 1/255,
    float -> uint8 multiplies by 255.999 and truncates)."""
    import ember

    dtype = ember.float32 if dtype is None else dtype
    arr = image_array(inpt, min_dims=0)
    target = np.dtype(io.np_dtype(dtype))
    if not scale or arr.dtype == target:
        return wrap(arr.astype(target))
    if np.issubdtype(target, np.floating) and not np.issubdtype(arr.dtype, np.floating):
        # v2 multiplies by 1 / max instead of dividing by max (v1)
        scale_by = target.type(1.0 / np.iinfo(arr.dtype).max)
        return wrap(arr.astype(target) * scale_by)
    return wrap(_convert_dtype_np(arr, target))


def grayscale_to_rgb(inpt: ImageLike) -> ImageLike:
    if isinstance(inpt, Image.Image):
        return inpt.convert("RGB")
    arr = image_array(inpt, min_dims=3)
    if arr.shape[-3] >= 3:
        return inpt
    reps = [1] * arr.ndim
    reps[-3] = 3
    return wrap(np.tile(arr, reps))


def affine(inpt: ImageLike, angle: float, translate: Sequence[int], scale: float,
           shear: float | Sequence[float],
           interpolation: InterpolationMode | str | int = InterpolationMode.NEAREST,
           fill: float | Sequence[float] | None = None,
           center: Sequence[int] | None = None) -> ImageLike:
    return _geometry.warp_affine(inpt, angle, translate, scale, shear, interpolation, fill,
                                 center, v2=True)


def rotate(inpt: ImageLike, angle: float,
           interpolation: InterpolationMode | str | int = InterpolationMode.NEAREST,
           expand: bool = False, center: Sequence[int] | None = None,
           fill: float | Sequence[float] | None = None) -> ImageLike:
    return _geometry.warp_rotate(inpt, angle, interpolation, expand, center, fill, v2=True)


def perspective(inpt: ImageLike, startpoints: Sequence[Sequence[int]],
                endpoints: Sequence[Sequence[int]],
                interpolation: InterpolationMode | str | int = InterpolationMode.BILINEAR,
                fill: float | Sequence[float] | None = None,
                coefficients: None = None) -> ImageLike:
    if coefficients is not None:
        raise NotImplementedError("perspective(coefficients=...) is not supported by Ember")
    return _geometry.warp_perspective(inpt, startpoints, endpoints, interpolation, fill,
                                      v2=True)



def erase(inpt: ImageLike, i: int, j: int, h: int, w: int, v: Tensor,
          inplace: bool = False) -> ImageLike:
    """v1's erase, and for a PIL image the same on its pixels (v2 accepts PIL)."""
    if isinstance(inpt, Image.Image):
        out = _erase_tensor(pil_to_tensor(inpt), i, j, h, w, v)
        return to_pil_image(out, mode=inpt.mode)
    return _erase_tensor(inpt, i, j, h, w, v, inplace=inplace)


def permute_channels(inpt: ImageLike, permutation: Sequence[int]) -> ImageLike:
    """Reorder the channels (``out[..., i, :, :] = in[..., permutation[i], :, :]``)."""
    if isinstance(inpt, Image.Image):
        out = permute_channels(pil_to_tensor(inpt), permutation)
        return to_pil_image(out, mode=inpt.mode)
    arr = image_array(inpt, min_dims=3)
    perm = [int(p) for p in permutation]
    if len(perm) != arr.shape[-3]:
        raise ValueError(
            "Length of permutation does not match number of channels: "
            f"{len(perm)} != {arr.shape[-3]}")
    return wrap(arr[..., perm, :, :])


def gaussian_noise(inpt: ImageLike, mean: float = 0.0, sigma: float = 0.1,
                   clip: bool = True) -> ImageLike:
    """``img + mean + N(0, 1) * sigma`` on float images, clipped to [0, 1] by default."""
    from .. import _rng

    arr = image_array(inpt, min_dims=0)
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(  # a tensor here: image_array refused anything else above
            f"Input tensor is expected to be in float dtype, got dtype={inpt.dtype}")  # type: ignore[union-attr]
    if sigma < 0:
        raise ValueError(f"sigma shouldn't be negative. Got {sigma}")
    noise = io.to_numpy(_rng.normal(arr.shape)).astype(arr.dtype)
    out = arr + (arr.dtype.type(mean) + noise * arr.dtype.type(sigma))
    return wrap(np.clip(out, 0, 1) if clip else out)


def elastic(inpt: ImageLike, displacement: Tensor,
            interpolation: InterpolationMode | str | int = InterpolationMode.BILINEAR,
            fill: float | Sequence[float] | None = None) -> ImageLike:
    """Move each pixel by ``displacement`` (1, H, W, 2), in normalised [-1, 1] units."""
    return _geometry.warp_elastic(inpt, displacement, interpolation, fill, v2=True)


elastic_transform = elastic

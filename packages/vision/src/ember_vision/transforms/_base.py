"""What every transform module shares: the interpolation enum, input checks, image sizes, and
the trip between an image tensor and the NumPy array the pixel work is done on.
"""
from enum import Enum
from typing import TYPE_CHECKING, TypeGuard, Union

import numpy as np
from PIL import Image

from .. import _interop as io

if TYPE_CHECKING:
    from ember import Tensor

ImageLike = Union[Image.Image, "Tensor"]
"""What the transforms accept and return: a PIL image or an ember tensor (..., C, H, W)."""


class InterpolationMode(Enum):
    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


PIL_FILTERS = {
    InterpolationMode.NEAREST: Image.Resampling.NEAREST,
    InterpolationMode.NEAREST_EXACT: Image.Resampling.NEAREST,
    InterpolationMode.BILINEAR: Image.Resampling.BILINEAR,
    InterpolationMode.BICUBIC: Image.Resampling.BICUBIC,
    InterpolationMode.BOX: Image.Resampling.BOX,
    InterpolationMode.HAMMING: Image.Resampling.HAMMING,
    InterpolationMode.LANCZOS: Image.Resampling.LANCZOS,
}


def interpolation_mode(mode: "InterpolationMode | str | int") -> InterpolationMode:
    """An ``InterpolationMode`` from the enum itself, a PIL constant, or its value string."""
    if isinstance(mode, InterpolationMode):
        return mode
    if isinstance(mode, int) and not isinstance(mode, bool):
        # torchvision maps PIL's integer constants (0 nearest, 2 bilinear, 3 bicubic, ...)
        for m, f in PIL_FILTERS.items():
            if f == mode and m is not InterpolationMode.NEAREST_EXACT:
                return m
    if isinstance(mode, str):
        try:
            return InterpolationMode(mode)
        except ValueError:
            pass
    raise TypeError(
        "Argument interpolation should be a InterpolationMode or a corresponding Pillow "
        "integer constant")


def is_pil(img: object) -> TypeGuard[Image.Image]:
    return isinstance(img, Image.Image)


def check_image(img):
    if not (is_pil(img) or io.is_tensor(img)):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")


def check_pil(img):
    if not is_pil(img):
        raise TypeError(f"img should be PIL Image. Got {type(img)}")


def get_dimensions(img):
    """``[channels, height, width]``."""
    check_image(img)
    if is_pil(img):
        return [len(img.getbands()), img.height, img.width]
    shape = tuple(img.shape)
    if len(shape) < 2:
        raise TypeError("Tensor is not a torch image.")
    channels = 1 if len(shape) == 2 else shape[-3]
    return [channels, shape[-2], shape[-1]]


def get_image_size(img):
    """``[width, height]``."""
    _, h, w = get_dimensions(img)
    return [w, h]


def get_image_num_channels(img):
    return get_dimensions(img)[0]


def image_array(img, min_dims=2, channels=None):
    """The pixels of an image tensor as an ndarray (..., C, H, W), after torchvision's checks."""
    if not io.is_tensor(img):
        raise TypeError(f"img should be Tensor Image. Got {type(img)}")
    arr = io.to_numpy(img)
    if arr.ndim < min_dims:
        if min_dims == 2:
            raise TypeError("Tensor is not a torch image.")
        raise TypeError(
            f"Input image tensor should have at least {min_dims} dimensions, but found "
            f"{arr.ndim}")
    if channels is not None:
        c = 1 if arr.ndim == 2 else arr.shape[-3]
        if c not in channels:
            raise TypeError(
                f"Input image tensor permitted channel values are {channels}, but found {c}")
    return arr


def wrap(arr):
    """A fresh tensor over ``arr`` (copied if it is a non-contiguous view)."""
    return io.from_numpy(np.ascontiguousarray(arr))


def max_value(dtype):
    """The value a fully bright pixel has: 1.0 for floats, the top of an integer type."""
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.floating):
        return 1.0
    if dtype == np.bool_:
        return 1
    return int(np.iinfo(dtype).max)


def work_dtype(dtype):
    """The float type torchvision computes in: the image's own if float, else float32."""
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float32)


def cast_back(out, dtype):
    """Float results back to the image's type, rounding first for integers (torchvision's
    ``_cast_squeeze_out``)."""
    if np.issubdtype(dtype, np.integer):
        out = np.round(out)
    return out.astype(dtype, copy=False)


def truncate_to(out, dtype):
    """``tensor.to(dtype)`` on float values: integers are truncated toward zero."""
    return out.astype(dtype, copy=False)

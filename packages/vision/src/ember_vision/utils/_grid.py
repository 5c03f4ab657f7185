"""``make_grid`` and ``save_image``: a batch of images tiled into one, as torchvision does."""
import math
import os
from typing import BinaryIO, Optional, Union

import numpy as np
from PIL import Image

from .. import _interop

# torch's names for the integer types in "can't be cast" errors
_C_NAMES = {"uint8": "unsigned char", "int8": "signed char", "int16": "short int",
            "int32": "int", "int64": "long int", "bool": "bool"}


def _as_batch(tensor) -> np.ndarray:
    """The input as a 4-D (B, C, H, W) NumPy array, grey images repeated to 3 channels."""
    if not _interop.is_tensor(tensor):
        if isinstance(tensor, list):
            for t in tensor:
                if not _interop.is_tensor(t):
                    raise TypeError(
                        f"tensor or list of tensors expected, got a list containing {type(t)}")
        else:
            raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if isinstance(tensor, list):
        arrays = [_interop.to_numpy(t) for t in tensor]
        for i, a in enumerate(arrays[1:], 1):
            if a.shape != arrays[0].shape:
                raise RuntimeError(
                    "stack expects each tensor to be equal size, but got "
                    f"{list(arrays[0].shape)} at entry 0 and {list(a.shape)} at entry {i}")
        arr = np.stack(arrays, 0)
    else:
        arr = _interop.to_numpy(tensor)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim == 3:
        if arr.shape[0] == 1:
            arr = np.concatenate((arr, arr, arr), 0)
        arr = arr[None]
    if arr.ndim == 4 and arr.shape[1] == 1:
        arr = np.concatenate((arr, arr, arr), 1)
    return arr


def _cast_error(dtype: np.dtype) -> RuntimeError:
    return RuntimeError("result type Float can't be cast to the desired output type "
                        f"{_C_NAMES.get(dtype.name, dtype.name)}")


def _normalize(arr: np.ndarray, value_range, scale_each: bool) -> np.ndarray:
    if value_range is not None and not isinstance(value_range, tuple):
        raise TypeError("value_range has to be a tuple (min, max) if specified. "
                        "min and max are numbers")
    if arr.dtype.kind != "f":
        raise _cast_error(arr.dtype)
    arr = arr.copy()

    def norm(img):  # in place, in the array's own float type, as torch's clamp_/sub_/div_
        low, high = value_range if value_range is not None else (float(img.min()),
                                                                 float(img.max()))
        np.clip(img, arr.dtype.type(low), arr.dtype.type(high), out=img)
        img -= arr.dtype.type(low)
        img /= arr.dtype.type(max(high - low, 1e-5))

    for img in (arr if scale_each is True else [arr]):
        norm(img)
    return arr


def make_grid(tensor, nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range: Optional[tuple] = None, scale_each: bool = False,
              pad_value: float = 0.0):
    """Tile a (B, C, H, W) batch (or a list of images) into one (C, H', W') image,
    ``nrow`` per row, with ``padding`` pixels of ``pad_value`` around each."""
    arr = _as_batch(tensor)
    if normalize is True:
        arr = _normalize(arr, value_range, scale_each)
    if arr.shape[0] == 1:
        return _interop.from_numpy(np.ascontiguousarray(arr[0]))
    nmaps = arr.shape[0]
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = int(arr.shape[2] + padding), int(arr.shape[3] + padding)
    grid = _full((arr.shape[1], height * ymaps + padding, width * xmaps + padding),
                 pad_value, arr.dtype)
    for k in range(nmaps):
        y, x = divmod(k, xmaps)
        top, left = y * height + padding, x * width + padding
        grid[:, top:top + height - padding, left:left + width - padding] = arr[k]
    return _interop.from_numpy(grid)


def _full(shape, value, dtype: np.dtype) -> np.ndarray:
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        if not info.min <= int(value) <= info.max:
            raise RuntimeError(f"value cannot be converted to type {dtype.name}_t without "
                               "overflow")
        value = int(value)
    return np.full(shape, value, dtype=dtype)


def save_image(tensor, fp: Union[str, os.PathLike, BinaryIO], format: Optional[str] = None,
               **kwargs) -> None:
    """Save a tensor (or a grid of a batch, via ``make_grid(**kwargs)``) as an image file."""
    grid = _interop.to_numpy(make_grid(tensor, **kwargs))
    if grid.dtype.kind != "f":
        raise _cast_error(grid.dtype)
    f = grid.dtype.type
    # scale to [0, 255] and add 0.5 so the truncating cast rounds to nearest, in float32
    # like torch's mul(255).add_(0.5).clamp_(0, 255).to(uint8)
    pixels = np.clip(grid * f(255) + f(0.5), f(0), f(255)).transpose(1, 2, 0).astype(np.uint8)
    Image.fromarray(pixels).save(fp, format=format)

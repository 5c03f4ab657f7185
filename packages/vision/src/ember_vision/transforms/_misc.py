"""Gaussian blur and erasing (the functions behind ``GaussianBlur`` and ``RandomErasing``)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import _interop as io
from ._base import cast_back, image_array, is_pil, wrap

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ember import Tensor

    from ._base import ImageLike

__all__ = ["erase", "gaussian_blur"]


def _gaussian_kernel1d(size, sigma, dtype):
    half = (size - 1) * 0.5
    from ._geometry import _linspace32

    x = _linspace32(-half, half, size).astype(dtype)
    pdf = np.exp(dtype.type(-0.5) * (x / dtype.type(sigma)) ** 2)
    return pdf / pdf.sum()


def _blur_array(arr, kernel_size, sigma):
    """torchvision's tensor blur: reflect-pad by half the kernel, then correlate with the
    2-D kernel outer(k_y, k_x), per channel, in float (integers rounded back)."""
    dt = arr.dtype if np.issubdtype(arr.dtype, np.floating) else np.dtype(np.float32)
    kx = _gaussian_kernel1d(kernel_size[0], sigma[0], dt)
    ky = _gaussian_kernel1d(kernel_size[1], sigma[1], dt)
    kernel = np.outer(ky, kx).astype(dt)
    px, py = kernel_size[0] // 2, kernel_size[1] // 2
    h, w = arr.shape[-2:]
    if px >= w or py >= h:
        raise RuntimeError(
            "Padding size should be less than the corresponding input dimension, but got: "
            f"padding ({px}, {px}) at dimension 3 of input {list(arr.shape)}")
    widths = [(0, 0)] * (arr.ndim - 2) + [(py, py), (px, px)]
    padded = np.pad(arr.astype(dt, copy=False), widths, mode="reflect")
    out = np.zeros(arr.shape, dtype=dt)
    for dy in range(kernel.shape[0]):
        for dx in range(kernel.shape[1]):
            out += kernel[dy, dx] * padded[..., dy:dy + h, dx:dx + w]
    return cast_back(out, arr.dtype) if dt != arr.dtype else out


def gaussian_blur(img: ImageLike, kernel_size: int | Sequence[int],
                  sigma: float | Sequence[float] | None = None) -> ImageLike:
    """Blur with a Gaussian of odd ``kernel_size`` (x, y) and ``sigma`` (x, y)."""
    if not isinstance(kernel_size, (int, list, tuple)):
        raise TypeError(
            f"kernel_size should be int or a sequence of integers. Got {type(kernel_size)}")
    if isinstance(kernel_size, int):
        kernel_size = [kernel_size, kernel_size]
    if len(kernel_size) != 2:
        raise ValueError(
            f"If kernel_size is a sequence its length should be 2. Got {len(kernel_size)}")
    for ksize in kernel_size:
        if ksize % 2 == 0 or ksize < 0:
            raise ValueError(
                f"kernel_size should have odd and positive integers. Got {kernel_size}")
    if sigma is None:
        sigma = [ksize * 0.15 + 0.35 for ksize in kernel_size]
    if not isinstance(sigma, (int, float, list, tuple)):
        raise TypeError(f"sigma should be either float or sequence of floats. Got {type(sigma)}")
    if isinstance(sigma, (int, float)):
        sigma = [float(sigma), float(sigma)]
    if len(sigma) == 1:
        sigma = [sigma[0], sigma[0]]
    if len(sigma) != 2:
        raise ValueError(f"If sigma is a sequence, its length should be 2. Got {len(sigma)}")
    for s in sigma:
        if s <= 0.0:
            raise ValueError(f"sigma should have positive values. Got {sigma}")
    if is_pil(img):
        # torchvision blurs a PIL image as a uint8 tensor and converts it back
        from PIL import Image

        a = np.asarray(img)
        chw = a[None] if a.ndim == 2 else a.transpose(2, 0, 1)
        out = _blur_array(chw, kernel_size, sigma)
        hwc = out[0] if a.ndim == 2 else out.transpose(1, 2, 0)
        return Image.fromarray(np.ascontiguousarray(hwc))
    if not io.is_tensor(img):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")
    arr = image_array(img)
    return wrap(_blur_array(arr, kernel_size, sigma))


def erase(img: ImageLike, i: int, j: int, h: int, w: int, v: Tensor,
          inplace: bool = False) -> ImageLike:
    """Overwrite the (h, w) box at (i, j) with ``v`` (a tensor broadcast to the box)."""
    if not io.is_tensor(img):
        raise TypeError(f"img should be Tensor Image. Got {type(img)}")
    arr = image_array(img)
    out = arr if inplace else arr.copy()
    value = io.to_numpy(v) if io.is_tensor(v) else np.asarray(v)
    out[..., i:i + h, j:j + w] = value
    return img if inplace else wrap(out)

"""Padding and the warps (``affine``, ``rotate``, ``perspective``).

PIL images are warped by Pillow (``Image.transform``/``Image.rotate``), as torchvision does.
Tensors are warped as torchvision's tensor path does: an output pixel's centre is mapped back
through the inverse transform to a point of the input (a normalised sampling grid built with
float32 ``linspace`` as torch builds it), the input is sampled there (nearest or bilinear,
``grid_sample(align_corners=False)`` with zeros outside), and a ``fill`` colour is blended in
through a sampled all-ones mask channel. Integer images are warped in float32 and rounded.
"""
from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING

import numpy as np
from ember_tensor import Array
from ember_tensor.nn import grid_sample as _grid_kernel
from PIL import Image, ImageOps

from ._base import (
    PIL_FILTERS, InterpolationMode, cast_back, check_image, get_dimensions, image_array,
    interpolation_mode, is_pil, wrap,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ember import Tensor

    from ._base import ImageLike

__all__ = ["affine", "elastic_transform", "pad", "perspective", "rotate"]

_PAD_MODES = ("constant", "edge", "reflect", "symmetric")


# ---------------------------------------------------------------- pad

def _pad_amounts(padding):
    """(left, top, right, bottom) from an int or a 1-, 2- or 4-sequence."""
    if isinstance(padding, numbers.Number):
        return [int(padding)] * 4
    if len(padding) == 1:
        return [padding[0]] * 4
    if len(padding) == 2:
        return [padding[0], padding[1], padding[0], padding[1]]
    return list(padding)


def _pil_fill(fill, img, name="fillcolor"):
    """torchvision's ``_parse_fill``: one value per band, integers unless the image is float."""
    bands = len(img.getbands())
    if fill is None:
        fill = 0
    if isinstance(fill, (int, float)) and bands > 1:
        fill = tuple([fill] * bands)
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = tuple(fill) * bands
        elif len(fill) != bands:
            raise ValueError(
                "The number of elements in 'fill' does not match the number of channels of "
                f"the image ({len(fill)} != {bands})")
        fill = tuple(fill)
    if img.mode != "F":
        fill = tuple(int(x) for x in fill) if isinstance(fill, tuple) else int(fill)
    return {name: fill}


def _np_pad(arr, left, top, right, bottom, mode, fill=0):
    """Pad the last two axes; negative amounts crop."""
    h, w = arr.shape[-2:]
    arr = arr[..., max(-top, 0):h - max(-bottom, 0), max(-left, 0):w - max(-right, 0)]
    left, top, right, bottom = (max(v, 0) for v in (left, top, right, bottom))
    widths = [(0, 0)] * (arr.ndim - 2) + [(top, bottom), (left, right)]
    np_mode = {"edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}.get(mode)
    if np_mode is None:
        return np.pad(arr, widths, mode="constant", constant_values=fill)
    if mode == "reflect" and (max(top, bottom) >= h or max(left, right) >= w):
        raise RuntimeError(
            "Argument #4: Padding size should be less than the corresponding input dimension, "
            f"but got: padding ({left}, {right}) at dimension 3 of input {list(arr.shape)}")
    return np.pad(arr, widths, mode=np_mode)


def pad(img: ImageLike, padding: int | Sequence[int], fill: float | Sequence[float] | None = 0,
        padding_mode: str = "constant") -> ImageLike:
    """Pad every side (``padding`` is an int, [lr, tb] or [l, t, r, b]); modes as torchvision."""
    check_image(img)
    if not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if fill is not None and not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate fill arg")
    if not isinstance(padding_mode, str):
        raise TypeError("Got inappropriate padding_mode arg")
    if isinstance(padding, (list, tuple)) and len(padding) not in (1, 2, 4):
        raise ValueError(
            "Padding must be an int or a 1, 2, or 4 element tuple, not a "
            f"{len(padding)} element tuple")
    if padding_mode not in _PAD_MODES:
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    left, top, right, bottom = _pad_amounts(padding)
    if is_pil(img):
        return _pad_pil(img, left, top, right, bottom, fill, padding_mode)
    arr = image_array(img)
    if fill is None:
        fill = 0
    if padding_mode == "constant":
        if not isinstance(fill, (int, float)):
            raise TypeError("Got inappropriate fill arg")
        # torch's constant pad casts the fill to the tensor's type
        value = np.array(float(fill)).astype(arr.dtype)
        return wrap(_np_pad(arr, left, top, right, bottom, "constant", value))
    return wrap(_np_pad(arr, left, top, right, bottom, padding_mode))


def _pad_pil(img, left, top, right, bottom, fill, mode):
    palette = img.getpalette() if img.mode == "P" else None
    if mode == "constant":
        out = ImageOps.expand(img, border=(left, top, right, bottom),
                              **_pil_fill(fill, img, name="fill"))
    else:
        arr = np.asarray(img)
        planar = arr.ndim == 3
        if planar:
            arr = arr.transpose(2, 0, 1)
        arr = _np_pad(arr, left, top, right, bottom, mode)
        out = Image.fromarray(np.ascontiguousarray(arr.transpose(1, 2, 0) if planar else arr))
    if palette is not None:
        out.putpalette(palette)
    return out


# ---------------------------------------------------------------- matrices

def _get_inverse_affine_matrix(center, angle, translate, scale, shear, inverted=True):
    """The 2x3 matrix (row-major, 6 floats) mapping output pixels back to input pixels.

    The forward map is T(translate) C R(angle) Sh(shear) S(scale) C^-1 about ``center``;
    angles in degrees, clockwise as torchvision documents.
    """
    rot = math.radians(angle)
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    # rotation composed with shear, without scale
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    if not inverted:
        m = [a * scale, b * scale, 0.0, c * scale, d * scale, 0.0]
        m[2] += m[0] * (-cx) + m[1] * (-cy) + cx + tx
        m[5] += m[3] * (-cx) + m[4] * (-cy) + cy + ty
        return m
    m = [x / scale for x in (d, -b, 0.0, -c, a, 0.0)]
    m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty)
    m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty)
    m[2] += cx
    m[5] += cy
    return m


def _get_perspective_coeffs(startpoints, endpoints):
    """(a..h) with (x, y) -> ((ax + by + c) / (gx + hy + 1), (dx + ey + f) / (gx + hy + 1))
    mapping each end point back to its start point; float64 least squares, float32 result."""
    if len(startpoints) != 4 or len(endpoints) != 4:
        raise ValueError(
            f"Please provide exactly four corners, got {len(startpoints)} startpoints and "
            f"{len(endpoints)} endpoints.")
    a = np.zeros((8, 8), dtype=np.float64)
    for i, (p1, p2) in enumerate(zip(endpoints, startpoints)):
        a[2 * i] = [p1[0], p1[1], 1, 0, 0, 0, -p2[0] * p1[0], -p2[0] * p1[1]]
        a[2 * i + 1] = [0, 0, 0, p1[0], p1[1], 1, -p2[1] * p1[0], -p2[1] * p1[1]]
    b = np.asarray(startpoints, dtype=np.float64).reshape(8)
    sol = np.linalg.lstsq(a, b, rcond=None)[0]
    return [float(v) for v in sol.astype(np.float32)]


def _compute_affine_output_size(matrix, w, h):
    """The (w, h) that holds the whole warped image (``expand=True``), as PIL computes it."""
    pts = np.array([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0],
                    [0.5 * w, 0.5 * h, 1.0], [0.5 * w, -0.5 * h, 1.0]], dtype=np.float32)
    theta = np.asarray(matrix, dtype=np.float32).reshape(2, 3)
    new = pts @ theta.T
    half = np.array([w * 0.5, h * 0.5], dtype=np.float32)
    lo, hi = new.min(axis=0) + half, new.max(axis=0) + half
    tol = np.float32(1e-4)  # drop 1e-15-sized noise before ceil/floor
    cmax = np.ceil(np.trunc(hi / tol) * tol)
    cmin = np.floor(np.trunc(lo / tol) * tol)
    size = cmax - cmin
    return int(size[0]), int(size[1])


# ---------------------------------------------------------------- sampling grids

def _linspace32(start, end, steps):
    """torch.linspace in float32, element for element: the first half counts up from
    ``start``, the rest down from ``end``, each as one fused multiply-add (torch's CPU kernel
    is a scalar loop compiled with contraction)."""
    f = np.float32
    if steps == 1:
        return np.array([start], dtype=f)
    start32, end32 = f(start), f(end)
    step = np.float64((end32 - start32) / f(steps - 1))
    idx = np.arange(steps, dtype=np.float64)
    first = (step * idx + start32).astype(f)
    second = (-step * (steps - idx - 1) + end32).astype(f)
    return np.where(np.arange(steps) < steps // 2, first, second)


def _base_axes(ow, oh, x0, y0, dtype):
    """The base grid's pixel-centre coordinates: x per column, y per row (its third
    coordinate is 1), as torchvision's float32 ``linspace`` makes them."""
    xs = _linspace32(x0, ow + x0 - 1, ow).astype(dtype)
    ys = _linspace32(y0, oh + y0 - 1, oh).astype(dtype)
    return xs, ys


def _plane(axes, a, b, c):
    """``(x * a + y * b) + c`` over the base grid of ``axes`` (oh, ow): one coordinate of
    ``base @ m`` summed left to right without fused multiply-adds, the order torch's bmm
    gives these grids (a BLAS matmul can differ in the last bit, which moves
    nearest-neighbour picks that sit on a .5 boundary). The same products and sums as the
    (oh * ow, 3) base grid's, broadcast from a row's x terms and a column's y terms."""
    xs, ys = axes
    return (xs[None, :] * a + ys[:, None] * b) + c


def _pairs(planes):
    """(oh, ow, 2) from the x and y planes. Built plane by plane: numpy's broadcasting over
    a last axis of 2 runs a 2-long inner loop per pixel, 20x slower."""
    out = np.empty(planes[0].shape + (2,), planes[0].dtype)
    out[..., 0], out[..., 1] = planes
    return out


def _affine_grid(matrix, w, h, ow, oh, dtype):
    """Normalised input coordinates (oh, ow, 2) of each output pixel centre."""
    theta = np.asarray(matrix, dtype=dtype).reshape(2, 3)
    axes = _base_axes(ow, oh, -ow * 0.5 + 0.5, -oh * 0.5 + 0.5, dtype)
    rescaled = theta / np.array([[0.5 * w], [0.5 * h]], dtype=dtype)
    return _pairs([_plane(axes, *row) for row in rescaled])


def _perspective_grid(coeffs, ow, oh, dtype):
    theta1 = np.array([coeffs[0:3], coeffs[3:6]], dtype=dtype)
    theta1 = theta1 / np.array([[0.5 * ow], [0.5 * oh]], dtype=dtype)
    axes = _base_axes(ow, oh, 0.5, 0.5, dtype)
    den = _plane(axes, *np.array([coeffs[6], coeffs[7], 1.0], dtype=dtype))
    one = dtype.type(1.0)
    return _pairs([_plane(axes, *row) / den - one for row in theta1])


def _grid_sample(img, grid, mode):
    """torch's grid_sample (zeros padding, align_corners=False) of (N, C, H, W) at grid
    (oh, ow, 2) shared by the whole batch: ember_tensor's kernel, which does torch's CPU
    arithmetic to the bit (its fused multiply-adds in the unnormalisation and the corner
    sum), so the warps equal torchvision's tensor path."""
    n = img.shape[0]
    grids = np.ascontiguousarray(np.broadcast_to(grid, (n,) + grid.shape), dtype=img.dtype)
    return _grid_kernel.grid_sample(Array(np.ascontiguousarray(img)), Array(grids), mode,
                                    "zeros", False)._np


def _apply_grid(arr, grid, mode, fill, v2=False):
    """Sample ``arr`` (..., C, H, W) on ``grid``, fill outside, cast back as torchvision
    (``v2`` blends the fill as v2 does: ``(img - fill) * mask + fill``)."""
    dtype = arr.dtype
    lead = arr.shape[:-3]
    c, h, w = arr.shape[-3:]
    work = arr.reshape((-1, c, h, w)).astype(grid.dtype, copy=False)
    if fill is not None:
        ones = np.ones((work.shape[0], 1, h, w), dtype=grid.dtype)
        work = np.concatenate([work, ones], axis=1)
    out = _grid_sample(work, grid, mode)
    if fill is not None:
        mask, out = out[:, -1:], out[:, :-1]
        fills = list(fill) if isinstance(fill, (list, tuple)) else [float(fill)]
        fill_img = np.asarray(fills, dtype=grid.dtype).reshape(1, len(fills), 1, 1)
        if mode == "nearest":
            out = np.where(mask < 0.5, np.broadcast_to(fill_img, out.shape), out)
        elif v2:
            out = (out - fill_img) * mask + fill_img
        else:
            out = out * mask + (grid.dtype.type(1.0) - mask) * fill_img
    out = out.reshape(lead + out.shape[1:])
    return wrap(cast_back(out, dtype) if dtype != grid.dtype else out)


def _check_grid_inputs(arr, interpolation, fill):
    channels = 1 if arr.ndim == 2 else arr.shape[-3]
    if (fill is not None and isinstance(fill, (tuple, list)) and len(fill) > 1
            and len(fill) != channels):
        raise ValueError(
            "The number of elements in 'fill' cannot broadcast to match the number of channels "
            f"of the image ({len(fill)} != {channels})")
    if interpolation not in (InterpolationMode.NEAREST, InterpolationMode.BILINEAR):
        raise ValueError(
            f"Interpolation mode '{interpolation.value}' is unsupported with Tensor input")


def _tensor_chw(img):
    """A 2-D (H, W) tensor is a one-channel image to the warps."""
    arr = image_array(img)
    return arr if arr.ndim >= 3 else arr[None]


def _grid_dtype(arr):
    return arr.dtype if np.issubdtype(arr.dtype, np.floating) else np.dtype(np.float32)


def _squeeze_like(out, img):
    return out if len(img.shape) >= 3 else wrap(out.numpy()[0])


# ---------------------------------------------------------------- warps

def affine(img: ImageLike, angle: float, translate: Sequence[int], scale: float,
           shear: float | Sequence[float],
           interpolation: InterpolationMode | str | int = InterpolationMode.NEAREST,
           fill: float | Sequence[float] | None = None,
           center: Sequence[int] | None = None) -> ImageLike:
    """Rotate by ``angle`` (degrees, clockwise), shear, scale and translate about ``center``."""
    return warp_affine(img, angle, translate, scale, shear, interpolation, fill, center)


def warp_affine(img: ImageLike, angle: float, translate: Sequence[int], scale: float,
                shear: float | Sequence[float], interpolation: InterpolationMode | str | int,
                fill: float | Sequence[float] | None, center: Sequence[int] | None,
                v2: bool = False) -> ImageLike:
    mode = interpolation_mode(interpolation)
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if not isinstance(translate, (list, tuple)):
        raise TypeError("Argument translate should be a sequence")
    if len(translate) != 2:
        raise ValueError("Argument translate should be a sequence of length 2")
    if scale <= 0.0:
        raise ValueError("Argument scale should be positive")
    if not isinstance(shear, (numbers.Number, list, tuple)):
        raise TypeError("Shear should be either a single value or a sequence of two values")
    angle = float(angle)
    shear = [shear, 0.0] if isinstance(shear, numbers.Number) else list(shear)  # type: ignore[list-item]
    if len(shear) == 1:
        shear = [shear[0], shear[0]]
    if len(shear) != 2:
        raise ValueError(f"Shear should be a sequence containing two values. Got {shear}")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    _, height, width = get_dimensions(img)
    if is_pil(img):
        if center is None:
            center = [width * 0.5, height * 0.5]
        matrix = _get_inverse_affine_matrix(center, angle, list(translate), scale, shear)
        return img.transform(img.size, Image.Transform.AFFINE, matrix, PIL_FILTERS[mode],
                             **_pil_fill(fill, img))
    center_f = [0.0, 0.0]
    if center is not None:
        center_f = [1.0 * (c - s * 0.5) for c, s in zip(center, [width, height])]
    translate_f = [1.0 * t for t in translate]
    matrix = _get_inverse_affine_matrix(center_f, angle, translate_f, scale, shear)
    arr = _tensor_chw(img)
    _check_grid_inputs(arr, mode, fill)
    grid = _affine_grid(matrix, width, height, width, height, _grid_dtype(arr))
    return _squeeze_like(_apply_grid(arr, grid, mode.value, fill, v2), img)


def rotate(img: ImageLike, angle: float,
           interpolation: InterpolationMode | str | int = InterpolationMode.NEAREST,
           expand: bool = False, center: Sequence[int] | None = None,
           fill: float | Sequence[float] | None = None) -> ImageLike:
    """Rotate by ``angle`` degrees counter-clockwise about ``center`` (default: the middle)."""
    return warp_rotate(img, angle, interpolation, expand, center, fill)


def warp_rotate(img: ImageLike, angle: float, interpolation: InterpolationMode | str | int,
                expand: bool, center: Sequence[int] | None, fill: float | Sequence[float] | None,
                v2: bool = False) -> ImageLike:
    mode = interpolation_mode(interpolation)
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    if is_pil(img):
        return img.rotate(angle, PIL_FILTERS[mode], expand,
                          tuple(center) if center is not None else None, **_pil_fill(fill, img))
    _, height, width = get_dimensions(img)
    center_f = [0.0, 0.0]
    if center is not None:
        center_f = [1.0 * (c - s * 0.5) for c, s in zip(center, [width, height])]
    if v2:
        angle = angle % 360  # v2 normalises the angle first (it changes cos/sin's last bit)
    matrix = _get_inverse_affine_matrix(center_f, -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    arr = _tensor_chw(img)
    _check_grid_inputs(arr, mode, fill)
    ow, oh = _compute_affine_output_size(matrix, width, height) if expand else (width, height)
    grid = _affine_grid(matrix, width, height, ow, oh, _grid_dtype(arr))
    return _squeeze_like(_apply_grid(arr, grid, mode.value, fill, v2), img)


def perspective(img: ImageLike, startpoints: Sequence[Sequence[int]],
                endpoints: Sequence[Sequence[int]],
                interpolation: InterpolationMode | str | int = InterpolationMode.BILINEAR,
                fill: float | Sequence[float] | None = None) -> ImageLike:
    """Warp so that the four ``startpoints`` land on ``endpoints`` (corners tl, tr, br, bl)."""
    return warp_perspective(img, startpoints, endpoints, interpolation, fill)


def warp_perspective(img: ImageLike, startpoints: Sequence[Sequence[int]],
                     endpoints: Sequence[Sequence[int]],
                     interpolation: InterpolationMode | str | int,
                     fill: float | Sequence[float] | None, v2: bool = False) -> ImageLike:
    coeffs = _get_perspective_coeffs(startpoints, endpoints)
    mode = interpolation_mode(interpolation)
    if is_pil(img):
        return img.transform(img.size, Image.Transform.PERSPECTIVE, coeffs, PIL_FILTERS[mode],
                             **_pil_fill(fill, img))
    arr = _tensor_chw(img)
    _check_grid_inputs(arr, mode, fill)
    oh, ow = arr.shape[-2:]
    grid = _perspective_grid(coeffs, ow, oh, _grid_dtype(arr))
    return _squeeze_like(_apply_grid(arr, grid, mode.value, fill, v2), img)


def elastic_transform(img: ImageLike, displacement: Tensor,
                      interpolation: InterpolationMode | str | int = InterpolationMode.BILINEAR,
                      fill: float | Sequence[float] | None = None) -> ImageLike:
    """Move each pixel by ``displacement`` (1, H, W, 2), in normalised [-1, 1] units."""
    return warp_elastic(img, displacement, interpolation, fill)


def warp_elastic(img: ImageLike, displacement: Tensor, interpolation, fill,
                 v2: bool = False) -> ImageLike:
    from .. import _interop as io

    mode = interpolation_mode(interpolation)
    if not io.is_tensor(displacement):
        raise TypeError("Argument displacement should be a Tensor")
    check_image(img)
    if is_pil(img):
        # torchvision warps a PIL image as a tensor and converts it back
        from .functional import pil_to_tensor, to_pil_image

        out = warp_elastic(pil_to_tensor(img), displacement, interpolation, fill, v2)
        return to_pil_image(out, mode=img.mode)
    arr = _tensor_chw(img)
    h, w = arr.shape[-2:]
    disp = io.to_numpy(displacement)
    if tuple(disp.shape) != (1, h, w, 2):
        raise ValueError(
            f"Argument displacement shape should be {(1, h, w, 2)}, but given "
            f"{tuple(displacement.shape)}")
    _check_grid_inputs(arr, mode, fill)
    # v1 samples on a float32 grid; v2 in the image's own float type
    dtype = _grid_dtype(arr) if v2 else np.dtype(np.float32)
    grid = np.empty((h, w, 2), dtype=dtype)
    grid[..., 0] = _linspace32((-w + 1) / w, (w - 1) / w, w)[None, :]
    grid[..., 1] = _linspace32((-h + 1) / h, (h - 1) / h, h)[:, None]
    grid = grid + disp[0].astype(dtype)
    return _squeeze_like(_apply_grid(arr, grid, mode.value, fill, v2), img)

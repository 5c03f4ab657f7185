"""Image functions behind the transform classes, for PIL images and ember tensors.

PIL images are resized by PIL itself (torchvision's PIL path does the same, so values match
exactly). Tensors (``[..., C, H, W]``) are resized channel by channel through PIL's float
mode, whose antialiased bilinear/bicubic filters are the ones torch's ``antialias=True``
interpolation reproduces; uint8 tensors are rounded back as torchvision does.
"""
import numbers

import numpy as np
from PIL import Image

from .. import _interop as io
from ._base import (
    PIL_FILTERS as _PIL_FILTERS, InterpolationMode, check_image as _check_image,
    get_dimensions, get_image_num_channels, get_image_size, interpolation_mode as _interpolation,
    is_pil as _is_pil,
)
from ._color import (
    adjust_brightness, adjust_contrast, adjust_gamma, adjust_hue, adjust_saturation,
    adjust_sharpness, autocontrast, equalize, invert, posterize, rgb_to_grayscale, solarize,
    to_grayscale,
)
from ._geometry import affine, elastic_transform, pad, perspective, rotate
from ._misc import erase, gaussian_blur

__all__ = [
    "InterpolationMode", "adjust_brightness", "adjust_contrast", "adjust_gamma", "adjust_hue",
    "adjust_saturation", "adjust_sharpness", "affine", "autocontrast", "center_crop",
    "convert_image_dtype", "crop", "elastic_transform", "equalize", "erase", "five_crop",
    "gaussian_blur", "get_dimensions", "get_image_num_channels", "get_image_size", "hflip",
    "invert", "normalize", "pad", "perspective", "pil_to_tensor", "posterize", "resize",
    "resized_crop", "rgb_to_grayscale", "rotate", "solarize", "ten_crop", "to_grayscale",
    "to_pil_image", "to_tensor", "vflip",
]


# ---------------------------------------------------------------- conversions

def _pil_to_hwc(pic):
    """The pixels of ``pic`` as an (H, W, C) array of PIL's own type for its mode."""
    if pic.mode == "1":
        return (np.array(pic, dtype=np.uint8) * 255)[:, :, None]
    if pic.mode == "I;16":
        arr = np.array(pic, dtype=np.int32).astype(np.int16)  # torchvision's (wrapping) choice
    else:
        arr = np.array(pic)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return arr


def to_tensor(pic):
    """PIL image or (H, W, C) ndarray -> (C, H, W) tensor; uint8 is scaled to [0, 1]."""
    if not (_is_pil(pic) or isinstance(pic, np.ndarray)):
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    if isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        arr = pic[:, :, None] if pic.ndim == 2 else pic
    else:
        arr = _pil_to_hwc(pic)
    chw = np.ascontiguousarray(arr.transpose(2, 0, 1))
    if chw.dtype == np.uint8:
        chw = chw.astype(np.float32) / np.float32(255)
    return io.from_numpy(chw)


def pil_to_tensor(pic):
    """PIL image -> (C, H, W) tensor of the image's own dtype, values untouched."""
    if not _is_pil(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    return io.from_numpy(np.ascontiguousarray(_pil_to_hwc(pic).transpose(2, 0, 1)))


def to_pil_image(pic, mode=None):
    """(C, H, W) tensor or (H, W, C) ndarray -> PIL image (floats are scaled by 255)."""
    if io.is_tensor(pic):
        arr = io.to_numpy(pic)
        if arr.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {arr.ndim} dimensions.")
        if arr.ndim == 2:
            arr = arr[None]
        arr = arr.transpose(1, 2, 0)
        if np.issubdtype(arr.dtype, np.floating) and mode != "F":
            arr = (arr * 255).astype(np.uint8)
    elif isinstance(pic, np.ndarray):
        arr = pic[:, :, None] if pic.ndim == 2 else pic
    else:
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    if arr.shape[2] == 1:
        arr = arr[:, :, 0]
    img = Image.fromarray(np.ascontiguousarray(arr))
    return img if mode is None or img.mode == mode else img.convert(mode)


_INT_MAX = {np.dtype(np.uint8): 255, np.dtype(np.int8): 127, np.dtype(np.int16): 32767,
            np.dtype(np.int32): 2**31 - 1, np.dtype(np.int64): 2**63 - 1}


def _convert_dtype_np(a, target):
    src = a.dtype
    if src == target:
        return a
    src_float = np.issubdtype(src, np.floating)
    dst_float = np.issubdtype(target, np.floating)
    if src_float and dst_float:
        return a.astype(target)
    if src_float:
        if (src == np.float32 and target in (np.int32, np.int64)) or (
                src == np.float64 and target == np.int64):
            raise RuntimeError(
                f"The cast from {io.ember_dtype(src)} to {io.ember_dtype(target)} "
                "cannot be performed safely.")
        # 1 - eps keeps 1.0 at the top value instead of one past it
        eps = 1e-3
        return (a * (_INT_MAX[target] + 1.0 - eps)).astype(target)
    if dst_float:
        return (a.astype(target) / target.type(_INT_MAX[src]))
    src_max, dst_max = _INT_MAX[src], _INT_MAX[target]
    if src_max > dst_max:
        factor = (src_max + 1) // (dst_max + 1)
        return (a // factor).astype(target)
    factor = (dst_max + 1) // (src_max + 1)
    return a.astype(target) * target.type(factor)


def convert_image_dtype(image, dtype=None):
    """Convert an image tensor's dtype, rescaling values to the target's range."""
    if not io.is_tensor(image):
        raise TypeError("Input img should be Tensor Image")
    target = np.dtype(io.np_dtype(dtype if dtype is not None else np.float32))
    return io.from_numpy(np.ascontiguousarray(_convert_dtype_np(io.to_numpy(image), target)))


def normalize(tensor, mean, std, inplace=False):
    """``(tensor - mean) / std`` per channel of a float (..., C, H, W) tensor."""
    if not io.is_tensor(tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    if not tensor.dtype.is_floating_point:
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.dim() < 3:
        raise ValueError(
            "Expected tensor to be a tensor image of size (..., C, H, W). Got "
            f"tensor.size() = {tensor.size()}")
    np_t = io.np_dtype(tensor.dtype)
    mean_a = np.asarray(mean, dtype=np_t).reshape(-1)
    std_a = np.asarray(std, dtype=np_t).reshape(-1)
    if (std_a == 0).any():
        raise ValueError(
            f"std evaluated to zero after conversion to {tensor.dtype}, leading to division by "
            "zero.")
    channels = tensor.shape[-3]
    for v in (mean_a, std_a):
        if v.size not in (1, channels):
            raise RuntimeError(
                f"The size of tensor a ({channels}) must match the size of tensor b ({v.size}) "
                "at non-singleton dimension 0")
    mean_a, std_a = mean_a[:, None, None], std_a[:, None, None]
    if getattr(tensor, "requires_grad", False):
        # keep the graph: go through ember's own ops
        m = io.from_numpy(mean_a)
        s = io.from_numpy(std_a)
        return (tensor - m) / s
    arr = io.to_numpy(tensor)
    if inplace:
        np.subtract(arr, mean_a, out=arr)
        np.divide(arr, std_a, out=arr)
        return tensor
    return io.from_numpy((arr - mean_a) / std_a)


# ---------------------------------------------------------------- geometry

def _resized_output_size(height, width, size, max_size=None):
    """torchvision's rule: one number -> the shorter side, (h, w) -> exactly that."""
    if len(size) == 1:
        short, long = (width, height) if width <= height else (height, width)
        new_short = size[0]
        new_long = int(new_short * long / short)
        if max_size is not None:
            if max_size <= new_short:
                raise ValueError(
                    f"max_size = {max_size} must be strictly greater than the requested size "
                    f"for the smaller edge size = {size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        new_w, new_h = (new_short, new_long) if width <= height else (new_long, new_short)
        return [new_h, new_w]
    return [size[0], size[1]]


def _check_size(size, max_size=None):
    if isinstance(size, numbers.Number) and not isinstance(size, bool):
        if not isinstance(size, int):
            raise TypeError(f"Size should be int or sequence. Got {type(size)}")
        size = [size]
    elif isinstance(size, (list, tuple)):
        if len(size) not in (1, 2):
            raise ValueError(
                f"If size is a sequence, it should have 1 or 2 values, got {len(size)} values")
        size = list(size)
    else:
        raise TypeError(f"Size should be int or sequence. Got {type(size)}")
    if max_size is not None and len(size) != 1:
        raise ValueError(
            "max_size should only be passed if size specifies the length of the smaller edge, "
            "i.e. size should be an int or a sequence of length 1 in torchscript mode.")
    return size


def _resize_plane(plane, out_h, out_w, mode):
    """Resize one float32 (H, W) plane."""
    h, w = plane.shape
    if mode is InterpolationMode.NEAREST:
        # torch's legacy nearest picks floor(dst * in / out), not the pixel centre
        rows = np.minimum((np.arange(out_h) * (h / out_h)).astype(np.int64), h - 1)
        cols = np.minimum((np.arange(out_w) * (w / out_w)).astype(np.int64), w - 1)
        return plane[rows][:, cols]
    img = Image.fromarray(np.ascontiguousarray(plane, dtype=np.float32))  # -> mode "F"
    return np.asarray(img.resize((out_w, out_h), _PIL_FILTERS[mode]), dtype=np.float32)


def _resize_tensor(img, out_h, out_w, mode):
    arr = io.to_numpy(img)
    lead, (h, w) = arr.shape[:-2], arr.shape[-2:]
    planes = arr.reshape(-1, h, w)
    out = np.empty((planes.shape[0], out_h, out_w), dtype=np.float32)
    for k, p in enumerate(planes):
        out[k] = _resize_plane(p.astype(np.float32, copy=False), out_h, out_w, mode)
    out = out.reshape(lead + (out_h, out_w))
    if np.issubdtype(arr.dtype, np.integer):
        info = np.iinfo(arr.dtype)
        if mode is not InterpolationMode.NEAREST:
            out = np.round(out)
        out = np.clip(out, info.min, info.max)
    return io.from_numpy(out.astype(arr.dtype, copy=False))


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize to ``size`` (an int resizes the shorter side, keeping the aspect ratio)."""
    _check_image(img)
    mode = _interpolation(interpolation)
    size = _check_size(size, max_size)
    _, h, w = get_dimensions(img)
    out_h, out_w = _resized_output_size(h, w, size, max_size)
    if [h, w] == [out_h, out_w]:
        return img
    if _is_pil(img):
        return img.resize((out_w, out_h), _PIL_FILTERS[mode])
    return _resize_tensor(img, out_h, out_w, mode)


def crop(img, top, left, height, width):
    """The (height, width) window at (top, left); outside the image reads as zeros."""
    _check_image(img)
    if _is_pil(img):
        return img.crop((left, top, left + width, top + height))
    arr = io.to_numpy(img)
    h, w = arr.shape[-2:]
    out = np.zeros(arr.shape[:-2] + (height, width), dtype=arr.dtype)
    t0, l0 = max(top, 0), max(left, 0)
    t1, l1 = min(top + height, h), min(left + width, w)
    if t1 > t0 and l1 > l0:
        out[..., t0 - top:t1 - top, l0 - left:l1 - left] = arr[..., t0:t1, l0:l1]
    return io.from_numpy(out)


def _pair(size, name="size"):
    if isinstance(size, numbers.Number):
        return (int(size), int(size))
    if isinstance(size, (list, tuple)) and len(size) == 1:
        return (size[0], size[0])
    if not isinstance(size, (list, tuple)) or len(size) != 2:
        raise ValueError("Please provide only two dimensions (h, w) for size.")
    return tuple(size)


def center_crop(img, output_size):
    """Crop the centre; a crop larger than the image pads it with zeros first."""
    crop_h, crop_w = _pair(output_size)
    _, h, w = get_dimensions(img)
    # torchvision pads (extra pixel on the right/bottom), then rounds the centre offset
    pad_l = (crop_w - w) // 2 if crop_w > w else 0
    pad_t = (crop_h - h) // 2 if crop_h > h else 0
    pad_r = (crop_w - w + 1) // 2 if crop_w > w else 0
    pad_b = (crop_h - h + 1) // 2 if crop_h > h else 0
    h2, w2 = h + pad_t + pad_b, w + pad_l + pad_r
    top = int(round((h2 - crop_h) / 2.0)) - pad_t
    left = int(round((w2 - crop_w) / 2.0)) - pad_l
    return crop(img, top, left, crop_h, crop_w)


def resized_crop(img, top, left, height, width, size,
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
    return resize(crop(img, top, left, height, width), size, interpolation,
                  antialias=antialias)


def hflip(img):
    _check_image(img)
    if _is_pil(img):
        return img.transpose(Image.FLIP_LEFT_RIGHT)
    return io.from_numpy(np.ascontiguousarray(io.to_numpy(img)[..., ::-1]))


def vflip(img):
    _check_image(img)
    if _is_pil(img):
        return img.transpose(Image.FLIP_TOP_BOTTOM)
    return io.from_numpy(np.ascontiguousarray(io.to_numpy(img)[..., ::-1, :]))



def five_crop(img, size):
    """The four corner crops and the centre crop of ``size``."""
    crop_h, crop_w = _pair(size)
    _, image_h, image_w = get_dimensions(img)
    if crop_w > image_w or crop_h > image_h:
        raise ValueError(
            f"Requested crop size {(crop_h, crop_w)} is bigger than input size "
            f"{(image_h, image_w)}")
    tl = crop(img, 0, 0, crop_h, crop_w)
    tr = crop(img, 0, image_w - crop_w, crop_h, crop_w)
    bl = crop(img, image_h - crop_h, 0, crop_h, crop_w)
    br = crop(img, image_h - crop_h, image_w - crop_w, crop_h, crop_w)
    return tl, tr, bl, br, center_crop(img, [crop_h, crop_w])


def ten_crop(img, size, vertical_flip=False):
    """``five_crop`` of the image and of its (horizontal, or vertical) mirror."""
    crop_size = _pair(size)
    first = five_crop(img, crop_size)
    flipped = vflip(img) if vertical_flip else hflip(img)
    return first + five_crop(flipped, crop_size)

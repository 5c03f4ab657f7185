"""torchvision.io's image functions on Pillow: encoded bytes <-> uint8 (C, H, W) tensors.

Tensors of encoded bytes are 1-D uint8, decoded images (C, H, W) uint8 (int32 for 16-bit
grey PNGs, where torchvision gives uint16: Ember has no uint16), channels as torchvision
gives them: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA for ``ImageReadMode.UNCHANGED``. Errors are
torchvision's ``RuntimeError`` messages (its C++ ``TORCH_CHECK``s); a file Pillow cannot
decode is a ``RuntimeError`` naming the reason.

Pillow is not libpng/libjpeg-turbo as torchvision calls them, so encoded bytes differ (decoded
pixels of a PNG are the same); colour-to-grey for PNG uses libpng's default weights (Rec. 709,
6968/23434/2366 of 32768, rounded), for JPEG the decoder's own luma (Pillow's ``draft("L")``,
which is libjpeg's grayscale output). 16-bit colour PNGs are refused: Pillow reads them at 8
bits, and a silently narrowed image is worse than an error.
"""
import io
import os
from enum import Enum
from typing import Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .. import _interop


class ImageReadMode(Enum):
    """How to convert a decoded image: as stored, grey, grey+alpha, RGB, or RGB+alpha."""

    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4
    RGBA = RGB_ALPHA


_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_LIBPNG_GREY = (6968, 23434, 2366)  # libpng's default rgb_to_gray weights, sum 32768


def _mode(mode) -> ImageReadMode:
    return ImageReadMode[mode.upper()] if isinstance(mode, str) else mode


def _bytes_of(input) -> bytes:
    """The encoded bytes in a 1-D uint8 tensor, checked as torchvision's C++ ops check."""
    if not _interop.is_tensor(input):
        raise TypeError(f"Expected a tensor of encoded bytes, got {type(input)}")
    arr = _interop.to_numpy(input)
    if arr.dtype != np.uint8:
        raise RuntimeError("Expected a torch.uint8 tensor")
    if arr.ndim != 1 or arr.size == 0:
        raise RuntimeError("Expected a non empty 1-dimensional tensor")
    return np.ascontiguousarray(arr).tobytes()


def _tensor_of_bytes(data: bytes):
    return _interop.from_numpy(np.frombuffer(data, dtype=np.uint8).copy())


def read_file(path: Union[str, os.PathLike]):
    """The bytes of a file as a 1-D uint8 tensor."""
    path = str(path)
    if not os.path.isfile(path):
        raise RuntimeError(f"[Errno 2] No such file or directory: '{path}'")
    with open(path, "rb") as f:
        return _tensor_of_bytes(f.read())


def write_file(filename: Union[str, os.PathLike], data) -> None:
    """Write a 1-D uint8 tensor's bytes to ``filename``."""
    payload = _bytes_of(data)
    with open(str(filename), "wb") as f:
        f.write(payload)


# -- decoding ------------------------------------------------------------------------------

def _open(data: bytes, fmt: str, apply_exif_orientation: bool) -> Image.Image:
    try:
        img: Image.Image = Image.open(io.BytesIO(data))
        img.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError) as err:
        raise RuntimeError(f"Could not decode the {fmt} image: {err}") from err
    if apply_exif_orientation:
        img = ImageOps.exif_transpose(img)
    return img


def _chw(pixels: np.ndarray):
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    return _interop.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1)))


def _libpng_grey(rgb: np.ndarray) -> np.ndarray:
    r, g, b = (rgb[..., i].astype(np.uint32) for i in range(3))
    rc, gc, bc = _LIBPNG_GREY
    return ((rc * r + gc * g + bc * b + 16384) >> 15).astype(np.uint8)


def _png_pixels(img: Image.Image, mode: ImageReadMode, data: bytes) -> np.ndarray:
    if len(data) > 25 and data[24] == 16 and data[25] in (2, 6):
        raise RuntimeError("16-bit colour PNGs are not supported by Ember's Pillow-based "
                           "decoder (Pillow reads them at 8 bits)")
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit grey: torchvision gives uint16, which Ember has no dtype for; int32 holds
        # every value 0..65535 exactly
        grey = np.asarray(img).astype(np.int32)
        if mode in (ImageReadMode.UNCHANGED, ImageReadMode.GRAY):
            return grey
        raise RuntimeError("Conversion of 16-bit grey PNGs to other modes is not supported")
    # a tRNS chunk becomes alpha only for palette images (libpng expands those to RGBA);
    # grey and RGB files with tRNS keep their stored channels, as torchvision's decoder does
    has_alpha = img.mode in ("LA", "RGBA", "PA") or (img.mode == "P"
                                                     and "transparency" in img.info)
    colour = img.mode not in ("1", "L", "LA")
    if colour:
        rgba = np.asarray(img.convert("RGBA" if has_alpha else "RGB"))
    else:
        rgba = np.asarray(img.convert("LA" if has_alpha else "L"))
    if mode == ImageReadMode.UNCHANGED:
        return rgba
    alpha = rgba[..., -1] if has_alpha else np.full(rgba.shape[:2], 255, np.uint8)
    if mode in (ImageReadMode.GRAY, ImageReadMode.GRAY_ALPHA):
        grey = _libpng_grey(rgba) if colour else (rgba[..., 0] if rgba.ndim == 3 else rgba)
        return grey if mode == ImageReadMode.GRAY else np.stack([grey, alpha], -1)
    rgb = rgba[..., :3] if colour else np.repeat((rgba[..., 0] if rgba.ndim == 3
                                                  else rgba)[..., None], 3, -1)
    return rgb if mode == ImageReadMode.RGB else np.concatenate([rgb, alpha[..., None]], -1)


def _jpeg_pixels(img: Image.Image, mode: ImageReadMode, data: bytes) -> np.ndarray:
    if mode in (ImageReadMode.GRAY_ALPHA, ImageReadMode.RGB_ALPHA):
        raise RuntimeError("The provided mode is not supported for JPEG files")
    if mode == ImageReadMode.GRAY:
        if img.mode != "L":  # decode again straight to the luma plane (libjpeg's grey)
            img = Image.open(io.BytesIO(data))
            img.draft("L", img.size)
            img = img.convert("L")
        return np.asarray(img)
    if mode == ImageReadMode.RGB or img.mode not in ("L", "RGB"):
        return np.asarray(img.convert("RGB"))
    return np.asarray(img)


def decode_png(input, mode: ImageReadMode = ImageReadMode.UNCHANGED,
               apply_exif_orientation: bool = False):
    """Decode PNG bytes (1-D uint8 tensor) into a (C, H, W) tensor."""
    data = _bytes_of(input)
    if not data.startswith(_PNG_MAGIC):
        raise RuntimeError("Content is not png!")
    img = _open(data, "PNG", apply_exif_orientation)
    return _chw(_png_pixels(img, _mode(mode), data))


def decode_jpeg(input, mode: ImageReadMode = ImageReadMode.UNCHANGED, device="cpu",
                apply_exif_orientation: bool = False):
    """Decode JPEG bytes (or a list of them) into (C, H, W) uint8 tensor(s)."""
    if str(device) != "cpu":
        raise RuntimeError(f"Ember decodes on the CPU only, got device={device!r}")
    if isinstance(input, list):
        if len(input) == 0:
            raise ValueError("Input list must contain at least one element")
        if not all(_interop.is_tensor(t) for t in input):
            raise ValueError("All elements of the input list must be tensors.")
        return [decode_jpeg(t, mode, device, apply_exif_orientation) for t in input]
    data = _bytes_of(input)
    if not data.startswith(b"\xff\xd8\xff"):
        raise RuntimeError(f"Not a JPEG file: starts with 0x{data[0]:02x} 0x{data[1]:02x}"
                           if len(data) > 1 else "Not a JPEG file")
    img = _open(data, "JPEG", apply_exif_orientation)
    return _chw(_jpeg_pixels(img, _mode(mode), data))


def _other_pixels(img: Image.Image, mode: ImageReadMode) -> np.ndarray:
    """GIF and WebP through Pillow: RGB(A) as stored, or converted per ``mode``."""
    if mode == ImageReadMode.GRAY:
        return np.asarray(img.convert("L"))
    if mode == ImageReadMode.GRAY_ALPHA:
        return np.asarray(img.convert("LA"))
    if mode == ImageReadMode.RGB:
        return np.asarray(img.convert("RGB"))
    if mode == ImageReadMode.RGB_ALPHA:
        return np.asarray(img.convert("RGBA"))
    if img.format == "GIF":  # torchvision's GIF decoder always gives 3 channels
        return np.asarray(img.convert("RGB"))
    return np.asarray(img.convert("RGBA" if img.mode in ("RGBA", "LA", "PA") else "RGB"))


def decode_image(input, mode: ImageReadMode = ImageReadMode.UNCHANGED,
                 apply_exif_orientation: bool = False):
    """Decode a JPEG, PNG, GIF or WebP image from bytes (a 1-D uint8 tensor) or a path."""
    if not _interop.is_tensor(input):
        input = read_file(str(input))
    data = _bytes_of(input)
    mode = _mode(mode)
    if data.startswith(b"\xff\xd8\xff"):
        return decode_jpeg(input, mode, apply_exif_orientation=apply_exif_orientation)
    if data.startswith(_PNG_MAGIC):
        return decode_png(input, mode, apply_exif_orientation)
    is_gif = data[:6] in (b"GIF87a", b"GIF89a")
    if is_gif or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        img = _open(data, "GIF" if is_gif else "WebP", apply_exif_orientation)
        n_frames = getattr(img, "n_frames", 1)
        if is_gif and n_frames > 1:  # animated: (N, C, H, W) as torchvision
            frames = []
            for i in range(n_frames):
                img.seek(i)
                frames.append(_interop.to_numpy(_chw(_other_pixels(img, mode))))
            return _interop.from_numpy(np.stack(frames))
        return _chw(_other_pixels(img, mode))
    raise RuntimeError("Unsupported image file. Only jpeg, png, webp and gif are currently "
                       "supported. For avif and heic format, please rely on `decode_avif` "
                       "and `decode_heic` directly.")


def read_image(path: Union[str, os.PathLike], mode: ImageReadMode = ImageReadMode.UNCHANGED,
               apply_exif_orientation: bool = False):
    """``decode_image(read_file(path), mode)``."""
    return decode_image(read_file(path), mode, apply_exif_orientation=apply_exif_orientation)


# -- encoding ------------------------------------------------------------------------------

def _image_to_encode(input) -> Image.Image:
    if not _interop.is_tensor(input):
        raise TypeError(f"Expected a tensor, got {type(input)}")
    arr = _interop.to_numpy(input)
    if arr.dtype != np.uint8:
        raise RuntimeError("Input tensor dtype should be uint8")
    if arr.ndim != 3:
        raise RuntimeError("Input data should be a 3-dimensional tensor")
    if arr.shape[0] not in (1, 3):
        raise RuntimeError(f"The number of channels should be 1 or 3, got: {arr.shape[0]}")
    hwc = np.ascontiguousarray(arr.transpose(1, 2, 0))
    return Image.fromarray(hwc[:, :, 0] if hwc.shape[2] == 1 else hwc)


def encode_png(input, compression_level: int = 6):
    """PNG bytes (1-D uint8 tensor) of a (C, H, W) uint8 image with 1 or 3 channels."""
    if not 0 <= compression_level <= 9:
        raise RuntimeError("Compression level should be between 0 and 9")
    buf = io.BytesIO()
    _image_to_encode(input).save(buf, format="PNG", compress_level=int(compression_level))
    return _tensor_of_bytes(buf.getvalue())


def write_png(input, filename: Union[str, os.PathLike], compression_level: int = 6):
    write_file(filename, encode_png(input, compression_level))


def encode_jpeg(input, quality: int = 75):
    """JPEG bytes of a (C, H, W) uint8 image (or of each image in a list)."""
    if quality < 1 or quality > 100:
        raise ValueError("Image quality should be a positive number between 1 and 100")
    if isinstance(input, list):
        if not input:
            raise ValueError("encode_jpeg requires at least one input tensor when a list is "
                             "passed")
        return [encode_jpeg(t, quality) for t in input]
    buf = io.BytesIO()
    _image_to_encode(input).save(buf, format="JPEG", quality=int(quality))
    return _tensor_of_bytes(buf.getvalue())


def write_jpeg(input, filename: Union[str, os.PathLike], quality: int = 75):
    write_file(filename, encode_jpeg(input, quality))

"""A bounded reader for IDX files (MNIST's "SN3 Pascal Vincent" format), plain or gzipped.

Layout: two zero bytes, a type byte (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
0x0D float32, 0x0E float64), a dimension count, one big-endian uint32 per dimension, then the
values, big-endian, in row-major order. The reader checks the header before it allocates, and
it requires the body to be exactly as long as the dimensions say: a truncated file, trailing
bytes, an unknown type or a dimension count outside 1..3 raise ``DatasetFileError``. A
gzipped body is inflated in chunks and never past the size the header announces, so a small
file that claims gigabytes fails when its data runs out, not after allocating them.
"""
import gzip
import os
import struct
import zlib

import numpy as np

from ._file_errors import DatasetFileDtypeError, DatasetFileError

IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
MAX_BODY_BYTES = 1 << 32  # 4 GiB: ten times the largest IDX file torchvision downloads (EMNIST)
_CHUNK = 1 << 20


def _header(head: bytes, path: str):
    if len(head) < 4:
        raise DatasetFileError(f"{path} is not an IDX file: {len(head)} bytes, too short for "
                               "the 4-byte magic number")
    if head[0] != 0 or head[1] != 0 or head[2] not in IDX_TYPES or not 1 <= head[3] <= 3:
        raise DatasetFileError(f"{path} is not an IDX file: magic number {head[:4].hex()} "
                               "(expected 0000 then a type code 08/09/0b/0c/0d/0e and 1 to 3 "
                               "dimensions)")
    ndim = head[3]
    if len(head) < 4 + 4 * ndim:
        raise DatasetFileError(f"{path} is truncated inside its IDX header")
    shape = struct.unpack(f">{ndim}I", head[4:4 + 4 * ndim])
    dtype = IDX_TYPES[head[2]]
    nbytes = dtype.itemsize
    for n in shape:
        nbytes *= n
    if nbytes > MAX_BODY_BYTES:
        raise DatasetFileError(f"{path} claims an array of shape {shape} ({nbytes} bytes), "
                               f"more than the {MAX_BODY_BYTES}-byte limit of IDX files")
    return shape, dtype, 4 + 4 * ndim, nbytes


def _read_exact(stream, n: int, path: str) -> bytes:
    """``n`` bytes from ``stream``, growing the buffer only as data arrives."""
    parts, got = [], 0
    while got < n:
        chunk = stream.read(min(_CHUNK, n - got))
        if not chunk:
            raise DatasetFileError(f"{path} is truncated: the IDX header announces {n} bytes "
                                   f"of values, the file holds {got}")
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def read_idx(path) -> np.ndarray:
    """The array stored in the IDX file ``path`` (``.gz`` names are inflated), native-endian."""
    path = os.fspath(path)
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                return _read_stream(f, path)
        with open(path, "rb") as f:
            return _read_stream(f, path)
    except (EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise DatasetFileError(f"{path} is not a readable gzip file: {err}") from err


def _read_stream(f, path: str) -> np.ndarray:
    head = f.read(4)
    head += f.read(4 * head[3]) if len(head) == 4 and head[3] <= 3 else b""
    shape, dtype, _, nbytes = _header(head, path)
    body = _read_exact(f, nbytes, path)
    if f.read(1):
        raise DatasetFileError(f"{path} has bytes after the {nbytes} bytes of values its IDX "
                               f"header announces for shape {shape}")
    return np.frombuffer(body, dtype=dtype).astype(dtype.newbyteorder("="), copy=True) \
        .reshape(shape)


def _checked(path, ndim: int) -> np.ndarray:
    """An IDX array that must be uint8 with ``ndim`` dimensions (torchvision's two checks)."""
    x = read_idx(path)
    if x.dtype != np.uint8:
        raise DatasetFileDtypeError(f"{path}: x should be of dtype torch.uint8 instead of "
                                    f"torch.{_torch_name(x.dtype)}")
    if x.ndim != ndim:
        raise DatasetFileError(f"{path}: x should have {ndim} dimension instead of {x.ndim}")
    return x


def read_image_file(path) -> np.ndarray:
    """A uint8 (N, H, W) image array, as torchvision's ``read_image_file`` requires."""
    return _checked(path, 3)


def read_label_file(path) -> np.ndarray:
    """An int64 (N,) label array from a uint8 1-D IDX file."""
    return _checked(path, 1).astype(np.int64)


def _torch_name(dtype: np.dtype) -> str:
    return {"i1": "int8", "i2": "int16", "i4": "int32", "f4": "float32",
            "f8": "float64"}.get(dtype.str[1:], dtype.name)

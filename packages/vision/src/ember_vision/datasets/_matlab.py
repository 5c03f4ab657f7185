"""A minimal, bounded reader for numeric variables of MATLAB 5 ``.mat`` files (what SVHN uses).

A MAT 5 file is a 128-byte header (text, subsystem offset, version 0x0100, endian mark "IM"
for little-endian or "MI" for big-endian) and a sequence of data elements, each an 8-byte
tag (type, byte count) or a 4-byte "small element" tag, padded to 8 bytes. A variable is an
``miMATRIX`` element holding sub-elements: array flags (class), dimensions, name, real part;
it may sit inside an ``miCOMPRESSED`` element (a zlib stream holding the same element).

Only what SVHN needs is read: real, non-sparse numeric arrays (double, single, int8..uint64)
whose names are asked for. Other variables are skipped (a compressed one is inflated just far
enough to read its name); cells, structs, chars, sparse and complex arrays, MAT 4 and 7.3
(HDF5) files raise ``DatasetFileError``. Every length is checked against the bytes that are
really there before anything is allocated; a compressed element must inflate to exactly the
size its tag announces, never more (zlib cannot exceed ~1032:1, so larger claims are refused
outright), and inflated elements above ``MAX_ARRAY_BYTES`` are refused.
"""
import os
import struct
import zlib

import numpy as np

from ._file_errors import DatasetFileError

MI_TYPES = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 9: "f8",
            12: "i8", 13: "u8"}
MI_MATRIX, MI_COMPRESSED = 14, 15
MX_CLASSES = {6: "f8", 7: "f4", 8: "i1", 9: "u1", 10: "i2", 11: "u2", 12: "i4", 13: "u4",
              14: "i8", 15: "u8"}
MX_NAMES = {1: "cell", 2: "struct", 3: "object", 4: "char", 5: "sparse"}
MAX_ARRAY_BYTES = 1 << 32  # 4 GiB; SVHN's largest variable (extra_32x32 X) is 1.6 GB
_ZLIB_MAX_RATIO = 1100     # deflate's best case is 1032:1; a claim beyond this is a lie
_NAME_PEEK = 512           # inflated bytes enough for flags, dims (<= 32 of them) and name


class _Elements:
    """Reads data elements from a bytes-like region with the file's byte order."""

    def __init__(self, buf, order: str, where: str):
        self.buf = memoryview(buf)
        self.order = order
        self.where = where

    def fail(self, why):
        raise DatasetFileError(f"{self.where}: {why}")

    def tag(self, pos: int, bounded: bool = True):
        """(type, byte count, start of data, start of the next element).

        ``bounded=False`` skips the check that the data is all there (for a tag read from
        the first inflated bytes of a compressed element).
        """
        if pos + 8 > len(self.buf):
            self.fail(f"truncated: a data element tag at byte {pos} needs 8 bytes")
        first, second = struct.unpack(self.order + "II", self.buf[pos:pos + 8])
        if first >> 16:  # small data element: size in the upper half, data in the tag
            kind, size = first & 0xFFFF, first >> 16
            if size > 4:
                self.fail(f"a small data element at byte {pos} claims {size} bytes (max 4)")
            return kind, size, pos + 4, pos + 8
        start = pos + 8
        if bounded and second > len(self.buf) - start:
            self.fail(f"truncated: the element at byte {pos} announces {second} bytes, "
                      f"{len(self.buf) - start} remain")
        end = start + second
        return first, second, start, end if first == MI_COMPRESSED else start + _pad8(second)

    def numbers(self, pos: int, want_type=None):
        """(ndarray of one numeric element, next position)."""
        kind, size, start, nxt = self.tag(pos)
        if kind not in MI_TYPES or (want_type is not None and kind != want_type):
            self.fail(f"a sub-element at byte {pos} has type {kind}, not a number type")
        dtype = np.dtype(self.order + MI_TYPES[kind])
        if size % dtype.itemsize:
            self.fail(f"a {dtype.name} element at byte {pos} has {size} bytes, not a multiple "
                      f"of {dtype.itemsize}")
        return np.frombuffer(self.buf[start:start + size], dtype=dtype), nxt


def _pad8(n: int) -> int:
    return (n + 7) // 8 * 8


def _header_order(head: bytes, path: str) -> str:
    if len(head) < 128:
        raise DatasetFileError(f"{path} is not a MATLAB 5 file: {len(head)} bytes, shorter "
                               "than the 128-byte header")
    if head[:4] == b"\x89HDF" or head[126:128] not in (b"IM", b"MI"):
        raise DatasetFileError(f"{path} is not a MATLAB 5 .mat file (MAT 4 and 7.3/HDF5 files "
                               "are not read)")
    order = "<" if head[126:128] == b"IM" else ">"
    version = struct.unpack(order + "H", head[124:126])[0]
    if version != 0x0100:
        raise DatasetFileError(f"{path}: MAT file version {version:#06x}, only 0x0100 (MAT 5) "
                               "is read")
    return order


def _matrix_header(el: _Elements, pos: int):
    """(mx class, flags, dims, name, position of the real part) of an miMATRIX body."""
    flags, pos = el.numbers(pos, want_type=6)
    if len(flags) < 2:
        el.fail("an array-flags element holds fewer than 2 values")
    mx_class, bits = int(flags[0]) & 0xFF, int(flags[0]) >> 8
    dims, pos = el.numbers(pos, want_type=5)
    if len(dims) < 2 or (dims < 0).any():
        el.fail(f"invalid dimensions {dims.tolist()[:8]}")
    name_raw, pos = el.numbers(pos, want_type=1)
    try:
        name = name_raw.tobytes().decode("ascii")
    except UnicodeDecodeError:
        el.fail("a variable name is not ASCII")
    return mx_class, bits, [int(d) for d in dims], name, pos


def _matrix_values(el: _Elements, pos: int, where: str) -> np.ndarray:
    mx_class, bits, dims, name, pos = _matrix_header(el, pos)
    if mx_class not in MX_CLASSES:
        kind = MX_NAMES.get(mx_class, f"class {mx_class}")
        el.fail(f"variable {name!r} is a {kind} array; only numeric arrays are read")
    if bits & 0x08:
        el.fail(f"variable {name!r} is complex; only real arrays are read")
    values, _ = el.numbers(pos)
    count = 1
    for d in dims:
        count *= d
    if values.size != count:
        el.fail(f"variable {name!r} has shape {tuple(dims)} ({count} values) but its data "
                f"holds {values.size}")
    # MATLAB may store a double holding small integers as uint8; like scipy's loadmat
    # (mat_dtype=False, what torchvision calls) the stored type is the result's type
    return values.astype(values.dtype.newbyteorder("="), copy=True).reshape(dims, order="F")


def _inflate(raw, limit: int, where: str) -> bytes:
    """At most ``limit`` bytes of the zlib stream ``raw`` (the output grows as data comes)."""
    try:
        return zlib.decompressobj().decompress(raw, limit)
    except zlib.error as err:
        raise DatasetFileError(f"{where}: a compressed element is not a valid zlib stream "
                               f"({err})") from err


def _compressed_variable(raw, order: str, names, where: str):
    """(name, array or None) of the miMATRIX inside an miCOMPRESSED element."""
    peek = _Elements(_inflate(raw, _NAME_PEEK, where), order, where)
    kind, size, start, _ = peek.tag(0, bounded=False)
    if kind != MI_MATRIX:
        return None, None
    if size > _ZLIB_MAX_RATIO * len(raw) + 1024:
        peek.fail(f"a compressed element claims {size} bytes from {len(raw)} compressed bytes, "
                  "more than zlib can encode")
    try:
        name = _matrix_header(peek, start)[3]
    except DatasetFileError:
        if size + 8 <= len(peek.buf):
            raise
        name = None  # header longer than the peek: decide after inflating the element
    if name is not None and name not in names:
        return name, None
    if size + 8 > MAX_ARRAY_BYTES + _NAME_PEEK:
        peek.fail(f"a compressed variable announces {size} bytes")
    full = _inflate(raw, size + 8, where)
    if len(full) != size + 8:
        peek.fail(f"a compressed element inflates to {len(full)} bytes, its tag announces "
                  f"{size + 8}")
    el = _Elements(full, order, where)
    name = _matrix_header(el, 8)[3]
    return name, (_matrix_values(el, 8, where) if name in names else None)


def load_mat_variables(path, names) -> dict:
    """``{name: ndarray}`` for the variables ``names`` found in the MAT 5 file ``path``."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        data = f.read()
    order = _header_order(data[:128], path)
    el = _Elements(data, order, path)
    found, pos = {}, 128
    while pos < len(data):
        kind, size, start, nxt = el.tag(pos)
        if kind == MI_MATRIX:
            name = _matrix_header(el, start)[3]
            if name in names:
                found[name] = _matrix_values(_Elements(el.buf[:start + size], order, path),
                                             start, path)
        elif kind == MI_COMPRESSED:
            name, value = _compressed_variable(el.buf[start:start + size], order, names, path)
            if value is not None:
                found[name] = value
        pos = nxt
    missing = [n for n in names if n not in found]
    if missing:
        raise DatasetFileError(f"{path} has no numeric variable named {missing[0]!r}")
    return found

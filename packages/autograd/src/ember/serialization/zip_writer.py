"""Write a zip archive the way torch's PyTorchStreamWriter does.

Entries are STORED (never compressed) and each entry's data starts at a multiple of 64 bytes,
padded through an extra field with id ``FB`` (0x4246) filled with ``Z``; torch relies on the
alignment to memory-map storages. Zip64 end records are always written, and Zip64 extra fields
whenever a size or offset does not fit in 32 bits. The writer only appends, so it works on any
binary file object (no seek needed).
"""
import struct
import zlib

ALIGNMENT = 64
_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_ZIP64_END = struct.Struct("<4sQHHIIQQQQ")
_ZIP64_LOCATOR = struct.Struct("<4sIQI")
_END = struct.Struct("<4sHHHHIIH")
_U32 = 0xFFFFFFFF
_VERSION = 45  # zip 4.5: Zip64 extensions


def _as_bytes_view(buffer):
    """A flat byte view of a bytes object or a contiguous ndarray, without copying."""
    view = memoryview(buffer)
    return view.cast("B") if view.ndim != 1 or view.itemsize != 1 else view


class ZipWriter:
    def __init__(self, fileobj):
        self.f = fileobj
        self.pos = 0
        self.entries = []  # (name bytes, crc, size, header offset)
        self.names = set()

    def _write(self, data):
        self.f.write(data)
        self.pos += len(data)

    def add(self, name, data):
        """Append one STORED entry; ``data`` is bytes or a contiguous ndarray."""
        if name in self.names:
            raise ValueError(f"duplicate zip entry {name!r}")
        self.names.add(name)
        raw_name = name.encode("utf-8")
        view = _as_bytes_view(data)
        size = view.nbytes
        crc = zlib.crc32(view)
        offset = self.pos
        zip64 = size >= _U32
        extra = struct.pack("<HHQQ", 1, 16, size, size) if zip64 else b""
        start = offset + _LOCAL.size + len(raw_name) + len(extra) + 4
        pad = -start % ALIGNMENT
        extra += struct.pack("<2sH", b"FB", pad) + b"Z" * pad
        small = _U32 if zip64 else size
        self._write(_LOCAL.pack(b"PK\x03\x04", _VERSION if zip64 else 20, 0, 0, 0, 0x21,
                                crc, small, small, len(raw_name), len(extra)))
        self._write(raw_name)
        self._write(extra)
        # large storages go straight from the array's memory to the file
        self.f.write(view)
        self.pos += size
        self.entries.append((raw_name, crc, size, offset))

    def close(self):
        cd_start = self.pos
        for raw_name, crc, size, offset in self.entries:
            fields = []
            if size >= _U32:
                fields += [size, size]
            if offset >= _U32:
                fields.append(offset)
            extra = b""
            if fields:
                extra = struct.pack(f"<HH{len(fields)}Q", 1, 8 * len(fields), *fields)
            small = _U32 if size >= _U32 else size
            self._write(_CENTRAL.pack(
                b"PK\x01\x02", _VERSION, _VERSION if fields else 20, 0, 0, 0, 0x21, crc,
                small, small, len(raw_name), len(extra), 0, 0, 0, 0,
                min(offset, _U32)))
            self._write(raw_name)
            self._write(extra)
        cd_size = self.pos - cd_start
        zip64_end = self.pos
        count = len(self.entries)
        self._write(_ZIP64_END.pack(b"PK\x06\x06", _ZIP64_END.size - 12, _VERSION, _VERSION,
                                    0, 0, count, count, cd_size, cd_start))
        self._write(_ZIP64_LOCATOR.pack(b"PK\x06\x07", 0, zip64_end, 1))
        self._write(_END.pack(b"PK\x05\x06", 0, 0, min(count, 0xFFFF), min(count, 0xFFFF),
                              min(cd_size, _U32), min(cd_start, _U32), 0))

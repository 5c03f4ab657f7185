"""Read torch's zip checkpoint format (torch >= 1.6).

``zipfile`` parses the central directory; everything it reports is validated before use: all
entries sit under one top-level folder (taken from the first entry), no absolute or ``..``
names, no duplicates, every entry's data lies inside the file. Storage records are read
straight into freshly allocated NumPy buffers after their size has been checked against what
the pickle declares, so a forged numel can never allocate more memory than the file holds.
"""
import bisect
import struct
import zipfile
import zlib

import numpy as np

from . import rebuild
from ._errors import CheckpointError, TruncatedCheckpointError, refused
from .restricted_unpickler import Source, load_pickle

_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_MAX_PICKLE_RATIO = 1000  # a deflated data.pkl may not expand more than this


class ZipCheckpoint:
    def __init__(self, fileobj, name, file_size, *, mmap_path=None, locations=None,
                 unpickler=None):
        self.unpickler = unpickler
        self.f = fileobj
        self.name = name
        self.file_size = file_size
        self.mmap_path = mmap_path
        self.locations = locations
        try:
            self.zf = zipfile.ZipFile(fileobj)
        except zipfile.BadZipFile as exc:
            raise TruncatedCheckpointError(
                f"{name} is truncated or not a valid checkpoint: cannot read its zip directory "
                f"({exc})"
            ) from None
        except (OSError, ValueError, EOFError, struct.error) as exc:
            raise CheckpointError(f"{name} is not a valid checkpoint: {exc}") from None
        self.entries = self._validate_entries()
        self._spans = []  # (start, end) byte ranges of the storage records read so far
        self.storages = {}
        self._mm = None

    def _validate_entries(self):
        infos = self.zf.infolist()
        if not infos:
            raise CheckpointError(f"{self.name} is not a valid checkpoint: the zip archive "
                f"is empty")
        first = infos[0].filename
        if "/" not in first:
            raise CheckpointError(
                f"{self.name} is not a valid checkpoint: entry {first!r} is not inside a folder"
            )
        self.prefix = first.split("/", 1)[0]
        entries = {}
        for info in infos:
            fname = info.filename
            parts = fname.split("/")
            if (fname.startswith(("/", "\\")) or "\\" in fname or ":" in parts[0]
                    or any(p in ("", ".", "..") for p in parts) or parts[0] != self.prefix
                    or len(parts) < 2):
                raise CheckpointError(
                    f"{self.name} is not a valid checkpoint: entry {fname!r} lies outside the "
                    f"archive folder {self.prefix!r}/"
                )
            rel = "/".join(parts[1:])
            if rel in entries:
                raise CheckpointError(
                    f"{self.name} is not a valid checkpoint: duplicate entry {fname!r}"
                )
            entries[rel] = info
        return entries

    # ---- raw entry access ------------------------------------------------------------------
    def _data_offset(self, info):
        """Offset of ``info``'s data in the file, checked against the file's length."""
        if not 0 <= info.header_offset <= self.file_size - _LOCAL.size:
            raise TruncatedCheckpointError(f"{self.name} is truncated: {info.filename} is missing")
        self.f.seek(info.header_offset)
        header = self.f.read(_LOCAL.size)
        if len(header) != _LOCAL.size or header[:4] != b"PK\x03\x04":
            raise CheckpointError(
                f"{self.name} is not a valid checkpoint: bad local header for {info.filename}"
            )
        name_len, extra_len = _LOCAL.unpack(header)[9:11]
        start = info.header_offset + _LOCAL.size + name_len + extra_len
        if start + info.compress_size > self.file_size:
            raise TruncatedCheckpointError(
                f"{self.name} is truncated: record {info.filename} needs "
                f"{start + info.compress_size} bytes, the file has {self.file_size}"
            )
        return start

    def has(self, rel):
        return rel in self.entries

    def read_small(self, rel, limit=None):
        """Bytes of a metadata record (data.pkl, version, byteorder)."""
        info = self.entries.get(rel)
        if info is None:
            raise CheckpointError(f"{self.name} is not a valid checkpoint: no {rel} record")
        self._data_offset(info)
        if info.compress_type != zipfile.ZIP_STORED:
            if info.file_size > _MAX_PICKLE_RATIO * max(info.compress_size, 1) + (1 << 20):
                raise CheckpointError(f"{self.name}: record {rel} declares an implausible size")
        if limit is not None and info.file_size > limit:
            raise CheckpointError(f"{self.name}: record {rel} is too large "
                f"({info.file_size} bytes)")
        try:
            return self.zf.read(info)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, UnicodeDecodeError) as exc:
            raise CheckpointError(f"{self.name} is corrupt: cannot read {rel} ({exc})") from None

    # ---- storages --------------------------------------------------------------------------
    def load_storage(self, pid):
        if len(pid) != 5:
            raise refused(f"a zip checkpoint storage id has 5 fields, got {len(pid)}")
        _, storage_type, key, location, numel = pid
        if not isinstance(storage_type, rebuild.StorageType):
            raise refused(f"storage type must be a torch storage class, got {storage_type!r}")
        if not isinstance(key, str) or "/" in key or key in ("", ".", ".."):
            raise refused(f"bad storage key {key!r}")
        if type(numel) is not int or numel < 0:
            raise CheckpointError(f"{self.name}: storage {key!r} has a bad element count {numel!r}")
        self.locations.check(location)
        existing = self.storages.get(key)
        if existing is not None:
            if existing.dtype is not storage_type.dtype:
                raise CheckpointError(f"{self.name}: storage {key!r} is used with two dtypes")
            return existing
        array = self._read_storage(key, storage_type, numel)
        storage = rebuild.Storage(key, storage_type.dtype, array)
        self.storages[key] = storage
        return storage

    def _read_storage(self, key, storage_type, numel):
        rel = f"data/{key}"
        info = self.entries.get(rel)
        if info is None:
            raise CheckpointError(f"{self.name} is not a valid checkpoint: storage record "
                f"{rel} is missing")
        nbytes = numel * storage_type.itemsize
        if info.file_size != nbytes:
            raise CheckpointError(
                f"{self.name} is corrupt: storage {key!r} declares {numel} elements "
                f"({nbytes} bytes) but its record holds {info.file_size} bytes"
            )
        if info.compress_type != zipfile.ZIP_STORED:
            raise CheckpointError(
                f"{self.name}: storage record {rel} is compressed; "
                "torch writes storages uncompressed"
            )
        start = self._data_offset(info)
        # Records whose bytes overlap would let a small file expand into many copies of
        # the same data (quadratic in the file size); torch never writes them.
        if nbytes:
            # spans read so far are disjoint and sorted: only the neighbours can overlap
            i = bisect.bisect_left(self._spans, (start, start + nbytes))
            near = self._spans[max(i - 1, 0):i + 1]
            if any(start < hi and lo < start + nbytes for lo, hi in near):
                raise CheckpointError(
                    f"{self.name} is corrupt: storage record {rel} overlaps another record")
            self._spans.insert(i, (start, start + nbytes))
        np_dtype = np.uint8 if storage_type.dtype is None else storage_type.dtype.np
        if self.byteswap and np.dtype(np_dtype).itemsize > 1:
            np_dtype = np.dtype(np_dtype).newbyteorder(">")
        if self.mmap_path is not None:
            if self._mm is None:  # one copy-on-write map of the whole file, shared by storages
                self._mm = np.memmap(self.mmap_path, dtype=np.uint8, mode="c")
            arr = self._mm[start:start + nbytes].view(np.ndarray).view(np_dtype)
        else:
            arr = np.empty(numel, dtype=np_dtype)
            self.f.seek(start)
            view = memoryview(arr).cast("B")
            got = self.f.readinto(view) if nbytes else 0
            if got != nbytes:
                raise TruncatedCheckpointError(f"{self.name} is truncated inside storage {key!r}")
            if zlib.crc32(view) != info.CRC:
                raise CheckpointError(
                    f"{self.name} is corrupt: storage {key!r} fails its CRC-32 check"
                )
        if arr.dtype.byteorder == ">":
            arr = arr.astype(arr.dtype.newbyteorder("="))
        return arr

    # ---- whole file ------------------------------------------------------------------------
    def load(self):
        version = self.read_small("version", limit=64) if self.has("version") else (
            self.read_small(".data/version", limit=64) if self.has(".data/version") else None)
        if version is None:
            raise CheckpointError(f"{self.name} is not a valid checkpoint: no version record")
        try:
            number = int(version.strip())
        except ValueError:
            raise CheckpointError(f"{self.name}: bad version record {version[:20]!r}") from None
        if not 1 <= number <= 10:
            raise CheckpointError(
                f"{self.name}: checkpoint format version {number} is not supported (1 to 10)"
            )
        order = b"little"
        if self.has("byteorder"):
            order = self.read_small("byteorder", limit=16).strip()
        if order not in (b"little", b"big"):
            raise CheckpointError(f"{self.name}: unknown byteorder {order!r}")
        self.byteswap = order == b"big"
        data = self.read_small("data.pkl")
        if self.unpickler is not None:  # weights_only=False: the caller trusts the file
            return self.unpickler(data, self.load_storage)
        return load_pickle(Source.of_bytes(data, f"{self.name} (data.pkl)"), self.load_storage)

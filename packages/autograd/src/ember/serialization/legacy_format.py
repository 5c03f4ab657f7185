"""Read the legacy stream format (torch 0.1.10 to 1.5, or ``_use_new_zipfile_serialization=False``).

Layout: five pickles (magic number, protocol version 1001, sys info, the object, the sorted
list of storage keys), then for each key an int64 element count and the raw bytes. The object
pickle names storages before their bytes appear, so storages are allocated while it is read
and filled afterwards; every allocation is first checked against the bytes left in the file
(a forged numel fails before memory is taken), and nothing is returned unless every storage
was filled completely.
"""
import struct

import numpy as np

from . import rebuild
from ._errors import CheckpointError, TruncatedCheckpointError, refused
from .restricted_unpickler import Source, load_pickle

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001


def _no_storage(pid):
    raise refused("persistent ids are not allowed in this part of the file")


class LegacyCheckpoint:
    def __init__(self, fileobj, name, file_size, locations):
        self.f = fileobj
        self.name = name
        self.src = Source(fileobj, file_size, name)
        self.locations = locations
        self.roots = {}       # root key -> Storage
        self.views = {}       # view key -> Storage (slice of a root)
        self.declared = 0     # bytes the storages declared so far

    def _small_pickle(self):
        return load_pickle(self.src, _no_storage)

    def load_storage(self, pid):
        if len(pid) != 6:
            raise refused(f"a legacy storage id has 6 fields, got {len(pid)}")
        _, storage_type, root_key, location, numel, view_metadata = pid
        if not isinstance(storage_type, rebuild.StorageType) or storage_type.dtype is None:
            raise refused(f"storage type must be a typed torch storage class, got {storage_type!r}")
        if not isinstance(root_key, str):
            raise refused(f"bad storage key {root_key!r}")
        if type(numel) is not int or numel < 0:
            raise CheckpointError(f"{self.name}: storage {root_key!r} has a bad element "
                f"count {numel!r}")
        self.locations.check(location)
        root = self.roots.get(root_key)
        if root is None:
            nbytes = numel * storage_type.itemsize
            # every storage costs an 8-byte count plus its bytes after the pickles
            self.declared += nbytes + 8
            if self.declared > self.src.remaining():
                raise TruncatedCheckpointError(
                    f"{self.name} is truncated or corrupt: its storages declare more data "
                    f"({self.declared} bytes) than the file holds"
                )
            root = rebuild.Storage(root_key, storage_type.dtype,
                                   np.zeros(numel, dtype=storage_type.dtype.np))
            self.roots[root_key] = root
        elif root.dtype is not storage_type.dtype or root.numel != numel:
            raise CheckpointError(f"{self.name}: storage {root_key!r} is declared twice, "
                f"differently")
        if view_metadata is None:
            return root
        if not (isinstance(view_metadata, tuple) and len(view_metadata) == 3):
            raise refused("storage view metadata must be (view_key, offset, size)")
        view_key, offset, size = view_metadata
        if view_key in self.views:
            return self.views[view_key]
        if (type(offset) is not int or type(size) is not int or offset < 0 or size < 0
                or offset + size > root.numel):
            raise CheckpointError(
                f"{self.name}: storage view {view_key!r} ({offset}, {size}) lies outside its "
                f"storage of {root.numel} elements"
            )
        view = rebuild.Storage(view_key, root.dtype, root.array[offset:offset + size])
        self.views[view_key] = view
        return view

    def load(self):
        magic = self._small_pickle()
        if magic != MAGIC_NUMBER:
            raise CheckpointError(f"{self.name}: Invalid magic number; corrupt file?")
        protocol = self._small_pickle()
        if protocol != PROTOCOL_VERSION:
            raise CheckpointError(f"{self.name}: Invalid protocol version: {protocol!r}")
        sys_info = self._small_pickle()
        little = sys_info.get("little_endian", True) if isinstance(sys_info, dict) else True
        result = load_pickle(self.src, self.load_storage)
        keys = self._small_pickle()
        if not isinstance(keys, list) or sorted(set(keys)) != sorted(self.roots):
            raise CheckpointError(
                f"{self.name} is corrupt: its storage key list does not match the storages used"
            )
        for key in keys:
            self._fill(self.roots[key], little)
        return result

    def _fill(self, storage, little):
        (count,) = struct.unpack("<q", self.src.read(8))
        if count != storage.numel:
            raise CheckpointError(
                f"{self.name} is corrupt: storage {storage.key!r} declares {storage.numel} "
                f"elements but its data holds {count}"
            )
        arr = storage.array
        nbytes = arr.nbytes
        if nbytes > self.src.remaining():
            raise TruncatedCheckpointError(f"{self.name} is truncated inside storage "
                f"{storage.key!r}")
        got = self.f.readinto(memoryview(arr).cast("B")) if nbytes else 0
        if got != nbytes:
            raise TruncatedCheckpointError(f"{self.name} is truncated inside storage "
                f"{storage.key!r}")
        if not little and arr.itemsize > 1:
            arr.byteswap(inplace=True)

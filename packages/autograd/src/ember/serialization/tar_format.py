"""Read the tar checkpoint format of torch <= 0.1.9 (e.g. the original ``resnet18-5c106cde.pth``).

Members: ``sys_info`` (a pickle), ``storages`` (count; per storage a pickle of
``(key, location, storage type)``, an int64 element count and the raw bytes; then a pickle of
``(view key, root key, offset, numel)`` records), ``tensors`` (count; per tensor a pickle of
``(key, storage key, tensor type)``, int32 ndim, 4 bytes of padding, int64 sizes, int64
strides, int64 storage offset) and ``pickle`` (the object, whose persistent ids are tensor
keys). torch refuses these files under ``weights_only=True``; Ember reads them with the same
restricted unpickler it uses everywhere, and checks every count and extent before allocating.
The tar is parsed in memory; nothing is ever extracted to disk.
"""
import struct
import tarfile

import numpy as np

from . import _bridge, rebuild
from ._errors import CheckpointError, TruncatedCheckpointError, refused
from .restricted_unpickler import Source, load_pickle

_MEMBERS = ("sys_info", "storages", "tensors", "pickle")


def _no_storage(pid):
    raise refused("persistent ids are not allowed in this part of the file")


class TarCheckpoint:
    def __init__(self, fileobj, name, locations):
        self.name = name
        self.locations = locations
        try:
            with tarfile.open(fileobj=fileobj, mode="r:") as tar:
                members = {}
                for member in tar.getmembers():
                    if member.name in members:
                        raise CheckpointError(f"{name}: duplicate tar member {member.name!r}")
                    members[member.name] = member
                missing = [m for m in _MEMBERS if m not in members]
                if missing:
                    raise CheckpointError(
                        f"{name} is not a valid checkpoint: tar members {missing} are missing"
                    )
                self.data = {}
                for key in _MEMBERS:
                    member = members[key]
                    if not member.isfile():
                        raise CheckpointError(f"{name}: tar member {key!r} is not a regular file")
                    self.data[key] = tar.extractfile(member).read()
        except tarfile.ReadError as exc:
            raise TruncatedCheckpointError(f"{name} is truncated or not a valid tar "
                f"checkpoint ({exc})") from None
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise TruncatedCheckpointError(f"{name} is truncated or corrupt ({exc})") from None
        self.objects = {}

    def _source(self, member):
        return Source.of_bytes(self.data[member], f"{self.name} ({member})")

    def _load_storages(self, little):
        src = self._source("storages")
        count = load_pickle(src, _no_storage)
        if type(count) is not int or count < 0:
            raise CheckpointError(f"{self.name}: bad storage count {count!r}")
        for _ in range(count):
            record = load_pickle(src, _no_storage)
            if not (isinstance(record, tuple) and len(record) == 3):
                raise CheckpointError(f"{self.name}: bad storage record {record!r}")
            key, location, storage_type = record
            if not isinstance(storage_type, rebuild.StorageType) or storage_type.dtype is None:
                raise refused(f"storage type must be a typed torch storage class, got "
                    f"{storage_type!r}")
            self.locations.check(location)
            (numel,) = struct.unpack("<q", src.read(8))
            if numel < 0:
                raise CheckpointError(f"{self.name}: storage {key!r} has a negative element count")
            dtype = storage_type.dtype
            raw = src.read(numel * dtype.itemsize)  # bounded by the member's size
            arr = np.frombuffer(raw, dtype=dtype.np.newbyteorder("<" if little else ">"))
            arr = arr.astype(dtype.np)  # a writable native-order copy
            self._put(key, rebuild.Storage(key, dtype, arr))
        views = load_pickle(src, _no_storage)
        if not isinstance(views, list):
            raise CheckpointError(f"{self.name}: bad storage view list")
        for view in views:
            if not (isinstance(view, tuple) and len(view) == 4):
                raise CheckpointError(f"{self.name}: bad storage view record {view!r}")
            target, root_key, offset, numel = view
            root = self.objects.get(root_key)
            if not isinstance(root, rebuild.Storage):
                raise CheckpointError(f"{self.name}: view of unknown storage {root_key!r}")
            if (type(offset) is not int or type(numel) is not int or offset < 0 or numel < 0
                    or offset + numel > root.numel):
                raise CheckpointError(f"{self.name}: storage view {target!r} lies outside "
                    f"its storage")
            view = root.array[offset:offset + numel]
            self._put(target, rebuild.Storage(target, root.dtype, view))

    def _put(self, key, obj):
        if type(key) is not int or key in self.objects:
            raise CheckpointError(f"{self.name}: bad or duplicate object key {key!r}")
        self.objects[key] = obj

    def _load_tensors(self):
        src = self._source("tensors")
        count = load_pickle(src, _no_storage)
        if type(count) is not int or count < 0:
            raise CheckpointError(f"{self.name}: bad tensor count {count!r}")
        for _ in range(count):
            record = load_pickle(src, _no_storage)
            if not (isinstance(record, tuple) and len(record) == 3):
                raise CheckpointError(f"{self.name}: bad tensor record {record!r}")
            key, storage_key, _tensor_type = record
            storage = self.objects.get(storage_key)
            if not isinstance(storage, rebuild.Storage):
                raise CheckpointError(f"{self.name}: tensor {key!r} names unknown storage "
                    f"{storage_key!r}")
            (ndim,) = struct.unpack("<i", src.read(4))
            src.read(4)
            if not 0 <= ndim <= 64:
                raise CheckpointError(f"{self.name}: tensor {key!r} has {ndim} dimensions")
            size = struct.unpack(f"<{ndim}q", src.read(8 * ndim))
            stride = struct.unpack(f"<{ndim}q", src.read(8 * ndim))
            (offset,) = struct.unpack("<q", src.read(8))
            arr = rebuild.build_ndarray(storage, offset, size, stride)
            self._put(key, _bridge.wrap(arr))

    def _persistent(self, pid):
        if isinstance(pid, tuple):
            raise refused("this tar checkpoint stores a whole module (class source), which "
                "Ember never loads")
        try:
            key = int(pid)
        except ValueError:
            raise CheckpointError(f"{self.name}: bad persistent id {pid!r}") from None
        if key not in self.objects:
            raise CheckpointError(f"{self.name}: the pickle names unknown object {pid!r}")
        return self.objects[key]

    def load(self):
        sys_info = load_pickle(self._source("sys_info"), _no_storage)
        little = sys_info.get("little_endian", True) if isinstance(sys_info, dict) else True
        self._load_storages(little)
        self._load_tensors()
        return load_pickle(self._source("pickle"), self._persistent, plain_ids=True)


def is_tar(head):
    return len(head) >= 262 and head[257:262] == b"ustar"


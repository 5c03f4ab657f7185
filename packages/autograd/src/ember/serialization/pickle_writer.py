"""Encode a checkpoint's object tree as the protocol-2 pickle torch writes into ``data.pkl``.

Only the types a checkpoint holds are encoded (containers, scalars, strings, bytes, tensors,
Parameters, dtypes, Size); anything else raises TypeError naming its type, so ``ember.save``
of a state_dict never pickles arbitrary objects (and never writes a file
``torch.load(weights_only=True)`` would refuse). A whole model (``ember.save(model)``) is the
exception, as in torch: its class and what its attributes hold are pickled by reference.
Tensors become ``torch._utils._rebuild_tensor_v2`` calls on persistent storage ids; views of
one buffer share one storage record.
"""
import collections
import copyreg
import pickle
import struct
import sys
import types

import numpy as np

import ember_tensor
from ember_tensor import _dtype as D

from ..nn.modules.module import Module
from . import _bridge
from .rebuild import STORAGE_NAME_OF

_PACK_I = struct.Struct("<i").pack
_PACK_UI = struct.Struct("<I").pack
_PACK_H = struct.Struct("<H").pack
_PACK_D = struct.Struct(">d").pack
_BATCH = 1000  # items per APPENDS/SETITEMS, as pickle does


class StorageRecord:
    """One storage to write: ``data/<key>`` holds ``buffer`` (a flat contiguous ndarray)."""

    __slots__ = ("key", "dtype", "buffer")

    def __init__(self, key, dtype, buffer):
        self.key = key
        self.dtype = dtype
        self.buffer = buffer

    @property
    def numel(self):
        return self.buffer.shape[0]


def _root_buffer(arr):
    """The ndarray that owns ``arr``'s memory, if it is one plain contiguous block."""
    root = arr
    while isinstance(root.base, np.ndarray):
        root = root.base
    if root.dtype != arr.dtype or not (root.flags.c_contiguous or root.flags.f_contiguous):
        return None
    return root


def _storage_view(arr):
    """(root, offset, stride) describing ``arr`` as a view of its owner, or None if it is not
    expressible as a torch view (negative strides, a different dtype, misaligned bytes)."""
    root = _root_buffer(arr)
    if root is None:
        return None
    item = arr.itemsize
    delta = arr.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    if delta < 0 or delta % item or any(s < 0 or s % item for s in arr.strides):
        return None
    offset = delta // item
    stride = tuple(s // item for s in arr.strides)
    if arr.size:
        last = offset + sum((n - 1) * s for n, s in zip(arr.shape, stride))
        if last >= root.size:
            return None
    return root, offset, stride


class PickleWriter:
    def __init__(self):
        self.out = bytearray()
        self.memo = {}        # id(obj) -> memo index
        self.keep = []        # objects whose id is in memo stay alive while we write
        self.storages = {}    # id(root ndarray) -> StorageRecord
        self.in_progress = set()
        self.module_depth = 0  # > 0 while writing a whole model's state

    # ---- public --------------------------------------------------------------------------
    def dump(self, obj):
        self.out += b"\x80\x02"
        self.save(obj)
        self.out += b"."
        return bytes(self.out)

    def storage_records(self):
        return list(self.storages.values())

    # ---- memo ----------------------------------------------------------------------------
    def put(self, key, obj=None):
        index = len(self.memo)
        self.memo[key] = index
        if obj is not None:
            self.keep.append(obj)
        self.out += b"q" + bytes([index]) if index < 256 else b"r" + _PACK_UI(index)

    def get(self, key):
        index = self.memo.get(key)
        if index is None:
            return False
        self.out += b"h" + bytes([index]) if index < 256 else b"j" + _PACK_UI(index)
        return True

    def global_(self, module, name):
        key = ("global", module, name)
        if not self.get(key):
            self.out += b"c" + module.encode() + b"\n" + name.encode() + b"\n"
            self.put(key)

    # ---- dispatch ------------------------------------------------------------------------
    def save(self, obj):
        t = type(obj)
        if obj is None:
            self.out += b"N"
        elif t is bool:
            self.out += b"\x88" if obj else b"\x89"
        elif t is int:
            self.save_int(obj)
        elif t is float:
            self.out += b"G" + _PACK_D(obj)
        elif t is str:
            self.save_str(obj)
        elif t is bytes:
            self.save_bytes(obj)
        elif t is tuple:
            self.save_tuple(obj)
        elif t is list:
            self.save_list(obj)
        elif t is dict:
            self.save_dict(obj)
        elif t is collections.OrderedDict:
            self.save_ordered_dict(obj)
        elif t in (set, frozenset):
            self.save_set(obj)
        elif t is complex:
            self.global_("__builtin__", "complex")
            self.save_tuple((obj.real, obj.imag))
            self.out += b"R"
        elif t is ember_tensor.Size:
            self.global_("torch", "Size")
            self.save_tuple((tuple(obj),))
            self.out += b"R"
        elif t is D.dtype:
            self.global_("torch", obj.name)
        elif _bridge.is_tensor(obj):
            self.save_tensor(obj)
        elif _is_module(obj):
            self.save_module(obj)
        elif self.module_depth:  # inside a whole model: what torch's pickler would write
            if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)):
                self.save_reference(obj)
            else:
                self.save_reduced(obj)
        else:
            raise TypeError(
                f"ember.save cannot serialize an object of type {t.__module__}.{t.__qualname__}; "
                "checkpoints hold tensors, dtypes, Size, numbers, strings, bytes and "
                "dict/OrderedDict/list/tuple/set containers of them"
            )

    def save_int(self, n):
        if 0 <= n < 256:
            self.out += b"K" + bytes([n])
        elif 0 <= n < 65536:
            self.out += b"M" + _PACK_H(n)
        elif -(1 << 31) <= n < (1 << 31):
            self.out += b"J" + _PACK_I(n)
        else:
            data = n.to_bytes((n.bit_length() + 8) // 8, "little", signed=True)
            if len(data) < 256:
                self.out += b"\x8a" + bytes([len(data)]) + data
            else:
                self.out += b"\x8b" + _PACK_I(len(data)) + data

    def save_str(self, s):
        if self.get(id(s)):
            return
        data = s.encode("utf-8", "surrogatepass")
        self.out += b"X" + _PACK_UI(len(data)) + data
        self.put(id(s), s)

    def save_bytes(self, b):
        # protocol 2 has no bytes opcode: torch writes _codecs.encode(latin1 str, 'latin1')
        self.global_("_codecs", "encode")
        self.save_tuple((b.decode("latin1"), "latin1"))
        self.out += b"R"

    def _enter(self, obj):
        if id(obj) in self.in_progress:
            raise ValueError("ember.save: the object contains a reference cycle through a tuple")
        self.in_progress.add(id(obj))

    def save_tuple(self, tup):
        if not tup:
            self.out += b")"
            return
        if self.get(id(tup)):
            return
        self._enter(tup)
        if len(tup) <= 3:
            for item in tup:
                self.save(item)
            self.out += (b"\x85", b"\x86", b"\x87")[len(tup) - 1]
        else:
            self.out += b"("
            for item in tup:
                self.save(item)
            self.out += b"t"
        self.in_progress.discard(id(tup))
        self.put(id(tup), tup)

    def save_list(self, lst):
        if self.get(id(lst)):
            return
        self.out += b"]"
        self.put(id(lst), lst)
        self._batched(lst, b"a", b"e", lambda item: self.save(item))

    def _batched(self, items, one, many, save_item):
        items = list(items)
        for start in range(0, len(items), _BATCH):
            chunk = items[start:start + _BATCH]
            if len(chunk) == 1:
                save_item(chunk[0])
                self.out += one
            else:
                self.out += b"("
                for item in chunk:
                    save_item(item)
                self.out += many

    def _save_pair(self, pair):
        self.save(pair[0])
        self.save(pair[1])

    def save_dict(self, d):
        if self.get(id(d)):
            return
        self.out += b"}"
        self.put(id(d), d)
        self._batched(d.items(), b"s", b"u", self._save_pair)

    def save_ordered_dict(self, d):
        if self.get(id(d)):
            return
        self.global_("collections", "OrderedDict")
        self.out += b")R"
        self.put(id(d), d)
        self._batched(d.items(), b"s", b"u", self._save_pair)
        state = vars(d)
        if state:  # e.g. a state_dict's _metadata
            self.save_dict(dict(state))
            self.out += b"b"

    def save_set(self, s):
        if self.get(id(s)):
            return
        self.global_("__builtin__", "set")
        self.save_list(list(s))
        self.out += b"\x85R"
        self.put(id(s), s)

    # ---- tensors -------------------------------------------------------------------------
    def storage_for(self, arr):
        """(StorageRecord, offset, stride) for ndarray ``arr``, sharing records between views."""
        view = _storage_view(arr)
        if view is None:  # not a torch-expressible view: write a compact copy of its own
            root = np.ascontiguousarray(arr).reshape(-1)
            offset, stride = 0, ember_tensor.Array(np.ascontiguousarray(arr)).stride()
        else:
            root, offset, stride = view
        record = self.storages.get(id(root))
        if record is None:
            flat = root if root.flags.c_contiguous else root.T
            flat = flat.reshape(-1)
            if flat.dtype.byteorder == ">":
                flat = flat.astype(flat.dtype.newbyteorder("<"))
            record = StorageRecord(str(len(self.storages)), D.from_numpy_dtype(arr.dtype), flat)
            self.storages[id(root)] = record
            self.keep.append(root)
        return record, offset, stride

    def save_tensor(self, obj):
        if self.get(id(obj)):
            return
        arr = _bridge.ndarray_of(obj)
        is_param = _bridge.is_parameter(obj)
        if is_param:
            self.global_("torch._utils", "_rebuild_parameter")
        self.global_("torch._utils", "_rebuild_tensor_v2")
        record, offset, stride = self.storage_for(arr)
        self.out += b"("
        self.save_persistent_id(record)
        self.save_int(offset)
        self.save_tuple(tuple(int(n) for n in arr.shape))
        self.save_tuple(stride)
        self.save(False if is_param else _bridge.requires_grad_of(obj))
        self.global_("collections", "OrderedDict")
        self.out += b")R"  # backward hooks: an empty OrderedDict
        self.out += b"tR"
        if is_param:
            self.save(_bridge.requires_grad_of(obj))
            self.global_("collections", "OrderedDict")
            self.out += b")R\x87R"
        self.put(id(obj), obj)

    def save_module(self, obj):
        """A whole model, pickled as torch pickles one: its class by name, then its
        ``__dict__`` (parameters, buffers, submodules, settings) through BUILD. Inside it,
        classes and functions go by reference (ResNet keeps ``_norm_layer = BatchNorm2d``)
        and other objects by their ``__reduce_ex__(2)``, as pickle does. Loading it back
        needs ``load(weights_only=False)``, which imports them."""
        self.module_depth += 1
        try:
            self.save_reduced(obj)
        finally:
            self.module_depth -= 1

    def save_reference(self, obj):
        """A class or function, by module and qualified name (pickle's GLOBAL)."""
        module, name = getattr(obj, "__module__", None), obj.__qualname__
        if "<locals>" in name:
            raise AttributeError(f"Can't pickle local object {name!r}")
        found = sys.modules.get(module) if module else None
        for part in name.split("."):
            found = getattr(found, part, None)
        if found is not obj:
            raise pickle.PicklingError(f"Can't pickle {obj!r}: it's not found as {module}.{name}")
        self.global_(module, name)

    def save_reduced(self, obj):
        """Any other object inside a model, the way pickle's protocol 2 writes it."""
        if self.get(id(obj)):
            return
        reduced = obj.__reduce_ex__(2)
        if isinstance(reduced, str):  # a module-level singleton, named
            self.save_reference(obj)
            return
        func, args, state, items, pairs = (tuple(reduced) + (None,) * 5)[:5]
        if func is copyreg.__newobj__:
            self.save(args[0])
            self.save_tuple(tuple(args[1:]))
            self.out += b"\x81"  # NEWOBJ
        else:
            self.save(func)
            self.save_tuple(tuple(args))
            self.out += b"R"  # REDUCE
        self.put(id(obj), obj)
        if items is not None:
            self._batched(items, b"a", b"e", self.save)
        if pairs is not None:
            self._batched(pairs, b"s", b"u", self._save_pair)
        if state is not None:
            self.save(state)
            self.out += b"b"  # BUILD

    def save_persistent_id(self, record):
        key = ("pid", record.key)
        if not self.get(key):
            self.out += b"("
            self.save_str("storage")
            self.global_("torch", STORAGE_NAME_OF[record.dtype])
            self.save_str(record.key)
            self.save_str("cpu")
            self.save_int(record.numel)
            self.out += b"t"
            self.put(key)
        self.out += b"Q"


def _is_module(obj):
    return isinstance(obj, Module)


def encode(obj):
    """(pickle bytes, [StorageRecord]) for ``obj``."""
    writer = PickleWriter()
    data = writer.dump(obj)
    return data, writer.storage_records()

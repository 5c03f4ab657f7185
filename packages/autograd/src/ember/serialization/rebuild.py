"""The allowlist: the only globals a checkpoint may name, and what each one builds.

A resolved global is never a Python callable from the outside world: it is one of the small
token objects below (a storage type naming a dtype, a rebuild function of ours, a container
constructor). The unpickler applies REDUCE/NEWOBJ only to ``Callable`` tokens, so nothing in a
file can reach code that is not written here.

Every tensor is built by ``build_tensor`` which validates offset, sizes and strides against
the storage before it makes a view, so a file cannot make Ember read outside its buffers.
"""
import collections

import numpy as np

import ember_tensor
from ember_tensor import _dtype as D

from .._device import device
from . import _bridge
from ._errors import CheckpointError, refused

# torch's storage class names <-> Ember dtypes (Char is int8, Byte is uint8)
STORAGE_NAMES = {
    "DoubleStorage": D.float64, "FloatStorage": D.float32, "HalfStorage": D.float16,
    "LongStorage": D.int64, "IntStorage": D.int32, "ShortStorage": D.int16,
    "CharStorage": D.int8, "ByteStorage": D.uint8, "BoolStorage": D.bool,
}
STORAGE_NAME_OF = {dt: name for name, dt in STORAGE_NAMES.items()}
_UNSUPPORTED_STORAGES = {
    "BFloat16Storage": "bfloat16", "ComplexFloatStorage": "complex64",
    "ComplexDoubleStorage": "complex128", "QInt8Storage": "qint8", "QUInt8Storage": "quint8",
    "QInt32Storage": "qint32", "QUInt4x2Storage": "quint4x2", "QUInt2x4Storage": "quint2x4",
}
# torch dtype attribute names -> Ember dtypes (aliases included, as torch.float is torch.float32)
DTYPE_NAMES = dict(D._BY_NAME)
_UNSUPPORTED_DTYPES = {
    "bfloat16", "complex32", "complex64", "complex128", "cfloat", "cdouble", "chalf",
    "uint16", "uint32", "uint64", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz",
    "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2", "qint8", "quint8", "qint32",
    "quint4x2", "quint2x4", "bits8", "bits16", "bits1x8", "bits2x4", "bits4x2",
    *(f"int{n}" for n in range(1, 8)), *(f"uint{n}" for n in range(1, 8)),
}
_TENSOR_TYPES = {
    "DoubleTensor", "FloatTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
    "CharTensor", "ByteTensor", "BoolTensor",
}
_MAX_DIMS = 32


class StorageType:
    """Token for ``torch.FloatStorage`` & co.: names a dtype, never constructs anything."""

    __slots__ = ("name", "dtype")

    def __init__(self, name, dtype):
        self.name = name
        self.dtype = dtype  # None for torch.storage.UntypedStorage (bytes)

    @property
    def itemsize(self):
        return 1 if self.dtype is None else self.dtype.itemsize

    def __repr__(self):
        return f"<storage type torch.{self.name}>"


class TypeToken:
    """Token for a class a file may name only as data (``torch.FloatTensor``, ``torch.Tensor``)."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"<type {self.name}>"


class Storage:
    """One deserialized storage: a flat, writable NumPy buffer of its dtype."""

    __slots__ = ("key", "dtype", "array", "location")

    def __init__(self, key, dtype, array, location="cpu"):
        self.key = key
        self.dtype = dtype  # None: untyped (bytes)
        self.array = array
        self.location = location

    @property
    def numel(self):
        return self.array.shape[0]

    def __repr__(self):
        return f"<storage {self.key!r} of {self.numel} elements>"


class Callable:
    """A function a checkpoint may call through REDUCE / NEWOBJ: only instances of this class."""

    __slots__ = ("qualname", "fn")

    def __init__(self, qualname, fn):
        self.qualname = qualname
        self.fn = fn

    def __call__(self, *args):
        return self.fn(*args)

    def __repr__(self):
        return f"<allowed global {self.qualname}>"


# ---- argument checks ----------------------------------------------------------------------
def _int(value, what):
    if type(value) is bool or not isinstance(value, int):
        raise refused(f"{what} must be an int, got {type(value).__name__}")
    return value


def _int_tuple(value, what):
    if not isinstance(value, (tuple, list)):
        raise refused(f"{what} must be a tuple of ints, got {type(value).__name__}")
    return tuple(_int(v, what) for v in value)


def _view_bounds(numel, offset, size, stride, what):
    """Check a strided view lies inside a storage of ``numel`` elements, before any allocation."""
    if len(size) != len(stride):
        raise CheckpointError(
            f"{what}: size {list(size)} and stride {list(stride)} have different lengths"
        )
    if len(size) > _MAX_DIMS:
        raise CheckpointError(f"{what}: {len(size)} dimensions is more than Ember supports")
    if offset < 0 or any(s < 0 for s in size) or any(st < 0 for st in stride):
        raise CheckpointError(
            f"{what}: negative storage offset, size or stride "
            f"(offset {offset}, size {list(size)}, stride {list(stride)})"
        )
    if 0 in size:
        if offset > numel:
            raise CheckpointError(
                f"{what}: storage offset {offset} is past the end of a storage of {numel} elements"
            )
        return
    last = offset + sum((s - 1) * st for s, st in zip(size, stride))
    if last >= numel:
        raise CheckpointError(
            f"{what}: a view with offset {offset}, size {list(size)} and stride {list(stride)} "
            f"needs {last + 1} elements but its storage holds {numel}"
        )


def build_ndarray(storage, offset, size, stride, dtype=None):
    """A NumPy view of ``storage`` (validated first); ``dtype`` reinterprets untyped bytes."""
    if not isinstance(storage, Storage):
        raise refused(f"a tensor must be built on a storage, got {type(storage).__name__}")
    offset = _int(offset, "storage_offset")
    size = _int_tuple(size, "size")
    stride = _int_tuple(stride, "stride")
    buf = storage.array
    if dtype is None:
        if storage.dtype is None:
            raise CheckpointError("an untyped storage needs a dtype (_rebuild_tensor_v3)")
        dtype = storage.dtype
    elif storage.dtype is not None and storage.dtype is not dtype:
        raise CheckpointError(
            f"storage {storage.key!r} holds {storage.dtype.name}, not {dtype.name}"
        )
    if storage.dtype is None:  # untyped: numel counts bytes
        if buf.shape[0] % dtype.itemsize:
            raise CheckpointError(
                f"storage {storage.key!r}: {buf.shape[0]} bytes is not a whole number of "
                f"{dtype.name} elements"
            )
        buf = buf.view(dtype.np)
    _view_bounds(buf.shape[0], offset, size, stride, f"tensor on storage {storage.key!r}")
    item = dtype.itemsize
    try:
        return np.ndarray(size, dtype.np, buffer=buf, offset=offset * item,
                          strides=tuple(st * item for st in stride))
    except (ValueError, OverflowError) as exc:  # e.g. more elements than an index can count
        raise CheckpointError(f"tensor on storage {storage.key!r}: {exc}") from None


# ---- rebuild functions (torch._utils names) -------------------------------------------------
def _rebuild_tensor(storage, storage_offset, size, stride):
    return _bridge.wrap(build_ndarray(storage, storage_offset, size, stride))


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    arr = build_ndarray(storage, storage_offset, size, stride)
    return _bridge.wrap(arr, requires_grad=bool(requires_grad))


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       dtype, metadata=None):
    if not isinstance(dtype, D.dtype):
        raise refused(f"_rebuild_tensor_v3 needs a dtype, got {type(dtype).__name__}")
    arr = build_ndarray(storage, storage_offset, size, stride, dtype)
    return _bridge.wrap(arr, requires_grad=bool(requires_grad))


def _rebuild_parameter(data, requires_grad, backward_hooks=None, state=None):
    if not _bridge.is_tensor(data):
        raise refused(f"a Parameter must wrap a tensor, got {type(data).__name__}")
    return _bridge.make_parameter(data, requires_grad)


def _parameter_new(data=None, requires_grad=True):
    if data is None:
        raise refused("Parameter() without data is not supported")
    return _rebuild_parameter(data, requires_grad)


def _rebuild_from_type_v2(func, new_type, args, state):
    """A tensor saved with Python attributes: rebuild it, keep the plain tensor."""
    if not isinstance(func, Callable) or func.fn not in _TENSOR_BUILDERS:
        raise refused(f"_rebuild_from_type_v2 may only call a tensor rebuild function, got "
            f"{func!r}")
    if not isinstance(args, tuple):
        raise refused("_rebuild_from_type_v2 needs a tuple of arguments")
    result = func(*args)
    if new_type is PARAMETER_TYPE and not _bridge.is_parameter(result):
        result = _bridge.make_parameter(result, True)
    elif new_type not in (TENSOR_TYPE, PARAMETER_TYPE):
        raise refused(f"cannot rebuild a tensor subclass {new_type!r}")
    return result


_TENSOR_BUILDERS = (_rebuild_tensor, _rebuild_tensor_v2, _rebuild_tensor_v3)


# ---- small safe constructors -----------------------------------------------------------------
def _ordered_dict(items=()):
    if not isinstance(items, (list, tuple, dict)):
        raise refused(f"OrderedDict() from {type(items).__name__} is not allowed")
    return collections.OrderedDict(items)


def _counter(items=()):
    if not isinstance(items, (list, tuple, dict)):
        raise refused(f"Counter() from {type(items).__name__} is not allowed")
    return collections.Counter(items)


def _size(dims=()):
    return ember_tensor.Size(_int_tuple(dims, "Size"))


def _encode(text, encoding="utf-8"):
    # protocol-2 pickles store bytes as _codecs.encode(str, 'latin1')
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1", "utf-8", "utf8", "ascii"):
        raise refused("_codecs.encode is allowed only to turn a str into bytes (latin1/utf-8)")
    return text.encode(encoding)


def _bytearray(data=b""):
    if not isinstance(data, (bytes, bytearray, list, tuple)):  # bytearray(10**12) is a bomb
        raise refused(f"bytearray() from {type(data).__name__} is not allowed")
    return bytearray(data)


def _bytes(data=b""):
    if not isinstance(data, (bytes, bytearray, list, tuple)):  # bytes(10**12) is a bomb too
        raise refused(f"bytes() from {type(data).__name__} is not allowed")
    return bytes(data)


def _set(items=()):
    if not isinstance(items, (list, tuple, set, frozenset)):
        raise refused(f"set() from {type(items).__name__} is not allowed")
    return set(items)


def _frozenset(items=()):
    return frozenset(_set(items))


def _complex(real=0.0, imag=0.0):
    if not all(isinstance(v, (int, float)) for v in (real, imag)):
        raise refused("complex() takes only numbers here")
    return complex(real, imag)


def _device(kind, index=None):
    if not isinstance(kind, str) or (index is not None and not isinstance(index, int)):
        raise refused("torch.device() takes a device string")
    text = kind if index is None else f"{kind}:{index}"
    return device(text)


def _get_layout(name):
    raise CheckpointError(f"sparse or non-strided tensors ({name}) are not supported by Ember")


TENSOR_TYPE = TypeToken("torch.Tensor")
PARAMETER_TYPE = Callable("torch.nn.parameter.Parameter", _parameter_new)


def _build_allowlist():
    allowed = {
        "collections.OrderedDict": Callable("collections.OrderedDict", _ordered_dict),
        "collections.Counter": Callable("collections.Counter", _counter),
        "torch.nn.parameter.Parameter": PARAMETER_TYPE,
        "torch.Size": Callable("torch.Size", _size),
        "torch.Tensor": TENSOR_TYPE,
        "torch.device": Callable("torch.device", _device),
        "torch.serialization._get_layout": Callable("torch.serialization._get_layout", _get_layout),
        "_codecs.encode": Callable("_codecs.encode", _encode),
        "builtins.bytearray": Callable("builtins.bytearray", _bytearray),
        "builtins.bytes": Callable("builtins.bytes", _bytes),
        "builtins.set": Callable("builtins.set", _set),
        "builtins.frozenset": Callable("builtins.frozenset", _frozenset),
        "builtins.complex": Callable("builtins.complex", _complex),
        "torch._tensor._rebuild_from_type_v2": Callable(
            "torch._tensor._rebuild_from_type_v2", _rebuild_from_type_v2),
    }
    for fn in (_rebuild_tensor, _rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_parameter):
        allowed[f"torch._utils.{fn.__name__}"] = Callable(f"torch._utils.{fn.__name__}", fn)
    allowed["torch._utils._rebuild_parameter_with_state"] = Callable(
        "torch._utils._rebuild_parameter_with_state", _rebuild_parameter)
    for name, dt in STORAGE_NAMES.items():
        token = StorageType(name, dt)
        allowed[f"torch.{name}"] = token
        allowed[f"torch.cuda.{name}"] = token  # files saved from a GPU name these
    allowed["torch.storage.UntypedStorage"] = StorageType("storage.UntypedStorage", None)
    allowed["torch.UntypedStorage"] = allowed["torch.storage.UntypedStorage"]
    for name, dt in DTYPE_NAMES.items():
        allowed[f"torch.{name}"] = dt
    for name in _TENSOR_TYPES:
        allowed[f"torch.{name}"] = TypeToken(f"torch.{name}")
        allowed[f"torch.cuda.{name}"] = TypeToken(f"torch.cuda.{name}")
    return allowed


ALLOWED = _build_allowlist()
# modules whose names must never resolve, whatever the name after them
BLOCKED_MODULES = {"os", "posix", "nt", "subprocess", "sys", "builtins.eval", "shutil", "socket",
                   "importlib", "runpy", "pty", "ctypes", "pickle", "marshal", "code", "webbrowser"}


def resolve_global(module, name):
    """The allowlisted object for ``module.name``, or UnpicklingError naming what was refused."""
    if not isinstance(module, str) or not isinstance(name, str):
        raise refused("GLOBAL names must be strings")
    full = f"{module}.{name}"
    found = ALLOWED.get(full)
    if found is not None:
        return found
    if module in ("torch", "torch.cuda"):
        storage_dtype = _UNSUPPORTED_STORAGES.get(name)
        if storage_dtype or (module == "torch" and name in _UNSUPPORTED_DTYPES):
            raise CheckpointError(
                f"this checkpoint holds {storage_dtype or name} data ({full}), "
                "a dtype Ember does not have"
            )
    top = module.split(".")[0]
    if top in BLOCKED_MODULES:
        raise refused(f"Trying to load unsupported GLOBAL {full} whose module {top} is blocked.")
    raise refused(
        f"Unsupported global: GLOBAL {full} was not an allowed global. Ember resolves only "
        "tensors, storages, dtypes, torch.Size and plain containers."
    )


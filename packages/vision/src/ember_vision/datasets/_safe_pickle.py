"""A pickle reader that can only build what CIFAR's Python batches contain; it never runs code.

CIFAR-10/100's ``data_batch_*``, ``test_batch``, ``train``, ``test``, ``batches.meta`` and
``meta`` are dicts pickled by Python 2's cPickle (protocol 2): str keys, lists of ints and
strs, and one uint8 numpy array, which pickle spells as calls to
``numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), 'b')`` and ``numpy.dtype('u1', 0,
1)`` followed by BUILD with the array's state ``(1, shape, dtype, is_fortran, raw bytes)``.
Python 3 writes the same structure with ``numpy._core`` and wraps raw bytes in
``_codecs.encode(text, 'latin1')``.

This module interprets the opcodes itself (Python's ``pickle`` never sees the bytes). It
knows the data opcodes of protocols 2 to 4 and five globals, and treats each global as a
token whose "call" builds data it validates: the array's element type must be a plain number
type (never ``object``), its shape must match the raw bytes exactly, so an array can never
be larger than the file. Any other opcode or global (``os.system``, ``builtins.eval``, a
class to instantiate) raises ``DatasetFileError`` before anything is called. Strings from
Python 2 are read as latin-1, as torchvision's ``pickle.load(f, encoding="latin1")`` does.
"""
import struct

import numpy as np

from ._file_errors import DatasetFileError

_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): "reconstruct",
    ("numpy._core.multiarray", "_reconstruct"): "reconstruct",
    ("numpy", "ndarray"): "ndarray",
    ("numpy", "dtype"): "dtype",
    ("_codecs", "encode"): "encode",
}
_NUMBER_DTYPES = frozenset(["b1", "u1", "i1", "u2", "i2", "u4", "i4", "u8", "i8",
                            "f2", "f4", "f8"])
_MAX_NAME = 256


def _describe(value) -> str:
    """A short description of untrusted data for an error message (never a full repr: a
    pickle can nest tuples deep enough to make ``repr`` overflow the stack)."""
    if isinstance(value, (str, bytes, int, float, bool)) or value is None:
        return repr(value)[:40]
    return f"a {type(value).__name__}"


class _Global:
    """A resolved global: only a token, called by ``_reduce`` and nowhere else."""

    def __init__(self, kind):
        self.kind = kind


class _DType:
    """``numpy.dtype(spec)`` waiting for its BUILD state (which sets the byte order)."""

    def __init__(self, spec):
        self.spec = spec
        self.order = "|" if spec[1:] == "1" or spec == "b1" else "<"

    def numpy(self):
        return np.dtype(self.order + self.spec if self.order != "|" else self.spec)


class _Array:
    """``_reconstruct(ndarray, (0,), 'b')``: an array that BUILD must fill before any use."""


class SafePickleReader:
    """Interpret one pickle from ``data``; ``name`` appears in every error message."""

    def __init__(self, data: bytes, name: str):
        self.data = memoryview(data)
        self.pos = 0
        self.name = name
        self.stack: list = []
        self.marks: list[int] = []
        self.memo: dict = {}
        # id(_Array) -> memo keys holding it, redirected at BUILD
        self.array_memo_keys: dict[int, list] = {}

    # -- reading -----------------------------------------------------------------------------
    def _fail(self, why):
        raise DatasetFileError(f"refusing to read {self.name}: {why}")

    def _take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            self._fail(f"truncated (a record at byte {self.pos} needs {n} bytes, "
                       f"{len(self.data) - self.pos} remain)")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def _unpack(self, fmt):
        size = struct.calcsize(fmt)
        return struct.unpack(fmt, self._take(size))[0]

    def _line(self):
        end = bytes(self.data[self.pos:self.pos + _MAX_NAME]).find(b"\n")
        if end < 0:
            self._fail(f"a GLOBAL name at byte {self.pos} is truncated or too long")
        out = bytes(self._take(end + 1)[:-1])
        try:
            return out.decode("ascii")
        except UnicodeDecodeError:
            self._fail("a GLOBAL name is not ASCII")

    def _pop(self):
        if not self.stack or (self.marks and len(self.stack) <= self.marks[-1]):
            self._fail(f"stack underflow at byte {self.pos}")
        return self.stack.pop()

    def _pop_mark(self):
        if not self.marks:
            self._fail(f"an opcode at byte {self.pos} needs a MARK and there is none")
        start = self.marks.pop()
        items = self.stack[start:]
        del self.stack[start:]
        return items

    def _text(self, raw, encoding):
        try:
            return bytes(raw).decode(encoding)
        except UnicodeDecodeError:
            self._fail("a string is not valid UTF-8")

    # -- building ----------------------------------------------------------------------------
    def _plain(self, value):
        """Refuse builders that never received their state (or leaked out of their args)."""
        if isinstance(value, (_Global, _Array, _DType)):
            self._fail("the pickle stores a function, a dtype or an unfinished array as data")
        return value

    def _reduce(self, func, args):
        if not isinstance(func, _Global) or not isinstance(args, tuple):
            self._fail("REDUCE calls something other than an allowed numpy/codecs function")
        if func.kind == "encode":  # Python 3's spelling of bytes at protocol 2
            if (len(args) != 2 or not isinstance(args[0], str)
                    or args[1] not in ("latin1", "latin-1")):
                self._fail("_codecs.encode is only allowed as encode(str, 'latin1')")
            try:
                return args[0].encode("latin1")
            except UnicodeEncodeError:
                self._fail("_codecs.encode got characters outside latin-1")
        if func.kind == "dtype":
            if not args or not isinstance(args[0], str) or args[0] not in _NUMBER_DTYPES:
                self._fail(f"numpy.dtype({_describe(args[0] if args else None)}) is not a "
                           "plain number type "
                           f"(allowed: {', '.join(sorted(_NUMBER_DTYPES))})")
            return _DType(args[0])
        if func.kind == "reconstruct":
            if (len(args) != 3 or not isinstance(args[0], _Global)
                    or args[0].kind != "ndarray"):
                self._fail("_reconstruct is only allowed as _reconstruct(numpy.ndarray, ...)")
            return _Array()
        self._fail(f"the pickle calls {func.kind}, which builds nothing a data set holds")

    def _build_dtype(self, dtype, state):
        if not isinstance(state, tuple) or len(state) < 5 or state[1] not in ("<", ">", "|", "=") \
                or any(s is not None for s in state[2:5]):
            self._fail("a numpy dtype state is not that of a plain number type")
        if state[1] in "<>":
            dtype.order = state[1]
        return dtype

    def _build_array(self, state):
        if isinstance(state, tuple) and len(state) == 5:
            state = state[1:]  # (version, shape, dtype, is_fortran, raw)
        if not isinstance(state, tuple) or len(state) != 4:
            self._fail("a numpy array state is not (shape, dtype, is_fortran, raw bytes)")
        shape, dtype, fortran, raw = state
        if not isinstance(dtype, _DType):
            self._fail("a numpy array state has no number dtype")
        if not isinstance(shape, tuple) or not all(type(n) is int and n >= 0 for n in shape):
            self._fail(f"a numpy array shape is not a tuple of sizes: {_describe(shape)}")
        if isinstance(raw, str):  # Python 2 str read as latin-1: the bytes are its code points
            raw = raw.encode("latin1")
        if not isinstance(raw, bytes):
            self._fail("a numpy array's data is not a byte string")
        np_dtype = dtype.numpy()
        count = 1
        for n in shape:
            count *= n
        if count * np_dtype.itemsize != len(raw):
            self._fail(f"a numpy array of shape {shape} and dtype {np_dtype.str} needs "
                       f"{count * np_dtype.itemsize} bytes, its data has {len(raw)}")
        arr = np.frombuffer(raw, dtype=np_dtype).reshape(shape, order="F" if fortran else "C")
        return arr.astype(np_dtype.newbyteorder("="), copy=True)

    # -- the opcode loop ---------------------------------------------------------------------
    def load(self):
        ops = self._opcodes()
        while True:
            if self.pos >= len(self.data):
                self._fail("truncated: the pickle ends before its STOP opcode")
            code = self.data[self.pos]
            self.pos += 1
            if code == 0x2E:  # STOP
                result = self._pop()
                return result
            handler = ops.get(code)
            if handler is None:
                self._fail(f"opcode {bytes([code])!r} at byte {self.pos - 1} is not one a "
                           "data set pickle uses (only plain data and numpy arrays are read)")
            handler()

    def _opcodes(self):
        push = self.stack.append
        unpack = self._unpack

        def proto():
            version = self._take(1)[0]
            if not 2 <= version <= 4:
                self._fail(f"pickle protocol {version}: only protocols 2 to 4 are read")

        def frame():
            self._take(8)

        def mark():
            self.marks.append(len(self.stack))

        def tuple_n(n):
            def op():
                items = [self._pop() for _ in range(n)][::-1]
                push(tuple(items))
            return op

        def setitems():
            items = self._pop_mark()
            if len(items) % 2:
                self._fail("SETITEMS with an odd number of items")
            target = self._pop()
            if not isinstance(target, dict):
                self._fail("SETITEMS on something that is not a dict")
            for k, v in zip(items[::2], items[1::2]):
                if not isinstance(k, (str, bytes, int)):
                    self._fail(f"a dict key of type {type(k).__name__}")
                target[k] = self._plain(v)
            push(target)

        def setitem():
            value, key = self._pop(), self._pop()
            self.marks.append(len(self.stack))
            self.stack.extend([key, value])
            setitems()

        def appends():
            items = self._pop_mark()
            target = self._pop()
            if not isinstance(target, list):
                self._fail("APPENDS on something that is not a list")
            target.extend(self._plain(v) for v in items)
            push(target)

        def append():
            value = self._pop()
            self.marks.append(len(self.stack))
            push(value)
            appends()

        def long1():
            n = self._take(1)[0]
            push(int.from_bytes(self._take(n), "little", signed=True))

        def string(size_fmt, kind):
            def op():
                n = unpack(size_fmt)
                raw = self._take(n)
                push(bytes(raw) if kind == "bytes" else self._text(raw, kind))
            return op

        def put(index_fmt):
            def op():
                if not self.stack:
                    self._fail("PUT on an empty stack")
                remember(unpack(index_fmt))
            return op

        def remember(key):
            value = self.stack[-1]
            self.memo[key] = value
            if isinstance(value, _Array):
                self.array_memo_keys.setdefault(id(value), []).append(key)

        def memoize():
            if not self.stack:
                self._fail("MEMOIZE on an empty stack")
            remember(len(self.memo))

        def get(index_fmt):
            def op():
                index = unpack(index_fmt)
                if index not in self.memo:
                    self._fail(f"memo entry {index} is read before it is written")
                push(self.memo[index])
            return op

        def resolve(module, name):
            kind = _ALLOWED_GLOBALS.get((module, name))
            if kind is None:
                self._fail(f"the pickle refers to {module}.{name}, which is not part of a data "
                           "set batch (only numpy arrays, dicts, lists, strings and numbers are "
                           "read; nothing is imported or called)")
            push(_Global(kind))

        def global_():
            resolve(self._line(), self._line())

        def stack_global():
            name, module = self._pop(), self._pop()
            if not isinstance(name, str) or not isinstance(module, str):
                self._fail("STACK_GLOBAL needs two strings")
            resolve(module, name)

        def reduce():
            args = self._pop()
            push(self._reduce(self._pop(), args))

        def build():
            state = self._pop()
            target = self._pop()
            if isinstance(target, _DType):
                push(self._build_dtype(target, state))
            elif isinstance(target, _Array):
                arr = self._build_array(state)
                for key in self.array_memo_keys.pop(id(target), ()):
                    if self.memo.get(key) is target:
                        self.memo[key] = arr
                push(arr)
            else:
                self._fail("BUILD on something other than a numpy array or dtype")

        def mark_tuple():
            push(tuple(self._pop_mark()))

        return {
            0x80: proto, 0x95: frame, 0x28: mark,
            0x7D: lambda: push({}), 0x5D: lambda: push([]), 0x29: lambda: push(()),
            0x74: mark_tuple, 0x85: tuple_n(1), 0x86: tuple_n(2), 0x87: tuple_n(3),
            0x73: setitem, 0x75: setitems, 0x61: append, 0x65: appends,
            0x4A: lambda: push(unpack("<i")), 0x4B: lambda: push(self._take(1)[0]),
            0x4D: lambda: push(unpack("<H")), 0x8A: long1,
            0x4E: lambda: push(None), 0x88: lambda: push(True), 0x89: lambda: push(False),
            0x47: lambda: push(unpack(">d")),
            0x55: string("<B", "latin1"), 0x54: string("<i", "latin1"),
            0x58: string("<I", "utf-8"), 0x8C: string("<B", "utf-8"),
            0x43: string("<B", "bytes"), 0x42: string("<I", "bytes"),
            0x71: put("<B"), 0x72: put("<I"), 0x94: memoize,
            0x68: get("<B"), 0x6A: get("<I"),
            0x63: global_, 0x93: stack_global, 0x52: reduce, 0x62: build,
        }


def load_data_pickle(data: bytes, name: str = "pickle") -> dict:
    """The dict pickled in ``data``, read without running any code (see the module doc)."""
    result = SafePickleReader(data, name).load()
    if not isinstance(result, dict):
        raise DatasetFileError(f"refusing to read {name}: it holds a "
                               f"{type(result).__name__}, not the dict of a data set batch")
    return result


def load_data_pickle_file(path) -> dict:
    with open(path, "rb") as f:
        return load_data_pickle(f.read(), str(path))

"""A pickle interpreter that can only build data: Ember's answer to ``weights_only=True``.

It is written from scratch as an opcode loop (it never hands bytes to ``pickle.Unpickler``):
every opcode it knows is listed in ``_DISPATCH``; any other opcode is refused. GLOBAL resolves
through ``rebuild.resolve_global`` (an explicit allowlist of tokens), REDUCE/NEWOBJ call only
``rebuild.Callable`` tokens, BUILD only sets plain attributes on OrderedDicts, SETITEM(S) only
fills dicts, APPEND(S) only lists, and persistent ids must be ``('storage', ...)`` tuples (or,
for torch <= 0.1.9 tar files, plain keys). Protocols 0 to 5 are understood, minus the opcodes
that instantiate arbitrary classes (INST, OBJ, NEWOBJ_EX), the extension registry (EXT*) and
out-of-band buffers.

Reads are bounded by the region the caller hands in, so a length field can never make it
allocate more than the file holds.
"""
import _compat_pickle
import codecs
import collections
import io
import pickle
import struct

from . import rebuild
from ._errors import TruncatedCheckpointError, refused

_UNPACK_I = struct.Struct("<i").unpack
_UNPACK_UI = struct.Struct("<I").unpack
_UNPACK_H = struct.Struct("<H").unpack
_UNPACK_Q = struct.Struct("<Q").unpack
_UNPACK_D = struct.Struct(">d").unpack
_MAX_LINE = 1 << 16


def _py3_name(module, name):
    """Python 2 spelled some globals differently (``__builtin__.set``, ``commands.call``): read
    them as pickle's fix_imports does, so the allowlist and error messages see one name."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


class Source:
    """A bounded view of a binary file: ``read`` fails instead of reading past ``end``."""

    def __init__(self, fileobj, end, name="checkpoint"):
        self.f = fileobj
        self.end = end
        self.name = name

    @classmethod
    def of_bytes(cls, data, name="checkpoint"):
        return cls(io.BytesIO(data), len(data), name)

    def remaining(self):
        return self.end - self.f.tell()

    def read(self, n):
        if n > self.remaining():
            raise TruncatedCheckpointError(
                f"{self.name} is truncated: a record needs {n} bytes but only "
                f"{max(self.remaining(), 0)} remain"
            )
        data = self.f.read(n)
        if len(data) != n:
            raise TruncatedCheckpointError(f"{self.name} is truncated")
        return data

    def readline(self):
        line = self.f.readline(min(_MAX_LINE, max(self.remaining(), 0)))
        if not line.endswith(b"\n"):
            raise TruncatedCheckpointError(f"{self.name} is truncated inside a pickle text record")
        return line[:-1]


class RestrictedUnpickler:
    """Interpret one pickle from ``source``; ``persistent_load(pid)`` resolves storages."""

    def __init__(self, source, persistent_load, *, encoding="utf-8", plain_ids=False):
        self.src = source
        self.persistent_load = persistent_load
        self.encoding = encoding
        self.plain_ids = plain_ids  # tar files use bare keys as persistent ids

    # ---- driver ------------------------------------------------------------------------------
    def load(self):
        self.stack = []
        self.marks = []
        self.memo = {}
        read = self.src.read
        while True:
            op = read(1)[0]
            handler = _DISPATCH.get(op)
            if handler is None:
                raise refused(f"Unsupported pickle opcode {bytes([op])!r} (0x{op:02x}).")
            try:
                if handler is _stop:
                    if self.marks or len(self.stack) != 1:
                        raise pickle.UnpicklingError(
                            f"{self.src.name} is corrupt: pickle ends with an unbalanced stack"
                        )
                    return self.stack.pop()
                handler(self)
            except (IndexError, KeyError) as exc:
                raise pickle.UnpicklingError(
                    f"{self.src.name} is corrupt: bad pickle stack or memo reference ({exc!r})"
                ) from None
            except (TypeError, UnicodeDecodeError) as exc:  # unhashable key, bad UTF-8
                raise pickle.UnpicklingError(f"{self.src.name} is corrupt: {exc}") from None

    # ---- helpers -----------------------------------------------------------------------------
    def floor(self):
        """Values below the innermost MARK belong to an outer frame and cannot be popped."""
        return self.marks[-1] if self.marks else 0

    def pop(self):
        if len(self.stack) <= self.floor():
            raise IndexError("pop from an empty frame")
        return self.stack.pop()

    def top(self):
        if len(self.stack) <= self.floor():
            raise IndexError("empty frame")
        return self.stack[-1]

    def pop_mark(self):
        if not self.marks:
            raise IndexError("no MARK on the stack")
        start = self.marks.pop()
        items = self.stack[start:]
        del self.stack[start:]
        return items

    def push_mark(self):
        self.marks.append(len(self.stack))

    def decode_str(self, data):
        if self.encoding == "bytes":
            return data
        try:
            return data.decode(self.encoding)
        except UnicodeDecodeError:
            return data.decode("latin1")  # Python 2 str holding raw bytes

    def line_int(self):
        line = self.src.readline().rstrip(b"L")
        try:
            return int(line)
        except ValueError:
            raise pickle.UnpicklingError(f"bad integer in pickle: {line[:40]!r}") from None

    def memo_put(self, index):
        if index < 0:
            raise pickle.UnpicklingError("negative memo index")
        self.memo[index] = self.top()

    def call(self, func, args):
        if not isinstance(func, rebuild.Callable):
            raise refused(f"Trying to call reduce for unrecognized function {func!r}")
        if not isinstance(args, tuple):
            raise refused(f"REDUCE arguments must be a tuple, got {type(args).__name__}")
        return func(*args)


# ---- opcode handlers -------------------------------------------------------------------------
def _stop(u):  # handled in the driver
    pass


def _proto(u):
    version = u.src.read(1)[0]
    if version > 5:
        raise pickle.UnpicklingError(f"unsupported pickle protocol: {version}")


def _frame(u):
    u.src.read(8)  # frames only group opcodes; the data follows inline


def _global(u):
    module = u.src.readline().decode("utf-8", "replace")
    name = u.src.readline().decode("utf-8", "replace")
    u.stack.append(rebuild.resolve_global(*_py3_name(module, name)))


def _stack_global(u):
    name = u.pop()
    module = u.pop()
    if not isinstance(module, str) or not isinstance(name, str):
        raise refused("STACK_GLOBAL needs two strings")
    u.stack.append(rebuild.resolve_global(module, name))


def _reduce(u):
    args = u.pop()
    func = u.pop()
    u.stack.append(u.call(func, args))


def _newobj(u):
    args = u.pop()
    cls = u.pop()
    u.stack.append(u.call(cls, args))


def _build(u):
    state = u.pop()
    inst = u.top()
    if type(inst) is collections.OrderedDict or type(inst) is collections.Counter:
        if isinstance(state, tuple) and len(state) == 2 and state[1] is None:
            state = state[0]
        if state is None:
            return
        if not isinstance(state, dict):
            raise refused("BUILD state for an OrderedDict must be a dict")
        for key, value in state.items():
            if not isinstance(key, str) or key.startswith("__"):
                raise refused(f"BUILD may not set the attribute {key!r}")
            setattr(inst, key, value)
    elif rebuild_is_tensor(inst):
        # torch writes BUILD on a tensor only for Python-side state; Ember keeps no such state
        if state not in (None, {}, ()) and not (isinstance(state, tuple) and not any(state)):
            raise refused("BUILD with tensor state is not supported")
    else:
        raise refused(
            f"Can only build Tensor, Parameter or OrderedDict, but got {type(inst).__name__}"
        )


def rebuild_is_tensor(obj):
    return rebuild._bridge.is_tensor(obj)


def _mark(u):
    u.push_mark()


def _pop(u):
    if len(u.stack) > u.floor():
        u.stack.pop()
    else:
        u.pop_mark()


def _pop_mark(u):
    u.pop_mark()


def _dup(u):
    u.stack.append(u.top())


def _tuple(u):
    u.stack.append(tuple(u.pop_mark()))


def _tuple1(u):
    u.stack.append((u.pop(),))


def _tuple2(u):
    b = u.pop()
    u.stack.append((u.pop(), b))


def _tuple3(u):
    c = u.pop()
    b = u.pop()
    u.stack.append((u.pop(), b, c))


def _list(u):
    u.stack.append(list(u.pop_mark()))


def _dict(u):
    items = u.pop_mark()
    if len(items) % 2:
        raise pickle.UnpicklingError("odd number of items for DICT")
    u.stack.append({items[i]: items[i + 1] for i in range(0, len(items), 2)})


def _check_dict(u, opname):
    target = u.top()
    if type(target) not in (dict, collections.OrderedDict, collections.Counter):
        raise refused(
            f"Can only {opname} for dict, collections.OrderedDict, collections.Counter, but got "
            f"{type(target).__name__}"
        )
    return target


def _setitem(u):
    value = u.pop()
    key = u.pop()
    _check_dict(u, "SETITEM")[key] = value


def _setitems(u):
    items = u.pop_mark()
    if len(items) % 2:
        raise pickle.UnpicklingError("odd number of items for SETITEMS")
    target = _check_dict(u, "SETITEMS")
    for i in range(0, len(items), 2):
        target[items[i]] = items[i + 1]


def _check_list(u, opname):
    target = u.top()
    if type(target) is not list:
        raise refused(f"Can only {opname} to lists, but got {type(target).__name__}")
    return target


def _append(u):
    value = u.pop()
    _check_list(u, "append").append(value)


def _appends(u):
    items = u.pop_mark()
    _check_list(u, "extend").extend(items)


def _additems(u):
    items = u.pop_mark()
    target = u.top()
    if type(target) is not set:
        raise refused(f"Can only add items to sets, but got {type(target).__name__}")
    target.update(items)


def _frozenset(u):
    u.stack.append(frozenset(u.pop_mark()))


def _push(value):
    def handler(u):
        u.stack.append(value() if callable(value) else value)
    return handler


def _binint(u):
    u.stack.append(_UNPACK_I(u.src.read(4))[0])


def _binint1(u):
    u.stack.append(u.src.read(1)[0])


def _binint2(u):
    u.stack.append(_UNPACK_H(u.src.read(2))[0])


def _long1(u):
    n = u.src.read(1)[0]
    u.stack.append(int.from_bytes(u.src.read(n), "little", signed=True))


def _long4(u):
    n = _UNPACK_I(u.src.read(4))[0]
    if n < 0:
        raise pickle.UnpicklingError("LONG4 with a negative byte count")
    u.stack.append(int.from_bytes(u.src.read(n), "little", signed=True))


def _binfloat(u):
    u.stack.append(_UNPACK_D(u.src.read(8))[0])


def _unicode_of(u, n):
    u.stack.append(str(u.src.read(n), "utf-8", "surrogatepass"))


def _binunicode(u):
    _unicode_of(u, _UNPACK_UI(u.src.read(4))[0])


def _short_binunicode(u):
    _unicode_of(u, u.src.read(1)[0])


def _binunicode8(u):
    _unicode_of(u, _UNPACK_Q(u.src.read(8))[0])


def _binstring(u):
    n = _UNPACK_I(u.src.read(4))[0]
    if n < 0:
        raise pickle.UnpicklingError("BINSTRING with a negative length")
    u.stack.append(u.decode_str(u.src.read(n)))


def _short_binstring(u):
    u.stack.append(u.decode_str(u.src.read(u.src.read(1)[0])))


def _binbytes(u):
    u.stack.append(u.src.read(_UNPACK_UI(u.src.read(4))[0]))


def _short_binbytes(u):
    u.stack.append(u.src.read(u.src.read(1)[0]))


def _binbytes8(u):
    u.stack.append(u.src.read(_UNPACK_Q(u.src.read(8))[0]))


def _bytearray8(u):
    u.stack.append(bytearray(u.src.read(_UNPACK_Q(u.src.read(8))[0])))


# protocol 0 text forms
def _int(u):
    line = u.src.readline()
    if line == b"00":
        u.stack.append(False)
    elif line == b"01":
        u.stack.append(True)
    else:
        try:
            u.stack.append(int(line))
        except ValueError:
            raise pickle.UnpicklingError(f"bad INT in pickle: {line[:40]!r}") from None


def _long(u):
    u.stack.append(u.line_int())


def _float(u):
    line = u.src.readline()
    try:
        u.stack.append(float(line))
    except ValueError:
        raise pickle.UnpicklingError(f"bad FLOAT in pickle: {line[:40]!r}") from None


def _string(u):
    line = u.src.readline().rstrip()
    if len(line) < 2 or line[0] != line[-1] or line[:1] not in (b'"', b"'"):
        raise pickle.UnpicklingError("the STRING opcode argument must be quoted")
    u.stack.append(u.decode_str(codecs.escape_decode(line[1:-1])[0]))


def _unicode(u):
    u.stack.append(str(u.src.readline(), "raw-unicode-escape"))


def _get(u):
    u.stack.append(u.memo[u.line_int()])


def _put(u):
    u.memo_put(u.line_int())


def _binget(u):
    u.stack.append(u.memo[u.src.read(1)[0]])


def _long_binget(u):
    u.stack.append(u.memo[_UNPACK_UI(u.src.read(4))[0]])


def _binput(u):
    u.memo_put(u.src.read(1)[0])


def _long_binput(u):
    u.memo_put(_UNPACK_UI(u.src.read(4))[0])


def _memoize(u):
    u.memo_put(len(u.memo))


def _persistent(u, pid):
    if isinstance(pid, tuple) and pid:
        tag = pid[0].decode("ascii", "replace") if isinstance(pid[0], bytes) else pid[0]
        if tag != "storage":
            raise refused(f"Only persistent_load of storage is allowed, but got {tag!r}")
        pid = ("storage",) + pid[1:]
    elif not (u.plain_ids and isinstance(pid, (str, int)) and type(pid) is not bool):
        raise refused(f"persistent_load id must be a ('storage', ...) tuple, got "
            f"{type(pid).__name__}")
    u.stack.append(u.persistent_load(pid))


def _binpersid(u):
    _persistent(u, u.pop())


def _persid(u):
    _persistent(u, u.src.readline().decode("ascii", "replace"))


_DISPATCH = {
    pickle.PROTO[0]: _proto, pickle.STOP[0]: _stop, pickle.FRAME[0]: _frame,
    pickle.GLOBAL[0]: _global, pickle.STACK_GLOBAL[0]: _stack_global,
    pickle.REDUCE[0]: _reduce, pickle.NEWOBJ[0]: _newobj, pickle.BUILD[0]: _build,
    pickle.MARK[0]: _mark, pickle.POP[0]: _pop, pickle.POP_MARK[0]: _pop_mark,
    pickle.DUP[0]: _dup,
    pickle.TUPLE[0]: _tuple, pickle.TUPLE1[0]: _tuple1, pickle.TUPLE2[0]: _tuple2,
    pickle.TUPLE3[0]: _tuple3, pickle.EMPTY_TUPLE[0]: _push(()),
    pickle.LIST[0]: _list, pickle.EMPTY_LIST[0]: _push(list),
    pickle.DICT[0]: _dict, pickle.EMPTY_DICT[0]: _push(dict),
    pickle.EMPTY_SET[0]: _push(set), pickle.ADDITEMS[0]: _additems,
    pickle.FROZENSET[0]: _frozenset,
    pickle.APPEND[0]: _append, pickle.APPENDS[0]: _appends,
    pickle.SETITEM[0]: _setitem, pickle.SETITEMS[0]: _setitems,
    pickle.NONE[0]: _push(None), pickle.NEWTRUE[0]: _push(True), pickle.NEWFALSE[0]: _push(False),
    pickle.BININT[0]: _binint, pickle.BININT1[0]: _binint1, pickle.BININT2[0]: _binint2,
    pickle.LONG1[0]: _long1, pickle.LONG4[0]: _long4, pickle.BINFLOAT[0]: _binfloat,
    pickle.BINUNICODE[0]: _binunicode, pickle.SHORT_BINUNICODE[0]: _short_binunicode,
    pickle.BINUNICODE8[0]: _binunicode8,
    pickle.BINSTRING[0]: _binstring, pickle.SHORT_BINSTRING[0]: _short_binstring,
    pickle.BINBYTES[0]: _binbytes, pickle.SHORT_BINBYTES[0]: _short_binbytes,
    pickle.BINBYTES8[0]: _binbytes8, pickle.BYTEARRAY8[0]: _bytearray8,
    pickle.INT[0]: _int, pickle.LONG[0]: _long, pickle.FLOAT[0]: _float,
    pickle.STRING[0]: _string, pickle.UNICODE[0]: _unicode,
    pickle.GET[0]: _get, pickle.PUT[0]: _put,
    pickle.BINGET[0]: _binget, pickle.LONG_BINGET[0]: _long_binget,
    pickle.BINPUT[0]: _binput, pickle.LONG_BINPUT[0]: _long_binput,
    pickle.MEMOIZE[0]: _memoize,
    pickle.BINPERSID[0]: _binpersid, pickle.PERSID[0]: _persid,
}


def load_pickle(source, persistent_load, **kwargs):
    return RestrictedUnpickler(source, persistent_load, **kwargs).load()

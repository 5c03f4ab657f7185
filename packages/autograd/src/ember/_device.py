"""``ember.device`` and the default device.

Ember computes on the CPU only. Device names parse as torch parses them, so scripts that name
``"cuda"`` or ``"mps"`` run up to the point where they would put a tensor there; that point
raises what torch's CPU-only build raises (``AssertionError: Torch not compiled with CUDA
enabled``, ...). Device types no Ember user is likely to meet (``meta``, ``hip``, ``xla``, ...)
raise Ember's own RuntimeError instead.
"""
import builtins
import re
import threading

# torch's device types, in the order its parser lists them.
_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
          "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")
_EXPECTED = ("Expected one of " + ", ".join(_TYPES)
             + " device type at start of device string: {}")
# "type" or "type:index": the index a decimal without sign or leading zeros
_DEVICE_STRING = re.compile(r"([a-zA-Z_]+)(?::(0|[1-9][0-9]*))?")
NO_ACCELERATOR = "Cannot access accelerator device when none is available."
_MISSING = object()

# which allocation an op starts with, and so which error torch's dispatcher names on MPS
TENSOR, FACTORY, LIKE = "tensor", "aten::empty.memory_format", "aten::empty_strided"


class device:
    """``ember.device('cpu')``, ``device('cuda', 0)``, ``device('cuda:0')``: a place a tensor
    could live. Constructing any of torch's device types works; only the CPU can be used."""

    __module__ = "ember"
    __slots__ = ("type", "index")

    def __init__(self, type=_MISSING, index=None):
        if isinstance(type, device) and index is None:
            type, index = type.type, type.index
        elif isinstance(type, builtins.int) and not isinstance(type, builtins.bool):
            # torch reads a bare int as an index on the current accelerator; there is none
            raise RuntimeError("Device index must not be negative" if type < 0
                               else NO_ACCELERATOR)
        elif not isinstance(type, str):
            got = "" if type is _MISSING else builtins.type(type).__name__
            raise TypeError(f"device() received an invalid combination of arguments - got "
                            f"({got})")
        if index is not None:
            if not isinstance(index, builtins.int) or isinstance(index, builtins.bool):
                raise TypeError("device(): argument 'index' (position 2) must be int, not "
                                f"{builtins.type(index).__name__}")
            if index < 0:
                raise RuntimeError("Device index must not be negative")
            if ":" in type:
                raise RuntimeError("type (string) must not include an index because index "
                                   f"was passed explicitly: {type}")
        self.type, parsed = _parse(type)
        self.index = parsed if index is None else index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))

    # ``with ember.device("cpu"):`` makes it the default device inside the block, as torch
    def __enter__(self) -> "device":
        _STATE.stack.append(_STATE.default)
        _STATE.default = self
        return self

    def __exit__(self, *exc) -> None:
        _STATE.default = _STATE.stack.pop()


def _parse(text):
    if not text:
        raise RuntimeError("Device string must not be empty")
    m = _DEVICE_STRING.fullmatch(text)
    if m is None:
        head = re.match(r"[a-zA-Z_]*", text).group()
        if head and head not in _TYPES:
            raise RuntimeError(_EXPECTED.format(head))
        raise RuntimeError(f"Invalid device string: '{text}'")
    kind, idx = m.groups()
    if kind not in _TYPES:
        raise RuntimeError(_EXPECTED.format(kind))
    if idx is None:
        return kind, None
    if builtins.int(idx) > 2**31 - 1:  # beyond a C int, where torch's parser gives up
        raise RuntimeError(f"Could not parse device index '{idx}' in device string '{text}'")
    return kind, builtins.int(idx)


CPU = device("cpu")  # every tensor's device


def as_device(dev) -> device:
    """``dev`` (a device, a device string or an int) as a device, with torch's errors."""
    return dev if type(dev) is device else device(dev)


def _error(dev: device, op: str) -> BaseException:
    kind = dev.type
    if kind in ("cuda", "xpu"):
        return AssertionError(f"Torch not compiled with {kind.upper()} enabled")
    if kind == "mps" and op == TENSOR:
        return RuntimeError("PyTorch is not linked with support for mps devices")
    if kind == "mps":  # torch's dispatcher finds no MPS kernel for the first allocation
        return NotImplementedError(f"Could not run '{op}' with arguments from the 'MPS' "
                                   "backend. Ember runs on the CPU only.")
    return RuntimeError(f"Ember runs on the CPU only; device '{dev}' is not available")


def check(dev, op: str = TENSOR, *, default: bool = True) -> None:
    """Refuse a ``device=`` other than the CPU as torch's CPU build does.

    ``dev=None`` means the default device when ``default`` (factories) and the CPU otherwise
    (``*_like`` keep their input's device). ``op`` picks which of torch's errors an MPS
    device gets: TENSOR for copies of data (``tensor``, ``to``), FACTORY or LIKE for
    allocations.
    """
    if dev is None:
        if not default or _STATE.default is None:
            return
        dev = _STATE.default
    elif type(dev) is str and dev == "cpu":
        return
    dev = as_device(dev)
    if dev.type != "cpu":
        raise _error(dev, op)


class _State(threading.local):
    # class attributes: every thread starts on the CPU, as torch's default is thread-local
    default: "device | None" = None

    def __init__(self):
        self.stack = []


_STATE = _State()


def default_is_set() -> bool:
    """True when ``set_default_device`` or a ``with device(...)`` block is in force."""
    return _STATE.default is not None


def set_default_device(device) -> None:
    """Where factories (``zeros``, ``tensor``, ...) put tensors without ``device=``.

    Any of torch's device types is accepted here, as torch accepts it; a factory then refuses
    one that is not the CPU. ``None`` restores the CPU.
    """
    _STATE.default = None if device is None else as_device(device)


def get_default_device() -> device:
    """The default device; for an accelerator without an index, torch asks the accelerator
    for its current one, which fails on a CPU build."""
    dev = _STATE.default
    if dev is None:
        return device("cpu")
    if dev.index is None:
        check(dev)
    return dev

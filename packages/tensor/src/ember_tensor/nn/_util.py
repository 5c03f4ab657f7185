"""Small helpers shared by the nn kernels' Python wrappers (argument normalising, dtype words)."""
import operator
import threading

import numpy as np

from .._array import _BY_NP, Array
from .._kernels.fast_path import wrap as _new_array

FLOAT_TYPES = (np.float32, np.float64)

# torch's words for a dtype inside messages like "expected scalar type Float"
_SCALAR_NAMES = {
    np.dtype(np.float32): "Float", np.dtype(np.float64): "Double", np.dtype(np.float16): "Half",
    np.dtype(np.int64): "Long", np.dtype(np.int32): "Int", np.dtype(np.int16): "Short",
    np.dtype(np.int8): "Char", np.dtype(np.uint8): "Byte", np.dtype(np.bool_): "Bool",
}


def scalar_name(np_dtype):
    return _SCALAR_NAMES.get(np.dtype(np_dtype), str(np_dtype))


def nd(a):
    """The ndarray behind an Array (ndarrays pass through), or None."""
    if a is None:
        return None
    if isinstance(a, Array):
        return a._np
    if isinstance(a, np.ndarray):
        return a
    raise TypeError(f"expected an Array, got {type(a).__name__}")


def kernel_array(a, dtype=None):
    """``a`` as a C-contiguous ndarray the kernels can take. Their typed memoryviews are not
    const, so Cython refuses read-only buffers, and ``np.ascontiguousarray`` hands a
    read-only broadcast back unchanged when it is already contiguous (one element, as the
    gradient of ``out.sum()`` for a one-element ``out``): copy then, and only then."""
    out = np.ascontiguousarray(a, dtype=dtype)
    return out if out.flags.writeable else out.copy()


def wrap(a):
    if type(a) is np.ndarray and a.dtype in _BY_NP:
        # a kernel's result of a dtype Ember names: the Array without its __init__'s checks
        # (0.45 -> 0.16 us; ~60 a ResNet-18 step)
        return _new_array(a)
    # NumPy turns 0-d results into scalars; an Array needs the ndarray back
    return Array(a if isinstance(a, np.ndarray) else np.asarray(a))


def pair(v, name="value"):
    """``3`` -> ``(3, 3)``; ``(2, 3)``/``[2, 3]`` pass; a 1-sequence is repeated."""
    if isinstance(v, (tuple, list)):
        v = tuple(operator.index(x) for x in v)
        if len(v) == 1:
            return v * 2
        if len(v) != 2:
            raise RuntimeError(f"{name} must have 2 elements, but got {len(v)}")
        return v
    v = operator.index(v)
    return (v, v)


def check_float(a, op):
    if a.dtype not in FLOAT_TYPES:
        raise NotImplementedError(f'"{op}" not implemented for \'{scalar_name(a.dtype)}\'')


def size_str(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


class BufferPool(threading.local):
    """Scratch arrays reused across calls with repeating shapes (a training loop repeats
    every layer's shapes), so large im2col buffers are not re-faulted in on each call.
    Thread-local: two threads never share a scratch buffer."""

    def __init__(self, capacity=6):
        self.capacity = capacity
        self.buffers = {}

    def get(self, shape, dtype, tag=""):
        key = (tag, tuple(shape), np.dtype(dtype))
        buf = self.buffers.pop(key, None)
        if buf is None:
            buf = np.empty(shape, dtype)
            while len(self.buffers) >= self.capacity:
                self.buffers.pop(next(iter(self.buffers)))
        self.buffers[key] = buf  # most recently used last
        return buf

"""Creation functions: ``tensor``, ``zeros``, ``ones``, ``full``, ``empty``, ``arange``,
``linspace``, ``eye``, the ``*_like`` forms and ``from_numpy``."""
import builtins
import math

import numpy as np

from . import _dtype as D
from ._array import Array, _shape_arg


def _check_sizes(shape):
    for s in shape:
        if s < 0:
            raise RuntimeError(
                f"Trying to create tensor with negative dimension {s}: {list(shape)}"
            )
    return shape


_PLAIN_SCALARS = frozenset((builtins.bool, builtins.int, builtins.float))


def _flat_plain(data):
    """True for a list/tuple of Python bools/ints/floats only (the usual literal)."""
    return (type(data) is list or type(data) is tuple) and _PLAIN_SCALARS.issuperset(
        map(type, data))


def _infer_dtype(data):
    """torch.tensor's dtype inference: each element's own dtype, promoted over the whole nest.

    Python bools, ints and floats are bool, int64 and the default float; a NumPy scalar or
    array, or an Array, keeps its dtype (``tensor(np.float64(2.5))`` is float64, and so is
    ``tensor([np.float64(1), 2.0])``); an empty sequence is the default float.
    """
    if _flat_plain(data) and data:
        kinds = set(map(type, data))
        if builtins.float in kinds:
            return D.get_default_dtype()
        return D.int64 if builtins.int in kinds else D.bool
    python = {builtins.bool: D.bool, builtins.int: D.int64,
              builtins.float: D.get_default_dtype()}
    result = None
    stack = [data]
    while stack:
        x = stack.pop()
        d = python.get(type(x))
        if d is None:
            if isinstance(x, (list, tuple, range)):
                if len(x) == 0:
                    d = D.get_default_dtype()
                else:
                    stack.extend(x)
                    continue
            elif isinstance(x, (np.generic, np.ndarray)):  # before float: np.float64 is one
                d = D.from_numpy_dtype(x.dtype)
            elif isinstance(x, Array):
                d = x.dtype
            elif isinstance(x, (builtins.bool, builtins.int, builtins.float)):  # subclasses
                d = python[builtins.bool if isinstance(x, builtins.bool) else (
                    builtins.int if isinstance(x, builtins.int) else builtins.float)]
            elif isinstance(x, complex):
                raise TypeError("Ember has no complex dtypes")
            elif isinstance(x, str):
                raise TypeError(f"new(): invalid data type '{type(x).__name__}'")
            else:
                raise RuntimeError(f"Could not infer dtype of {type(x).__name__}")
        if d is not result:
            result = d if result is None else D.promote_types(result, d)
    return result


def _to_nested(data):
    if isinstance(data, Array):
        return data._np
    if isinstance(data, (list, tuple)):
        if _flat_plain(data):
            return data
        return [_to_nested(x) for x in data]
    return data


def tensor(data, dtype=None):
    """Copy ``data`` (nested sequences, scalars, ndarrays or Arrays) into a new Array."""
    dtype = D.as_dtype(dtype)
    if isinstance(data, Array):
        arr = data._np
        return Array(np.array(arr, dtype=(dtype or data.dtype).np, copy=True))
    if isinstance(data, np.ndarray):
        src = D.from_numpy_dtype(data.dtype)
        return Array(np.array(data, dtype=(dtype or src).np, copy=True))
    if dtype is None:
        dtype = _infer_dtype(data)
    try:
        arr = np.array(_to_nested(data), dtype=dtype.np)
    except ValueError as err:
        raise ValueError(f"expected sequence of equal-length lists: {err}") from None
    except OverflowError:
        raise RuntimeError(f"value cannot be converted to type {dtype.name} without overflow")
    if arr.dtype == object:
        raise TypeError("could not build a tensor from ragged or mixed data")
    # np.ascontiguousarray would turn a 0-d result into 1-d; np.array(order='C') keeps it
    return Array(arr if arr.flags.c_contiguous else np.array(arr, order='C'))


def from_numpy(ndarray):
    """Wrap ``ndarray`` without copying: writes through either are seen by both."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    return Array(ndarray)


def as_tensor(data, dtype=None):
    dtype = D.as_dtype(dtype)
    if isinstance(data, Array):
        return data if dtype in (None, data.dtype) else data.to(dtype)
    if isinstance(data, np.ndarray):
        arr = from_numpy(data)
        return arr if dtype in (None, arr.dtype) else arr.to(dtype)
    return tensor(data, dtype=dtype)


def _allocate(make, shape, np_dtype, *fill):
    """``make(shape, ...)``, with torch's RuntimeError (not NumPy's MemoryError) when the
    allocation fails."""
    try:
        return Array(make(shape, *fill, dtype=np_dtype))
    except MemoryError:
        nbytes = int(np.prod(shape, dtype=object)) * np.dtype(np_dtype).itemsize
        raise RuntimeError(
            "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate "
            f"memory: you tried to allocate {nbytes} bytes. Error code 12 (Cannot allocate "
            "memory)") from None


def _filled(shape, dtype, fill):
    shape = _check_sizes(_shape_arg(shape))
    dtype = D.as_dtype(dtype) or D.get_default_dtype()
    if fill is None:
        return _allocate(np.empty, shape, dtype.np)
    return _allocate(np.full, shape, dtype.np, fill)


def zeros(*size, dtype=None):
    shape = _check_sizes(_shape_arg(size))
    return _allocate(np.zeros, shape, (D.as_dtype(dtype) or D.get_default_dtype()).np)


def ones(*size, dtype=None):
    return _filled(size, dtype, 1)


def empty(*size, dtype=None):
    return _filled(size, dtype, None)


def full(size, fill_value, dtype=None):
    if dtype is None:
        if isinstance(fill_value, (builtins.bool, np.bool_)):
            dtype = D.bool
        elif isinstance(fill_value, (builtins.int, np.integer)):
            dtype = D.int64
    return _filled((size,) if isinstance(size, builtins.int) else (tuple(size),), dtype, fill_value)


def _like(a, dtype):
    return (a.shape,), (D.as_dtype(dtype) or a.dtype)


def zeros_like(a, dtype=None):
    shape, dt = _like(a, dtype)
    return zeros(*shape, dtype=dt)


def ones_like(a, dtype=None):
    shape, dt = _like(a, dtype)
    return ones(*shape, dtype=dt)


def empty_like(a, dtype=None):
    shape, dt = _like(a, dtype)
    return empty(*shape, dtype=dt)


def full_like(a, fill_value, dtype=None):
    return full(tuple(a.shape), fill_value, dtype=D.as_dtype(dtype) or a.dtype)


def arange(start, end=None, step=1, dtype=None):
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Array) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        dtype = D.get_default_dtype() if any(
            isinstance(v, (builtins.float, np.floating)) for v in vals) else D.int64
    dtype = D.as_dtype(dtype)
    n = builtins.max(0, math.ceil((end - start) / step))
    # computed in float64/int64 as torch does, then cast
    if dtype.is_floating_point:
        arr = start + np.arange(n, dtype=np.float64) * step
    else:
        arr = start + np.arange(n, dtype=np.int64) * step
    return Array(arr.astype(dtype.np))


def linspace(start, end, steps, dtype=None):
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = D.as_dtype(dtype) or D.get_default_dtype()
    return Array(np.linspace(start, end, steps, dtype=np.float64).astype(dtype.np))


def eye(n, m=None, dtype=None):
    if n < 0 or (m is not None and m < 0):
        raise RuntimeError(f"n must be greater or equal to 0, got {n if n < 0 else m}")
    dtype = D.as_dtype(dtype) or D.get_default_dtype()
    return Array(np.eye(n, m, dtype=dtype.np))

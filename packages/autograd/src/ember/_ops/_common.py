"""Helpers every elementwise op module shares: operand checks, ``out=`` and in-place writes.

Ops compute on Arrays with ``ember_tensor`` kernels, which never record anything, so no op
needs a ``no_grad`` block around its forward; only ``record`` decides about the graph.
"""
import numbers

import numpy as np

from ember_tensor import Array
from ember_tensor import _dtype as D
from ember_tensor import elementwise as E

from .._tensor import Tensor

SCALARS = (numbers.Number, np.number, np.bool_)


def is_t(x):
    return isinstance(x, Tensor)


def data(x):
    """What a kernel takes for an operand: a Tensor's Array, a Python/NumPy scalar as is."""
    return x._data if isinstance(x, Tensor) else x


def check_operand(x, name="other"):
    tx = type(x)
    if tx is Tensor or tx is float or tx is int:  # the usual operands, before the ABC check
        return x
    if isinstance(x, (Tensor,) + SCALARS):
        return x
    if isinstance(x, Array):
        return Tensor._make(x)
    raise TypeError(
        f"unsupported operand type: expected Tensor or Number for '{name}', "
        f"got {type(x).__name__}"
    )


def require_tensor(x, fn, name="input", pos=1):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be Tensor, not "
                        f"{type(x).__name__}")


def write(self, r):
    """Copy result ``r`` into tensor ``self`` (in-place ops and ``out=``), with torch's checks
    that the result's dtype and broadcast shape fit the destination."""
    dst = self._data
    src = r._data
    if src.dtype is not dst.dtype and D.promote_types(src.dtype, dst.dtype) is not dst.dtype:
        raise RuntimeError(
            f"result type {src.dtype.torch_name} can't be cast to the desired output type "
            f"{dst.dtype.torch_name}"
        )
    E.copy_(dst, src)


def out_(result, out):
    if out is None:
        return result
    write(out, result)
    out._version_counter[0] += 1
    return out


def ones_like(t):
    return Tensor._make(Array(np.ones(t._data._np.shape, dtype=t._data._np.dtype)))


def zeros_like(t):
    return Tensor._make(Array(np.zeros(t._data._np.shape, dtype=t._data._np.dtype)))

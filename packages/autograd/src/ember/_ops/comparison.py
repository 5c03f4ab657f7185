"""Comparisons, logical and bitwise ops and float classification. None of them has a
gradient: each returns a Tensor with no history around an ``ember_tensor`` result."""
import builtins

import numpy as np

from ember_tensor import Array
from ember_tensor import elementwise as E
from ember_tensor import reduction as R

from .._tensor import Tensor
from ._common import SCALARS, data, is_t, require_tensor


def _compare(kernel):
    def op(input, other):
        if not is_t(input):
            raise TypeError(f"expected Tensor as input, got {type(input).__name__}")
        if not (is_t(other) or isinstance(other, SCALARS)):
            if isinstance(other, (list, tuple)):
                other = Array(np.asarray(other))
            else:  # ``t == None`` and friends: let Python decide
                return NotImplemented
        return Tensor._make(kernel(input._data, data(other)))

    op.__name__ = op.__qualname__ = kernel.__name__
    return op


eq, ne, lt, le, gt, ge = (_compare(k) for k in (E.eq, E.ne, E.lt, E.le, E.gt, E.ge))


def _binary(kernel):
    def op(input, other):
        return Tensor._make(kernel(data(input), data(other)))

    op.__name__ = op.__qualname__ = kernel.__name__
    return op


logical_and, logical_or, logical_xor = (
    _binary(k) for k in (E.logical_and, E.logical_or, E.logical_xor))
bitwise_and, bitwise_or, bitwise_xor = (
    _binary(k) for k in (E.bitwise_and, E.bitwise_or, E.bitwise_xor))


def _unary(kernel):
    def op(input):
        require_tensor(input, kernel.__name__)
        return Tensor._make(kernel(input._data))

    op.__name__ = op.__qualname__ = kernel.__name__
    return op


logical_not, bitwise_not, isnan, isinf, isfinite = (
    _unary(k) for k in (E.logical_not, E.bitwise_not, E.isnan, E.isinf, E.isfinite))


def _isclose(a, b, rtol, atol, equal_nan):
    """|a - b| <= atol + rtol * |b|, or exactly equal (so equal infinities are close)."""
    close = E.logical_or(E.eq(a, b), E.le(E.abs(E.sub(a, b)), E.add(E.mul(E.abs(b), rtol), atol)))
    if equal_nan and a.dtype.is_floating_point:
        close = E.logical_or(close, E.logical_and(E.isnan(a), E.isnan(b)))
    return close


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> Tensor:
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{input.dtype.torch_name} did not match {other.dtype.torch_name}")
    return Tensor._make(_isclose(input._data, other._data, rtol, atol, equal_nan))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    close = isclose(input, other, rtol, atol, equal_nan)._data
    return builtins.bool(R.all(close).item())


def equal(input, other) -> bool:
    return E.equal(input._data, other._data)


# ---- operators: & | ^ pick logical or bitwise by dtype, as torch ----------------------------
def _and(self, other):
    return bitwise_and(self, other)


def _or(self, other):
    return bitwise_or(self, other)


def _xor(self, other):
    return bitwise_xor(self, other)


def _invert(self):
    return Tensor._make(E._invert(self._data))


FUNCTIONS = {
    "eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge, "greater": gt,
    "greater_equal": ge, "less": lt, "less_equal": le, "not_equal": ne,
    "logical_and": logical_and, "logical_or": logical_or, "logical_xor": logical_xor,
    "logical_not": logical_not, "bitwise_and": bitwise_and, "bitwise_or": bitwise_or,
    "bitwise_xor": bitwise_xor, "bitwise_not": bitwise_not, "isnan": isnan, "isinf": isinf,
    "isfinite": isfinite, "isclose": isclose, "allclose": allclose, "equal": equal,
}
TENSOR_METHODS = dict(FUNCTIONS)
TENSOR_METHODS.update({
    "__eq__": eq, "__ne__": ne, "__lt__": lt, "__le__": le, "__gt__": gt, "__ge__": ge,
    "__and__": _and, "__or__": _or, "__xor__": _xor, "__invert__": _invert,
    "__rand__": _and, "__ror__": _or, "__rxor__": _xor,
})

"""Differentiable binary arithmetic: add, sub, rsub, mul, div, remainder, fmod, pow.

Written by hand, unlike the table's whole ops (atan2, fmax: ``_ops/generated``): Python
scalar operands, ``alpha``, rounding modes and integer semantics pick among several nodes.

Forward values (dtype promotion, broadcasting, alpha scaling, errors) come from
``ember_tensor.elementwise``. The backward nodes of add, sub, mul, div and pow are the table's
``nodes`` formulas (``_kernels/elementwise_ops.py``), generated into ``_ops/generated``.
"""
import numpy as np

from ember_tensor import Array
from ember_tensor import _dtype as D
from ember_tensor import elementwise as E

from .._core.node import Node, record
from .generated import (AddBackward0, DivBackward0, DivBackward2, MulBackward0,  # noqa: F401
                        PowBackward0, PowBackward1, PowBackward2, RsubBackward1, SubBackward0)
from .unary import reciprocal
from ._common import Tensor, check_operand, data, is_t, out_


# ---- add / sub ------------------------------------------------------------------------------
def add(input, other, *, alpha=1, out=None) -> Tensor:
    other = check_operand(other)
    if not is_t(input):  # Number + Tensor
        if alpha != 1:
            raise TypeError("add(): alpha requires a Tensor input")
        input, other = other, input
    res = E.add(input._data, data(other), alpha)
    return out_(record(AddBackward0, res, (input, other), alpha=alpha), out)


def sub(input, other, *, alpha=1, out=None) -> Tensor:
    other = check_operand(other)
    if not isinstance(input, Tensor):
        return rsub(other, input, alpha=alpha)
    res = E.sub(input._data, other._data if isinstance(other, Tensor) else other, alpha)
    result = record(SubBackward0, res, (input, other), alpha=alpha)
    return result if out is None else out_(result, out)


def rsub(input, other, *, alpha=1) -> Tensor:
    """``other - alpha * input``."""
    if is_t(other):
        return sub(other, input, alpha=alpha)
    res = E.rsub(input._data, other, alpha)
    return record(RsubBackward1, res, (input,), alpha=alpha)


# ---- mul / div ------------------------------------------------------------------------------
def _save_pair(input, other):
    """What Mul/Div backward keep: ``input`` only if ``other`` needs a gradient."""
    if is_t(other):
        return (input if other._requires_grad else None, other), None
    return (None, None), other


def mul(input, other, *, out=None) -> Tensor:
    other = check_operand(other)
    if not isinstance(input, Tensor):
        input, other = other, input
    if isinstance(other, Tensor):
        res = E.mul(input._data, other._data)
        result = record(MulBackward0, res, (input, other),
                        save=(input if other._requires_grad else None, other), other=None)
    else:
        res = E.mul(input._data, other)
        result = record(MulBackward0, res, (input, other), save=_NO_SAVES, other=other)
    return result if out is None else out_(result, out)


_NO_SAVES = (None, None)


def div(input, other, *, rounding_mode=None, out=None) -> Tensor:
    other = check_operand(other)
    if not is_t(input):
        if rounding_mode is None:  # Number / Tensor is Number * reciprocal, as torch
            return mul(reciprocal(other), input)
        input = Tensor._make(_scalar_array(input))
    res = E.div(input._data, data(other), rounding_mode)
    if rounding_mode is not None:
        return out_(record(DivBackward2, res, (input, other)), out)
    save, scalar = _save_pair(input, other)
    return out_(record(DivBackward0, res, (input, other), save=save, other=scalar), out)


def _scalar_array(x):
    return Array(np.asarray(x, dtype=D.result_type(x).np))


true_divide = div


def floor_divide(input, other) -> Tensor:
    return div(input, other, rounding_mode="floor")


class RemainderBackward0(Node):  # Number divisor
    def backward(self, g):
        return (g,)


class RemainderBackward1(Node):  # Tensor divisor
    def backward(self, g):
        a, b = self.saved_tensors
        gb = -g * a.div(b, rounding_mode="floor") if self.needs_input_grad[1] else None
        return (g if self.needs_input_grad[0] else None, gb)


class FmodBackward0(RemainderBackward0):
    pass


class FmodBackward1(Node):
    def backward(self, g):
        a, b = self.saved_tensors
        gb = -g * a.div(b, rounding_mode="trunc") if self.needs_input_grad[1] else None
        return (g if self.needs_input_grad[0] else None, gb)


def _remainder_like(efn, nodes, input, other):
    other = check_operand(other)
    if not is_t(input):
        input = Tensor._make(_scalar_array(input))
    res = efn(input._data, data(other))
    if not is_t(other):
        return record(nodes[0], res, (input,))
    needs_other = other._requires_grad
    return record(nodes[1], res, (input, other),
                  save=(input if needs_other else None, other if needs_other else None))


def remainder(input, other) -> Tensor:
    return _remainder_like(E.remainder, (RemainderBackward0, RemainderBackward1), input, other)


def fmod(input, other) -> Tensor:
    return _remainder_like(E.fmod, (FmodBackward0, FmodBackward1), input, other)


# ---- pow ------------------------------------------------------------------------------------
def pow(input, exponent, *, out=None) -> Tensor:
    exponent = check_operand(exponent, "exponent")
    if not isinstance(input, Tensor):
        res = E.pow(input, exponent._data)
        return record(PowBackward2, res, (exponent,), save=(res,), base=input)
    if isinstance(exponent, Tensor):
        res = E.pow(input._data, exponent._data)
        return out_(record(PowBackward1, res, (input, exponent), save=(input, exponent, res)),
                    out)
    res = E.pow(input._data, exponent)
    result = record(PowBackward0, res, (input,), save=(input,), exponent=exponent)
    return result if out is None else out_(result, out)


def square(input) -> Tensor:
    return pow(input, 2)


FUNCTIONS = {
    "add": add, "sub": sub, "subtract": sub, "rsub": rsub, "mul": mul, "multiply": mul,
    "div": div, "divide": div, "true_divide": div, "floor_divide": floor_divide,
    "remainder": remainder, "fmod": fmod, "pow": pow, "square": square,
}
TENSOR_METHODS = {k: v for k, v in FUNCTIONS.items() if k != "rsub"}

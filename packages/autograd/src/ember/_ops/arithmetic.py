"""Differentiable binary arithmetic: add, sub, rsub, mul, div, remainder, fmod, pow.

Written by hand, unlike the table's whole ops (atan2, fmax: ``_ops/generated``): Python
scalar operands, ``alpha``, rounding modes and integer semantics pick among several nodes.

Forward values (dtype promotion, broadcasting, alpha scaling, errors) come from
``ember_tensor.elementwise``; each backward is written with Tensor ops so it can itself be
differentiated.
"""
import math

import numpy as np

from ember_tensor import Array
from ember_tensor import _dtype as D
from ember_tensor import elementwise as E

from .._grad_mode import _state as _grad_state
from .._core.node import Node, record
from .selection import where
from .unary import log, reciprocal
from ._common import Tensor, check_operand, data, is_t, ones_like, out_, zeros_like

# The backward formulas below are Tensor ops, so create_graph can differentiate them. With
# grad mode off (a plain backward) they run the very same kernels on the Arrays instead,
# which skips wrapping and recording the intermediates: same numbers, less overhead.


# ---- add / sub ------------------------------------------------------------------------------
class AddBackward0(Node):
    def backward(self, g):
        alpha = self.alpha
        return (g if self.needs_input_grad[0] else None,
                (g if alpha == 1 else g * alpha) if self.needs_input_grad[1] else None)


class SubBackward0(Node):
    def backward(self, g):
        alpha = self.alpha
        gb = None
        if self.needs_input_grad[1]:
            if _grad_state.grad_enabled:
                gb = -g if alpha == 1 else g * -alpha
            else:
                gb = Tensor._make(E.neg(g._data) if alpha == 1 else E.mul(g._data, -alpha))
        return (g if self.needs_input_grad[0] else None, gb)


class RsubBackward1(Node):
    def backward(self, g):
        return (-g if self.alpha == 1 else g * -self.alpha,)


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
class MulBackward0(Node):
    def backward(self, g):
        a, b = self.saved_tensors
        other = b if b is not None else self.other
        needs = self.needs_input_grad
        if _grad_state.grad_enabled:
            ga = g * other if needs[0] else None
            gb = g * a if needs[1] else None
            return ga, gb
        gd = g._data
        ga = Tensor._make(E.mul(gd, b._data if b is not None else other)) if needs[0] else None
        gb = Tensor._make(E.mul(gd, a._data)) if needs[1] else None
        return ga, gb


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


class DivBackward0(Node):
    def backward(self, g):
        a, b = self.saved_tensors
        other = b if b is not None else self.other
        ga = g / other if self.needs_input_grad[0] else None
        gb = -g * a / (other * other) if self.needs_input_grad[1] else None
        return ga, gb


class DivBackward2(Node):  # rounding_mode set: piecewise constant
    def backward(self, g):
        return (g * 0 if self.needs_input_grad[0] else None,
                g * 0 if self.needs_input_grad[1] else None)


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
class PowBackward0(Node):  # tensor ** scalar
    def backward(self, g):
        (a,) = self.saved_tensors
        e = self.exponent
        if not _grad_state.grad_enabled:
            gd = g._data
            if e == 0:
                return (Tensor._make(E.mul(gd, 0)),)
            if e == 2:
                return (Tensor._make(E.mul(gd, E.mul(a._data, 2))),)
            return (Tensor._make(E.mul(gd, E.mul(E.pow(a._data, e - 1), e))),)
        if e == 0:
            return (g * 0,)
        if e == 2:  # the common square: one product fewer, and no pow
            return (g * (a * 2),)
        return (g * (a ** (e - 1) * e),)


class PowBackward1(Node):  # tensor ** tensor
    def backward(self, g):
        a, b, out = self.saved_tensors
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = g * b * a ** (b - 1)
        if self.needs_input_grad[1]:
            safe = where(a == 0, ones_like(a), a)
            gb = g * out * log(safe)
            gb = where((a == 0) & (b >= 0), zeros_like(gb), gb)
        return ga, gb


class PowBackward2(Node):  # scalar ** tensor
    def backward(self, g):
        (out,) = self.saved_tensors
        return (g * out * math.log(self.base) if self.base > 0 else g * 0,)


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

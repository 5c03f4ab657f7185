"""Differentiable binary arithmetic: add, sub, rsub, mul, div, remainder, fmod, pow.

The forwards of add, sub, mul, div and pow are generated from the table's ``forms``
(``_generated_tensor_ops``, re-exported here); this module holds what is theirs alone, the
``record`` hook each calls (which node, and how a Number first is computed), the shared
operand check, and the hand-written rsub, floor_divide, remainder and fmod.

Forward values (dtype promotion, broadcasting, alpha scaling, errors) come from
``ember_tensor.arithmetic``. The backward nodes of add, sub, mul, div and pow are the table's
``nodes`` formulas (``_kernels/elementwise_ops.py``), generated into ``_ops/generated``.
"""
import numpy as np

from ember_tensor import Array
from ember_tensor import _dtype as D
from ember_tensor import elementwise as E

from .. import _generated_tensor_ops
from .._generated_tensor_ops import FORM_ALIASES, add, div, mul, pow, sub  # noqa: A004
from .._core.node import Node, record
from .generated import (AddBackward0, DivBackward0, DivBackward2, MulBackward0,  # noqa: F401
                        PowBackward0, PowBackward1, PowBackward2, RsubBackward0, RsubBackward1,
                        SubBackward0)
from .unary import reciprocal
from ._common import SCALARS, Tensor, check_operand, data, is_t
from .inplace import inplace
from .out_forms import with_out

_OPERANDS = (Tensor,) + SCALARS


# ---- the forwards' node choices ---------------------------------------------------------------
# ``add``, ``sub``, ``mul``, ``div`` and ``pow`` are generated from the table's ``forms``
# (``_generated_tensor_ops``): each first runs the common call, a Tensor and a Tensor (or a
# Python float/int) of one dtype with nothing to promote, straight on the kernel and records
# the declared node (the operators inline the same lines); out= goes through out_forms'
# rules; the operands are checked once (``_operands``) and two Numbers give a 0-d Tensor.
# Everything else comes to the op's hook below, which picks the node (a Number first, alpha,
# rounding modes) and records what ``ember_tensor``, which normalises and checks the
# arguments, computes.
def _operand(x, fn, name="other", pos=2):
    """A Tensor or a Number as is, an Array wrapped, else torch's refusal."""
    tx = type(x)
    if tx is Tensor or tx is float or tx is int or isinstance(x, _OPERANDS):
        return x
    if isinstance(x, Array):
        return Tensor._make(x)
    raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be Tensor, not "
                    f"{tx.__name__}")


def _operands(fn, input, other, name):
    """The generated forwards' operands: ``other`` (torch's ``name`` for it) checked first."""
    other = _operand(other, fn, name)
    return _operand(input, fn, "input", 1), other


def _add_recorded(input, other, alpha):
    if not is_t(input) and type(alpha) is int and alpha == 1:
        input, other = other, input  # Number + Tensor: alpha would scale the Tensor
    res = E.add(data(input), data(other), alpha)
    return record(AddBackward0, res, (input, other), alpha=alpha)


def _sub_recorded(input, other, alpha):
    if not is_t(input):
        return rsub(other, input, alpha=alpha)
    res = E.sub(input._data, data(other), alpha)
    return record(SubBackward0, res, (input, other), alpha=alpha)


def rsub(input, other, *, alpha=1) -> Tensor:
    """``other - alpha * input``."""
    if not is_t(input) or not isinstance(other, (Tensor,) + SCALARS):
        raise TypeError(
            f"rsub() received an invalid combination of arguments - got "
            f"({type(input).__name__}, {type(other).__name__}), but expected one of:\n"
            " * (Tensor input, Tensor other, *, Number alpha = 1)\n"
            " * (Tensor input, Number other, Number alpha = 1)\n")
    if isinstance(other, Tensor):
        res = E.sub(other._data, input._data, alpha)
        return record(RsubBackward0, res, (input, other), alpha=alpha)
    res = E.rsub(input._data, other, alpha)
    return record(RsubBackward1, res, (input,), alpha=alpha)


def _save_pair(input, other):
    """What Mul/Div backward keep: ``input`` only if ``other`` needs a gradient."""
    if is_t(other):
        return (input if other._requires_grad else None, other), None
    return (None, None), other


def _mul_recorded(input, other):
    if not is_t(input):
        input, other = other, input
    res = E.mul(input._data, data(other))
    save, scalar = _save_pair(input, other)
    return record(MulBackward0, res, (input, other), save=save, other=scalar)


def _div_recorded(input, other, rounding_mode):
    if not is_t(input):
        if rounding_mode is None:  # Number / Tensor is Number * reciprocal, as torch
            return mul(reciprocal(other), input)
        input = Tensor._make(_scalar_array(input))
    res = E.div(input._data, data(other), rounding_mode)
    if rounding_mode is not None:
        return record(DivBackward2, res, (input, other))
    save, scalar = _save_pair(input, other)
    return record(DivBackward0, res, (input, other), save=save, other=scalar)


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


def _pow_recorded(input, exponent):
    if not is_t(input):
        res = E.pow(input, exponent._data)
        return record(PowBackward2, res, (exponent,), save=(res,), base=input)
    if is_t(exponent):
        res = E.pow(input._data, exponent._data)
        return record(PowBackward1, res, (input, exponent), save=(input, exponent, res))
    res = E.pow(input._data, exponent)
    return record(PowBackward0, res, (input,), save=(input,), exponent=exponent)


def square(input) -> Tensor:
    return pow(input, 2)


FUNCTIONS = {
    "add": add, "sub": sub, "rsub": rsub, "mul": mul, "div": div, "floor_divide": floor_divide,
    "remainder": remainder, "fmod": fmod, "pow": pow, "square": square,
}
FUNCTIONS.update({alias: FUNCTIONS[name] for alias, name in FORM_ALIASES.items()})
TENSOR_METHODS = {k: v for k, v in FUNCTIONS.items() if k != "rsub"}

# ``ember.add(..., out=o)``: the forwards take out= themselves (their namespace entries are not
# wrapped, which would cost every call a frame) and hand it to out_forms' rules
_OUT = {}
for _fn in (add, sub, mul, div, pow):
    _fn.writes_out = True  # type: ignore[union-attr]
    _OUT[f"_{_fn.__name__}_out"] = with_out(_fn, _fn.__name__, False)

# the generated forwards' hooks, and the forwards the table's ``forms`` (in-place methods,
# operators) call
_generated_tensor_ops._bind_arithmetic(
    Tensor, (Tensor,) + SCALARS, {"add": add, "sub": sub, "mul": mul, "div": div,
                                  "floor_divide": floor_divide, "remainder": remainder,
                                  "pow": pow, "rsub": rsub}, inplace,
    (AddBackward0, SubBackward0, MulBackward0, DivBackward0, PowBackward0, PowBackward1),
    {"_operands": _operands, "_add_recorded": _add_recorded, "_sub_recorded": _sub_recorded,
     "_mul_recorded": _mul_recorded, "_div_recorded": _div_recorded,
     "_pow_recorded": _pow_recorded, **_OUT})

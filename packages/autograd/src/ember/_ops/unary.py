"""Differentiable unary ops written by hand: neg, abs, sign, relu, positive and the rounding ops.

The table's float math (exp, log*, sqrt, rsqrt, sin, cos, tanh, sigmoid, reciprocal, erf, ...)
is generated from its rows in ``ember_tensor/_kernels/elementwise_ops.py`` by
``tools/generate_ops.py`` (``ember._generated_tensor_ops``, nodes in ``_ops/generated``) and
re-exported here. These ones keep code of their own: integer and bool semantics (neg, abs,
sign, rounding), a fused backward kernel (relu) or torch's ``decimals`` (round).
"""
from ember_tensor import elementwise as E
from ember_tensor.activation import threshold_backward

from .._grad_mode import _state as _grad_state
from .._core.node import Node, record
from .._tensor import Tensor
from .._generated_tensor_ops import (  # noqa: F401 - re-exported
    acos, acosh, asin, asinh, atan, atanh, cos, cosh, erf, erfc, exp, exp2, expm1, log, log1p,
    log2, log10, reciprocal, rsqrt, sigmoid, sin, sinc, sinh, sqrt, tan, tanh,
)
from . import generated  # noqa: F401 - binds the generated Tensor methods to their nodes
from ._common import require_tensor


class NegBackward0(Node):
    def backward(self, g):
        return (-g,)


class AbsBackward0(Node):
    def backward(self, g):
        (x,) = self.saved_tensors
        return (g * sign(x),)


class ReluBackward0(Node):
    def backward(self, g):
        (out,) = self.saved_tensors
        if not _grad_state.grad_enabled:
            # torch's threshold_backward in one pass: selects (a NaN output passes its
            # gradient, and a NaN gradient stops at a dead unit), no mask temporaries
            return (Tensor._make(threshold_backward(g._data, out._data, 0.0)),)
        # differentiable form for create_graph; zeroes where out <= 0, as above
        return (g * (out <= 0).logical_not(),)


def _zero_grad_node(name):
    """Piecewise-constant ops (sign, floor, ...): the gradient is zero everywhere."""
    return type(name, (Node,), {"backward": lambda self, g: (g * 0,)})


SignBackward0 = _zero_grad_node("SignBackward0")
FloorBackward0 = _zero_grad_node("FloorBackward0")
CeilBackward0 = _zero_grad_node("CeilBackward0")
RoundBackward0 = _zero_grad_node("RoundBackward0")
RoundBackward1 = _zero_grad_node("RoundBackward1")
TruncBackward0 = _zero_grad_node("TruncBackward0")

_SAVE_NONE, _SAVE_INPUT, _SAVE_OUTPUT = 0, 1, 2


def _op(name, kernel, node_cls, save):
    def op(input):
        if not isinstance(input, Tensor):  # the check inline: no frame for the usual call
            require_tensor(input, name)
        res = kernel(input._data)
        if save == _SAVE_INPUT:
            return record(node_cls, res, (input,), save=(input,))
        if save == _SAVE_OUTPUT:
            return record(node_cls, res, (input,), save=(res,))
        return record(node_cls, res, (input,))

    op.__name__ = op.__qualname__ = name
    return op


neg = _op("neg", E.neg, NegBackward0, _SAVE_NONE)
abs = _op("abs", E.abs, AbsBackward0, _SAVE_INPUT)  # noqa: A001 - torch's name
sign = _op("sign", E.sign, SignBackward0, _SAVE_NONE)
relu = _op("relu", E.relu, ReluBackward0, _SAVE_OUTPUT)
floor = _op("floor", E.floor, FloorBackward0, _SAVE_NONE)
ceil = _op("ceil", E.ceil, CeilBackward0, _SAVE_NONE)
trunc = _op("trunc", E.trunc, TruncBackward0, _SAVE_NONE)
_round0 = _op("round", E.round, RoundBackward0, _SAVE_NONE)


def round(input, *, decimals=0):  # noqa: A001 - torch's name
    if decimals == 0:
        return _round0(input)
    require_tensor(input, "round")
    return record(RoundBackward1, E.round(input._data, decimals), (input,))


def positive(input) -> Tensor:
    require_tensor(input, "positive")
    E.positive(input._data)  # refuses bool as torch does
    return input


FUNCTIONS = {
    "neg": neg, "negative": neg, "abs": abs, "absolute": abs, "sign": sign, "relu": relu,
    "floor": floor, "ceil": ceil, "round": round, "trunc": trunc, "positive": positive,
}
TENSOR_METHODS = dict(FUNCTIONS)

"""Differentiable unary math and activations: neg, exp, log*, sqrt, rsqrt, abs, sign, sin,
cos, tanh, sigmoid, relu, reciprocal, erf and the rounding ops.

Forward values come from ``ember_tensor.elementwise`` (integer inputs of float-only math give
the default float dtype there, as in torch); the backward formulas are Tensor ops.
"""
import math

from ember_tensor import elementwise as E
from ember_tensor.activation import threshold_backward

from ..autograd.grad_mode import _state as _grad_state
from ..autograd.node import Node, record
from .._tensor import Tensor
from ._common import require_tensor


class NegBackward0(Node):
    def backward(self, g):
        return (-g,)


class ExpBackward0(Node):
    def backward(self, g):
        (out,) = self.saved_tensors
        return (g * out,)


class LogBackward0(Node):
    def backward(self, g):
        (x,) = self.saved_tensors
        return (g / x,)


class Log2Backward0(Node):
    def backward(self, g):
        (x,) = self.saved_tensors
        return (g / (x * math.log(2.0)),)


class Log10Backward0(Node):
    def backward(self, g):
        (x,) = self.saved_tensors
        return (g / (x * math.log(10.0)),)


class Log1PBackward0(Node):
    def backward(self, g):
        (x,) = self.saved_tensors
        return (g / (x + 1),)


class Expm1Backward0(Node):
    def backward(self, g):
        (out,) = self.saved_tensors
        return (g * (out + 1),)


class SqrtBackward0(Node):
    def backward(self, g):
        (out,) = self.saved_tensors
        return (g / (2 * out),)


class RsqrtBackward0(Node):
    def backward(self, g):
        (out,) = self.saved_tensors
        return (g * -0.5 * out ** 3,)


class AbsBackward0(Node):
    def backward(self, g):
        (x,) = self.saved_tensors
        return (g * sign(x),)


class SinBackward0(Node):
    def backward(self, g):
        (x,) = self.saved_tensors
        return (g * cos(x),)


class CosBackward0(Node):
    def backward(self, g):
        (x,) = self.saved_tensors
        return (g * -sin(x),)


class TanhBackward0(Node):
    def backward(self, g):
        (out,) = self.saved_tensors
        return (g * (1 - out * out),)


class SigmoidBackward0(Node):
    def backward(self, g):
        (out,) = self.saved_tensors
        return (g * out * (1 - out),)


class ReluBackward0(Node):
    def backward(self, g):
        (out,) = self.saved_tensors
        if not _grad_state.grad_enabled:
            # torch's threshold_backward in one pass: selects (a NaN output passes its
            # gradient, and a NaN gradient stops at a dead unit), no mask temporaries
            return (Tensor._make(threshold_backward(g._data, out._data, 0.0)),)
        # differentiable form for create_graph; zeroes where out <= 0, as above
        return (g * (out <= 0).logical_not(),)


class ReciprocalBackward0(Node):
    def backward(self, g):
        (out,) = self.saved_tensors
        return (-g * out * out,)


class ErfBackward0(Node):
    def backward(self, g):
        (x,) = self.saved_tensors
        return (g * (2.0 / math.sqrt(math.pi)) * exp(-(x * x)),)


def _formula_node(name, formula):
    """A one-input node whose gradient is ``formula(g, saved)``: the op's saved input or
    output, as its ``_op`` line says."""
    return type(name, (Node,), {"backward": lambda self, g: (formula(g, *self.saved_tensors),)})


TanBackward0 = _formula_node("TanBackward0", lambda g, y: g * (1 + y * y))
AsinBackward0 = _formula_node("AsinBackward0", lambda g, x: g * (1 - x * x).rsqrt())
AcosBackward0 = _formula_node("AcosBackward0", lambda g, x: -g * (1 - x * x).rsqrt())
AtanBackward0 = _formula_node("AtanBackward0", lambda g, x: g / (x * x + 1))
SinhBackward0 = _formula_node("SinhBackward0", lambda g, x: g * cosh(x))
CoshBackward0 = _formula_node("CoshBackward0", lambda g, x: g * sinh(x))
AsinhBackward0 = _formula_node("AsinhBackward0", lambda g, x: g * (x * x + 1).rsqrt())
AcoshBackward0 = _formula_node("AcoshBackward0", lambda g, x: g * (x * x - 1).rsqrt())
AtanhBackward0 = _formula_node("AtanhBackward0", lambda g, x: g / (1 - x * x))
Exp2Backward0 = _formula_node("Exp2Backward0", lambda g, y: g * y * math.log(2.0))
ErfcBackward0 = _formula_node(
    "ErfcBackward0", lambda g, x: g * (-2.0 / math.sqrt(math.pi)) * exp(-(x * x)))


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
exp = _op("exp", E.exp, ExpBackward0, _SAVE_OUTPUT)
log = _op("log", E.log, LogBackward0, _SAVE_INPUT)
log2 = _op("log2", E.log2, Log2Backward0, _SAVE_INPUT)
log10 = _op("log10", E.log10, Log10Backward0, _SAVE_INPUT)
log1p = _op("log1p", E.log1p, Log1PBackward0, _SAVE_INPUT)
expm1 = _op("expm1", E.expm1, Expm1Backward0, _SAVE_OUTPUT)
sqrt = _op("sqrt", E.sqrt, SqrtBackward0, _SAVE_OUTPUT)
rsqrt = _op("rsqrt", E.rsqrt, RsqrtBackward0, _SAVE_OUTPUT)
abs = _op("abs", E.abs, AbsBackward0, _SAVE_INPUT)  # noqa: A001 - torch's name
sign = _op("sign", E.sign, SignBackward0, _SAVE_NONE)
sin = _op("sin", E.sin, SinBackward0, _SAVE_INPUT)
cos = _op("cos", E.cos, CosBackward0, _SAVE_INPUT)
tanh = _op("tanh", E.tanh, TanhBackward0, _SAVE_OUTPUT)
sigmoid = _op("sigmoid", E.sigmoid, SigmoidBackward0, _SAVE_OUTPUT)
relu = _op("relu", E.relu, ReluBackward0, _SAVE_OUTPUT)
reciprocal = _op("reciprocal", E.reciprocal, ReciprocalBackward0, _SAVE_OUTPUT)
erf = _op("erf", E.erf, ErfBackward0, _SAVE_INPUT)
tan = _op("tan", E.tan, TanBackward0, _SAVE_OUTPUT)
asin = _op("asin", E.asin, AsinBackward0, _SAVE_INPUT)
acos = _op("acos", E.acos, AcosBackward0, _SAVE_INPUT)
atan = _op("atan", E.atan, AtanBackward0, _SAVE_INPUT)
sinh = _op("sinh", E.sinh, SinhBackward0, _SAVE_INPUT)
cosh = _op("cosh", E.cosh, CoshBackward0, _SAVE_INPUT)
asinh = _op("asinh", E.asinh, AsinhBackward0, _SAVE_INPUT)
acosh = _op("acosh", E.acosh, AcoshBackward0, _SAVE_INPUT)
atanh = _op("atanh", E.atanh, AtanhBackward0, _SAVE_INPUT)
exp2 = _op("exp2", E.exp2, Exp2Backward0, _SAVE_OUTPUT)
erfc = _op("erfc", E.erfc, ErfcBackward0, _SAVE_INPUT)
floor = _op("floor", E.floor, FloorBackward0, _SAVE_NONE)
ceil = _op("ceil", E.ceil, CeilBackward0, _SAVE_NONE)
trunc = _op("trunc", E.trunc, TruncBackward0, _SAVE_NONE)
_round0 = _op("round", E.round, RoundBackward0, _SAVE_NONE)


def round(input, *, decimals=0):  # noqa: A001 - torch's name
    if decimals == 0:
        return _round0(input)
    require_tensor(input, "round")
    return record(RoundBackward1, E.round(input._data, decimals), (input,))


def positive(input):
    require_tensor(input, "positive")
    E.positive(input._data)  # refuses bool as torch does
    return input


FUNCTIONS = {
    "neg": neg, "negative": neg, "exp": exp, "log": log, "log2": log2, "log10": log10,
    "log1p": log1p, "expm1": expm1, "sqrt": sqrt, "rsqrt": rsqrt, "abs": abs, "absolute": abs,
    "sign": sign, "sin": sin, "cos": cos, "tanh": tanh, "sigmoid": sigmoid, "relu": relu,
    "reciprocal": reciprocal, "erf": erf, "floor": floor, "ceil": ceil, "round": round,
    "trunc": trunc, "positive": positive, "tan": tan, "asin": asin, "arcsin": asin,
    "acos": acos, "arccos": acos, "atan": atan, "arctan": atan, "sinh": sinh, "cosh": cosh,
    "asinh": asinh, "arcsinh": asinh, "acosh": acosh, "arccosh": acosh, "atanh": atanh,
    "arctanh": atanh, "exp2": exp2, "erfc": erfc,
}
TENSOR_METHODS = dict(FUNCTIONS)

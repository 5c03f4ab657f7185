"""The elementwise op family gathered in one namespace: arithmetic, unary math, selection
(clamp/maximum/minimum/where), comparisons, their in-place forms and Python's operators.

The ops live in ``arithmetic``, ``unary``, ``selection``, ``comparison`` and ``inplace``; this
module re-exports them under their public names and builds the method/operator tables.
"""
from . import arithmetic, comparison, generated, inplace as _inplace_mod, selection, ternary
from . import unary
from ._common import SCALARS as _SCALARS
from ._common import Tensor as _Tensor
from ._common import is_t as _is_t
from .arithmetic import (add, div, floor_divide, mul, pow, remainder,  # noqa: F401
                         rsub, square, sub)
from .comparison import (allclose, bitwise_and, bitwise_not, bitwise_or,  # noqa: F401
                         bitwise_xor, eq, equal, ge, gt, isclose, isfinite, isinf, isnan, le,
                         logical_and, logical_not, logical_or, logical_xor, lt, ne)
from .inplace import CopyBackwards, copy_, fill_, zero_  # noqa: F401
from .inplace import inplace as _inplace
from .selection import clamp, clamp_max, clamp_min, clip, maximum, minimum, where  # noqa: F401
from .ternary import addcdiv, addcmul, lerp  # noqa: F401
from .unary import (abs, ceil, floor, neg, positive, reciprocal, relu,  # noqa: F401
                    round, sign, trunc)
from .._generated_tensor_ops import GeneratedTensorMethods as _Generated
from .._generated_tensor_ops import atanh

true_divide = div

# the node classes keep this module as an address too (nn.py imports MulBackward0 from here)
for _module in (arithmetic, unary, generated, selection, comparison, ternary, _inplace_mod):
    for _key, _value in vars(_module).items():
        if _key.endswith(("Backward0", "Backward1", "Backward2", "Backwards")):
            globals()[_key] = _value


# ---- Python's operators -----------------------------------------------------------------------
def _fwd(fn):
    def op(self, other):
        tx = type(other)  # exact types first: isinstance against numbers.Number is slow (ABC)
        if tx is _Tensor or tx is float or tx is int or _is_t(other) or isinstance(other,
                                                                                   _SCALARS):
            return fn(self, other)
        return NotImplemented
    return op


def _reflect(fn):
    def op(self, other):
        tx = type(other)
        if tx is _Tensor or tx is float or tx is int or _is_t(other) or isinstance(other,
                                                                                   _SCALARS):
            return fn(other, self)
        return NotImplemented
    return op


def _rtruediv(self, other):
    return mul(reciprocal(self), other)


def _rpow(self, other):
    return pow(other, self)


def _rsub(self, other):
    return rsub(self, other)


# the table's whole ops (exp_, log_, atan2_, ...) are generated (ember._generated_tensor_ops)
_INPLACE = {
    "add": add, "sub": sub, "mul": mul, "div": div, "pow": pow, "neg": neg, "abs": abs,
    "sign": sign, "relu": relu, "clamp": clamp, "clamp_min": clamp_min, "clamp_max": clamp_max,
    "floor": floor, "ceil": ceil, "round": round, "trunc": trunc, "square": square,
    "clip": clamp, "remainder": remainder, "floor_divide": floor_divide, "true_divide": div,
    "logical_not": logical_not, "lerp": lerp, "addcmul": addcmul, "addcdiv": addcdiv,
    "atanh": atanh, "arctanh": atanh,  # torch records atanh_ but refuses its backward (below)
}

TENSOR_METHODS = {}
for _module in (arithmetic, unary, selection, comparison, ternary, _inplace_mod):
    TENSOR_METHODS.update(_module.TENSOR_METHODS)
TENSOR_METHODS.update({
    "__add__": _fwd(add), "__radd__": _reflect(add), "__sub__": _fwd(sub),
    "__rsub__": _rsub, "__mul__": _fwd(mul), "__rmul__": _reflect(mul),
    "__truediv__": _fwd(div), "__rtruediv__": _rtruediv, "__floordiv__": _fwd(floor_divide),
    "__rfloordiv__": _reflect(floor_divide), "__mod__": _fwd(remainder),
    "__pow__": _fwd(pow), "__rpow__": _rpow, "__neg__": neg, "__pos__": positive,
    "__abs__": abs,
})
for _name, _fn in _INPLACE.items():
    TENSOR_METHODS[_name + "_"] = _inplace(_fn, _name)
_atanh_inplace = TENSOR_METHODS["atanh_"]


class AtanhBackward1(generated.AtanhBackward0):
    """torch records in-place atanh but has no derivative for it: backward refuses."""

    def backward(self, g):
        raise NotImplementedError("the derivative for 'inplace version of atanh' is not "
                                  "implemented.")


def _atanh_(self):
    out = _atanh_inplace(self)
    if type(out.grad_fn) is generated.AtanhBackward0:
        out.grad_fn.__class__ = AtanhBackward1
    return out


TENSOR_METHODS["atanh_"] = TENSOR_METHODS["arctanh_"] = _atanh_
for _name, _base in (("add", "add"), ("sub", "sub"), ("mul", "mul"), ("truediv", "div"),
                     ("pow", "pow"), ("floordiv", "floor_divide"), ("mod", "remainder")):
    TENSOR_METHODS[f"__i{_name}__"] = TENSOR_METHODS[_base + "_"]

FUNCTIONS = {}
for _module in (arithmetic, unary, selection, comparison, ternary):
    FUNCTIONS.update(_module.FUNCTIONS)
FUNCTIONS.update(relu_=TENSOR_METHODS["relu_"], sigmoid_=_Generated.sigmoid_)
# module-level names for the namespace's imports (tools/generate_ops.py writes them)
relu_ = FUNCTIONS["relu_"]
sigmoid_ = FUNCTIONS["sigmoid_"]

"""The elementwise op family gathered in one namespace: arithmetic, unary math, selection
(clamp/maximum/minimum/where), comparisons, their in-place forms and Python's operators.

The ops live in ``arithmetic``, ``unary``, ``selection``, ``comparison`` and ``inplace``; this
module re-exports them under their public names and builds the method/operator tables.
"""
from . import arithmetic, comparison, generated, inplace as _inplace_mod, selection, ternary
from . import unary
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


# the table's whole ops (exp_, log_, atan2_, ...) are generated (ember._generated_tensor_ops)
# the arithmetic ones (add_, div_, ...) and Python's operators are generated from the table's
# ``forms`` with their operators: Tensor inherits them from ember._generated_tensor_ops
_INPLACE = {
    "neg": neg, "abs": abs,
    "sign": sign, "relu": relu, "clamp": clamp, "clamp_min": clamp_min, "clamp_max": clamp_max,
    "floor": floor, "ceil": ceil, "round": round, "trunc": trunc, "square": square,
    "clip": clamp, "logical_not": logical_not, "lerp": lerp, "addcmul": addcmul, "addcdiv": addcdiv,
    "atanh": atanh, "arctanh": atanh,  # torch records atanh_ but refuses its backward (below)
}

TENSOR_METHODS = {}
for _module in (arithmetic, unary, selection, comparison, ternary, _inplace_mod):
    TENSOR_METHODS.update(_module.TENSOR_METHODS)
TENSOR_METHODS.update({"__neg__": neg, "__pos__": positive, "__abs__": abs})
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

FUNCTIONS = {}
for _module in (arithmetic, unary, selection, comparison, ternary):
    FUNCTIONS.update(_module.FUNCTIONS)
FUNCTIONS.update(relu_=TENSOR_METHODS["relu_"], sigmoid_=_Generated.sigmoid_)
# module-level names for the namespace's imports (tools/generate_ops.py writes them)
relu_ = FUNCTIONS["relu_"]
sigmoid_ = FUNCTIONS["sigmoid_"]

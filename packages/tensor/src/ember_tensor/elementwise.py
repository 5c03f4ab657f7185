"""Elementwise ops with torch's semantics, gathered in one namespace.

The ops live in one module per concept: ``arithmetic``, ``comparison`` (with logic and bitwise),
``unary_math``, ``activation`` (with fused backwards), ``selection`` (``clamp``, ``where``),
``inplace``, and ``_elementwise_core`` (operands, broadcasting, ``out=``, kernel dispatch,
``copy_``/``fill_``). This module re-exports them all, adds the dtype conversions, and builds
``ARRAY_METHODS``, the operators and methods ``_array_methods.install`` attaches to ``Array``.
The table's whole ops (``_kernels/elementwise_ops.py`` rows with ``grad``) are not among them:
``Array`` inherits them from ``_generated_array_ops``.
"""
from . import _dtype as D
from ._array import Array
from ._elementwise_core import (  # noqa: F401 - re-exported
    _assign_inplace, _binary, broadcast_shapes, can_cast, _cast, _check_operand,
    _check_writable_once, copy_, _copy_into, fill_, _is_scalar, _prepare_out, _run, _scalar_np,
    _SCALARS, _shape, _unary, _wrap, zero_,
)
from .arithmetic import (  # noqa: F401 - re-exported
    add, div, divide, float_power, floor_divide, fmod, maximum, minimum, mul, multiply, pow,
    remainder, rsub, sub, subtract, true_divide,
)
from .comparison import (  # noqa: F401 - re-exported
    _bitwise, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, eq, equal, ge, greater,
    greater_equal, gt, _invert, le, less, less_equal, logical_and, logical_not, logical_or,
    logical_xor, lt, ne, not_equal,
)
from .unary_math import (  # noqa: F401 - re-exported
    abs, absolute, ceil, fix, floor, isfinite, isinf, isnan, nan_to_num, neg, negative, positive,
    round, sign, square, trunc,
)
# the table's whole ops (exp, log, ..., atan2) with their in-place forms; Array inherits them
from ._generated_array_ops import *  # noqa: F401,F403 - re-exported
from .ternary import addcdiv, addcmul, lerp  # noqa: F401 - re-exported
from .activation import (  # noqa: F401 - re-exported
    gelu, gelu_backward, hardsigmoid, hardsigmoid_backward, hardswish, hardswish_backward,
    hardtanh_backward, leaky_relu, leaky_relu_backward, relu, sigmoid_backward, silu,
    silu_backward, tanh_backward, threshold_backward,
)
from .selection import (  # noqa: F401 - re-exported
    clamp, clamp_max, clamp_min, clip, full_like_nan, where,
)
from .inplace import (  # noqa: F401 - re-exported
    abs_, _bitwise_inplace, ceil_, clamp_, floor_, neg_, relu_, round_, trunc_,
)


# ---- conversions -------------------------------------------------------------------------------
def _converter(dtype):
    def op(a):
        return _cast(a, dtype)

    op.__name__ = op.__qualname__ = dtype.name
    return op


def type_as(a, other):
    return _cast(a, other.dtype)


# ---- Array methods and operators ---------------------------------------------------------------
def _number_or_array(x):
    return isinstance(x, (Array,) + _SCALARS)


def _operator(fn, reflected=False):
    def op(self, other):
        if not _number_or_array(other):
            return NotImplemented
        return fn(other, self) if reflected else fn(self, other)

    return op


def _ioperator(fn):
    def op(self, other):
        if not _number_or_array(other):
            return NotImplemented
        fn(self, other)
        return self

    return op


ARRAY_METHODS = {
    # the arithmetic operators and in-place forms (__add__, add_, ...) are generated from the
    # table's ``forms``: Array inherits them from _generated_array_ops
    "__hash__": object.__hash__,
    "__neg__": neg, "__pos__": positive, "__abs__": abs, "__invert__": _invert,
    "__eq__": _operator(eq), "__ne__": _operator(ne), "__lt__": _operator(lt),
    "__le__": _operator(le), "__gt__": _operator(gt), "__ge__": _operator(ge),
    "__and__": _operator(bitwise_and), "__rand__": _operator(bitwise_and, True),
    "__iand__": _ioperator(_bitwise_inplace("bitwise_and")),
    "__or__": _operator(bitwise_or), "__ror__": _operator(bitwise_or, True),
    "__ior__": _ioperator(_bitwise_inplace("bitwise_or")),
    "__xor__": _operator(bitwise_xor), "__rxor__": _operator(bitwise_xor, True),
    "__ixor__": _ioperator(_bitwise_inplace("bitwise_xor")),
    "float": _converter(D.float32), "double": _converter(D.float64),
    "half": _converter(D.float16), "long": _converter(D.int64), "int": _converter(D.int32),
    "short": _converter(D.int16), "char": _converter(D.int8), "byte": _converter(D.uint8),
    "bool": _converter(D.bool), "type_as": type_as,
}
for _name in (
    "add sub subtract rsub mul multiply div divide true_divide floor_divide remainder fmod pow "
    "float_power maximum minimum eq ne lt le gt ge greater greater_equal less less_equal "
    "not_equal equal logical_and logical_or logical_xor logical_not bitwise_and bitwise_or "
    "bitwise_xor bitwise_not neg negative positive abs absolute sign square floor ceil round "
    "trunc fix relu lerp addcmul addcdiv clamp clamp_min clamp_max clip isnan isinf isfinite "
    "nan_to_num clamp_ relu_ neg_ abs_ "
    "floor_ ceil_ round_ trunc_ copy_ fill_ zero_"
).split():
    ARRAY_METHODS[_name] = globals()[_name]
ARRAY_METHODS["where"] = lambda self, cond, other: where(cond, self, other)
del _name

"""One-operand math: rounding, sign-aware ops, float classification (isnan/isinf/isfinite,
nan_to_num), and the table's float functions (integer inputs give the default float dtype, as
torch), which ``tools/generate_ops.py`` writes from ``_kernels/elementwise_ops.py``."""
import builtins

import numpy as np

from . import _dtype as D
from . import _generated_array_ops
from ._array import Array
from ._elementwise_core import (
    _assign_inplace, _binary, _cast, _check_operand, _FAST_UNARY, _launch, _unary, _wrap,
)
from ._generated_array_ops import *  # noqa: F401,F403 - the table's float math (exp, log, ...)
from .arithmetic import _true_div_dtype, div, mul


def _float_dtype(a):
    return a.dtype if a.dtype.is_floating_point else D.get_default_dtype()


# The table's whole ops (tools/generate_ops.py writes them into the class Array inherits)
# dispatch to what stands above Array: bind it once, here, where it is all imported.
_generated_array_ops._bind(
    Array=Array, _FAST_UNARY=_FAST_UNARY, _launch=_launch, _wrap=_wrap, _unary=_unary,
    _binary=_binary, _assign_inplace=_assign_inplace, _check_operand=_check_operand,
    _float_dtype=_float_dtype, _float_pair_dtype=_true_div_dtype, _common_dtype=D.result_type,
)


def _rounding(name):
    def op(a, out=None):
        if a.dtype is D.bool:
            raise NotImplementedError(f"\"{name}_vml_cpu\" not implemented for 'Bool'")
        if not a.dtype.is_floating_point:  # integers are already whole: torch copies
            return _unary("copy", a, out=out)
        return _unary(name, a, out=out)

    op.__name__ = op.__qualname__ = name
    return op


floor, ceil, trunc = _rounding("floor"), _rounding("ceil"), _rounding("trunc")
_round0 = _rounding("round")
fix = trunc


def round(a, decimals=0, out=None):  # noqa: A001 - torch's name
    """Round half to even, as torch; ``decimals`` scales by 10**decimals around the rounding."""
    if decimals == 0 or not a.dtype.is_floating_point:
        return _round0(a, out=out)
    scale = 10.0 ** decimals
    return div(_round0(mul(a, scale)), scale, out=out)


def neg(a, out=None, *, _inplace=False):
    if a.dtype is D.bool:
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
            "to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    return _unary("neg", a, out=out, inplace=_inplace)


negative = neg


def positive(a):
    if a.dtype is D.bool:
        raise RuntimeError(
            "The `+` operator, on a bool tensor is not supported."
        )
    return a


def abs(a, out=None):  # noqa: A001 - torch's name
    if a.dtype is D.bool:
        raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
    return _unary("abs", a, out=out)


absolute = abs


def sign(a, out=None):
    return _unary("sign", a, out=out)


def square(a, out=None):
    if a.dtype is D.bool:  # torch: pow(bool, 2) on int64
        return _unary("square", _cast(a, D.int64), out=out)
    return _unary("square", a, out=out)


def _classify(name, integer_answer):
    def op(a):
        if not a.dtype.is_floating_point:
            return Array(np.full(a._np.shape, integer_answer, dtype=np.bool_))
        return _unary(name, a, out_dtype=D.bool)

    op.__name__ = op.__qualname__ = name
    return op


isnan, isinf, isfinite = _classify("isnan", False), _classify("isinf", False), \
    _classify("isfinite", True)


def nan_to_num(a, nan=0.0, posinf=None, neginf=None, out=None):
    if not a.dtype.is_floating_point:
        return _unary("copy", a, out=out)
    info = np.finfo(a.dtype.np)
    params = (
        builtins.float(nan) if nan is not None else 0.0,
        builtins.float(posinf) if posinf is not None else builtins.float(info.max),
        builtins.float(neginf) if neginf is not None else builtins.float(info.min),
    )
    return _unary("nan_to_num", a, out=out, params=params)

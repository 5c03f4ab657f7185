"""One-operand math: float functions (integer inputs give the default float dtype, as torch),
rounding, sign-aware ops, and float classification (isnan/isinf/isfinite, nan_to_num)."""
import builtins

import numpy as np

from . import _dtype as D
from ._array import Array
from ._elementwise_core import _cast, _FAST_UNARY, _launch, _unary, _wrap
from .arithmetic import div, mul


def _float_dtype(a):
    return a.dtype if a.dtype.is_floating_point else D.get_default_dtype()


def _math(name):
    def op(a, out=None):
        if out is None and type(a) is Array:
            entry = _FAST_UNARY.get((name, a._np.dtype))  # float inputs only
            if entry is not None:
                res = np.empty(a._np.shape, entry[1][0])
                _launch(entry, res, (a._np,))
                return _wrap(res)
        if not isinstance(a, Array):
            raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(a).__name__}")
        return _unary(name, a, _float_dtype(a), out=out)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name}; integer inputs give the default float dtype, as torch."
    return op


exp, log, log1p, expm1, log2, log10, sqrt, rsqrt, reciprocal = (
    _math(n) for n in ("exp", "log", "log1p", "expm1", "log2", "log10", "sqrt", "rsqrt",
                       "reciprocal"))
sin, cos, tanh, sigmoid, erf = (_math(n) for n in ("sin", "cos", "tanh", "sigmoid", "erf"))
tan, asin, acos, atan, sinh, cosh, asinh, acosh, atanh, exp2, erfc = (
    _math(n) for n in ("tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh",
                       "exp2", "erfc"))


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

"""Arithmetic with torch's promotion and error words: add/sub (with ``alpha``), mul, the three
divisions, remainder/fmod, pow, maximum/minimum.

add, sub, mul, div and pow are generated from the table's ``forms`` (``_generated_array_ops``,
re-exported here); what is theirs alone is the ``general`` hook each calls after the common
call and the operand check, and pow's special exponents (``_pow_fast``)."""
import builtins

import numpy as np

from . import _dtype as D
from . import _generated_array_ops
from ._array import Array
from ._generated_array_ops import add, div, mul, pow, sub  # noqa: A004 - torch's names
from ._elementwise_core import (_binary, _cast, _check_operand, _fast, _is_scalar, _SCALARS,
                                _unary)


def _plain_alpha(alpha):
    """alpha of 1 (not True, which torch refuses for non-bool results): nothing to scale."""
    return type(alpha) is builtins.int and alpha == 1


def _scaled(b, alpha, result, op):
    if not _is_scalar(alpha):
        raise TypeError(f"{op}(): argument 'alpha' must be Number, not {type(alpha).__name__}")
    if alpha == 1 and not isinstance(alpha, builtins.bool):
        return b
    if isinstance(alpha, builtins.float) and not result.is_floating_point:
        raise RuntimeError(
            "For integral input tensors, argument alpha must not be a floating point number."
        )
    if isinstance(alpha, builtins.bool) and result is not D.bool:
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    scaled = mul(b, alpha)
    # alpha scales in the op's own dtype: it never promotes (bool + 2 * bool stays bool)
    return _cast(scaled, result) if scaled.dtype is not result else scaled


# ---- the forwards' own rules ----------------------------------------------------------------
# ``add``, ``sub``, ``mul``, ``div`` and ``pow`` are generated from the table's ``forms``
# (``_generated_array_ops``): each runs the common call on its kernel, checks ``other``, then
# calls its hook below with the keywords, ``out`` and whether it writes in place.
def _add_general(a, b, alpha, out, inplace):
    if not _plain_alpha(alpha):
        b = _scaled(b, alpha, D.result_type(a, b), "add")
    compute = D.result_type(a, b)
    name = "logical_or" if compute is D.bool else "add"
    return _binary(name, a, b, compute, compute, out, inplace=inplace)


def _check_bool_sub(a, b):
    a_bool = getattr(a, "dtype", None) is D.bool or isinstance(a, builtins.bool)
    b_bool = getattr(b, "dtype", None) is D.bool or isinstance(b, builtins.bool)
    if a_bool and b_bool:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` "
            "or `logical_xor()` operator instead."
        )
    if a_bool or b_bool:
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )


def _sub_general(a, b, alpha, out, inplace):
    _check_bool_sub(a, b)
    if not _plain_alpha(alpha):
        b = _scaled(b, alpha, D.result_type(a, b), "sub")
    return _binary("sub", a, b, out=out, inplace=inplace)


subtract = sub


def rsub(a, b, alpha=1):
    return sub(b, a, alpha=alpha)


def _mul_general(a, b, out, inplace):
    compute = D.result_type(a, b)
    name = "logical_and" if compute is D.bool else "mul"
    return _binary(name, a, b, compute, compute, out, inplace=inplace)


multiply = mul


def _true_div_dtype(a, b):
    compute = D.result_type(a, b)
    return compute if compute.is_floating_point else D.get_default_dtype()


def _div_general(a, b, rounding_mode, out, inplace):
    if rounding_mode is None:
        compute = _true_div_dtype(a, b)
        return _binary("div", a, b, compute, compute, out, inplace=inplace)
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(
            "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"'{rounding_mode}'"
        )
    compute = D.result_type(a, b)
    if compute is D.bool:
        raise NotImplementedError(f"\"div_{rounding_mode}_cpu\" not implemented for 'Bool'")
    return _binary("div_" + rounding_mode, a, b, compute, compute, out, inplace=inplace)


divide = div


def true_divide(a, b, out=None):
    return div(a, b, out=out)


def floor_divide(a, b, out=None, *, _inplace=False):
    return div(a, b, rounding_mode="floor", out=out, _inplace=_inplace)


def remainder(a, b, out=None, *, _inplace=False):
    _check_operand(b, "remainder")
    compute = D.result_type(a, b)
    if compute is D.bool:
        raise NotImplementedError("\"remainder_cpu\" not implemented for 'Bool'")
    return _binary("remainder", a, b, compute, compute, out, inplace=_inplace)


def fmod(a, b, out=None):
    """C's fmod: the remainder takes the sign of the dividend (unlike ``remainder``)."""
    q = div(a, b, rounding_mode="trunc")
    return sub(a, mul(q, b), out=out)


# torch's kernels for a floating tensor to these Python-number powers (its pow_out and
# pow_tensor_scalar kernels): products, a reciprocal or a root instead of pow, so the results
# (and PowBackward0's ``self ** (exponent - 1)``) carry torch's roundings
_SPECIAL_EXPONENTS = {
    1: lambda a: _unary("copy", a),
    2: lambda a: _unary("square", a),
    3: lambda a: _binary("mul", _unary("square", a), a),  # (x * x) * x
    -1: lambda a: _unary("reciprocal", a),
    -2: lambda a: _unary("reciprocal", _unary("square", a)),  # 1 / (x * x)
    0.5: lambda a: _unary("sqrt", a),
    -0.5: lambda a: _unary("rsqrt", a),
}


def _pow_fast(a, b):
    """The common call of pow (``fast`` in the table): a floating Array to a Python number
    (torch's special exponents, else the kernel), or to an Array of its dtype; an integer Array
    to 1 or 2, an int64 one to another non-negative int. None where the general rules apply
    (promotion, bool, integer errors)."""
    tb = type(b)
    if tb is builtins.float or tb is builtins.int:
        kind = a._np.dtype.kind
        if kind == "f":
            special = _SPECIAL_EXPONENTS.get(b)
            if special is not None:
                return special(a)
        elif kind not in "iu" or tb is builtins.float or b < 0:
            return None
        elif b == 2 or b == 1:  # exact either way: the square or copy kernel, not pow's loop
            return _SPECIAL_EXPONENTS[b](a)
    return _fast("pow", a, b)


def _pow_general(a, b, out, inplace):
    _check_operand(a, "pow")
    compute = D.result_type(a, b)
    if compute is D.bool:
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    if _is_scalar(b) and isinstance(a, Array):
        value = b.item() if isinstance(b, np.generic) else b
        if not compute.is_floating_point and value < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        if out is None:  # torch's special exponents, in the result's dtype
            special = _SPECIAL_EXPONENTS.get(value) if compute.is_floating_point else (
                _SPECIAL_EXPONENTS.get(value) if value in (1, 2) else None)
            if special is not None:
                return special(_cast(a, compute))
    return _binary("pow", a, b, compute, compute, out, inplace=inplace)


def float_power(a, b):
    return pow(_cast(a, D.float64) if isinstance(a, Array) else a,
               _cast(b, D.float64) if isinstance(b, Array) else builtins.float(b))


def maximum(a, b, out=None):
    compute = D.result_type(a, b)
    return _binary("logical_or" if compute is D.bool else "maximum", a, b, compute, compute, out)


def minimum(a, b, out=None):
    compute = D.result_type(a, b)
    return _binary("logical_and" if compute is D.bool else "minimum", a, b, compute, compute, out)


# the generated forwards' hooks, and the forwards the table's ``forms`` (in-place methods,
# operators) call
_generated_array_ops._bind(
    _fast=_fast, _add_general=_add_general, _sub_general=_sub_general,
    _mul_general=_mul_general, _div_general=_div_general, _pow_fast=_pow_fast,
    _pow_general=_pow_general, _add=add, _sub=sub, _mul=mul, _div=div,
    _floor_divide=floor_divide, _remainder=remainder, _pow=pow, _rsub=rsub,
    _OPERANDS=(Array,) + _SCALARS)

"""Comparisons (bool results), logical ops on any dtype, bitwise ops on integers and bool."""
import builtins

from . import _dtype as D
from ._array import Array
from ._elementwise_core import _binary, _check_operand, _fast, _unary


def _compare(name, a, b, out=None):
    if out is None and type(a) is Array:
        res = _fast(name, a, b)
        if res is not None:
            return res
    _check_operand(b, name)
    compute = D.result_type(a, b)
    return _binary(name, a, b, compute, D.bool, out)


def eq(a, b, out=None):
    return _compare("eq", a, b, out)


def ne(a, b, out=None):
    return _compare("ne", a, b, out)


def lt(a, b, out=None):
    return _compare("lt", a, b, out)


def le(a, b, out=None):
    return _compare("le", a, b, out)


def gt(a, b, out=None):
    return _compare("gt", a, b, out)


def ge(a, b, out=None):
    return _compare("ge", a, b, out)


greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def equal(a, b):
    """True when both have the same shape and elements (torch.equal)."""
    if a._np.shape != b._np.shape:
        return False
    return builtins.bool(_np_all(eq(a, b)._np))


def _np_all(arr):
    return arr.all() if arr.size else True


def logical_and(a, b, out=None):
    return _binary("logical_and", a, b, out_dtype=D.bool, out=out)


def logical_or(a, b, out=None):
    return _binary("logical_or", a, b, out_dtype=D.bool, out=out)


def logical_xor(a, b, out=None):
    return _binary("logical_xor", a, b, out_dtype=D.bool, out=out)


def logical_not(a, out=None):
    return _unary("logical_not", a, out_dtype=D.bool, out=out)


def _bitwise(name, a, b, out=None, inplace=False):
    _check_operand(b, name)
    compute = D.result_type(a, b)
    if compute.is_floating_point:
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{compute.torch_name}'")
    return _binary(name, a, b, compute, compute, out, inplace=inplace)


def bitwise_and(a, b, out=None):
    return _bitwise("bitwise_and", a, b, out)


def bitwise_or(a, b, out=None):
    return _bitwise("bitwise_or", a, b, out)


def bitwise_xor(a, b, out=None):
    return _bitwise("bitwise_xor", a, b, out)


def bitwise_not(a, out=None):
    if a.dtype.is_floating_point:
        raise NotImplementedError(
            f"\"bitwise_not_cpu\" not implemented for '{a.dtype.torch_name}'"
        )
    if a.dtype is D.bool:
        return _unary("logical_not", a, out_dtype=D.bool, out=out)
    return _unary("bitwise_not", a, out=out)


def _invert(a):
    if a.dtype.is_floating_point:  # the operator words it differently from bitwise_not()
        raise TypeError(
            "~ (operator.invert) is only implemented on integer and Boolean-type tensors"
        )
    return bitwise_not(a)

"""In-place forms (``add_``, ``exp_``, ...): torch's out= rules with the input as the output
(no resize, no dtype widening, no writes through expanded dims)."""
from ._elementwise_core import _assign_inplace
from .arithmetic import add, div, floor_divide, mul, pow, remainder, sub
from .comparison import _bitwise
from .unary_math import abs, ceil, floor, neg, round, trunc
from .activation import relu
from .selection import clamp


def add_(a, b, alpha=1):
    return add(a, b, alpha=alpha, out=a, _inplace=True)


def sub_(a, b, alpha=1):
    return sub(a, b, alpha=alpha, out=a, _inplace=True)


def mul_(a, b):
    return mul(a, b, out=a, _inplace=True)


def div_(a, b, rounding_mode=None):
    return div(a, b, rounding_mode=rounding_mode, out=a, _inplace=True)


def floor_divide_(a, b):
    return floor_divide(a, b, out=a, _inplace=True)


def remainder_(a, b):
    return remainder(a, b, out=a, _inplace=True)


def pow_(a, b):
    return pow(a, b, out=a, _inplace=True)


def clamp_(a, min=None, max=None):  # noqa: A002
    return clamp(a, min=min, max=max, out=a, _inplace=True)


def relu_(a):
    return relu(a, out=a, _inplace=True)


def neg_(a):
    return neg(a, out=a, _inplace=True)


def _inplace_math(fn):
    def op(a):
        return _assign_inplace(a, fn(a))

    op.__name__ = op.__qualname__ = fn.__name__ + "_"
    return op


# the table's float math (exp_, log_, ...) is generated with its op (_generated_array_ops)
abs_, floor_, ceil_, round_, trunc_ = (
    _inplace_math(f) for f in (abs, floor, ceil, round, trunc))


def _bitwise_inplace(name):
    def op(a, b):
        return _bitwise(name, a, b, out=a, inplace=True)

    return op

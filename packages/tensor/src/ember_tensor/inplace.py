"""In-place forms (``clamp_``, ``relu_``, ...): torch's out= rules with the input as the output
(no resize, no dtype widening, no writes through expanded dims). The arithmetic ones
(``add_``, ``div_``, ...) are generated from the table's ``forms`` with their operators
(``_generated_array_ops``)."""
from ._elementwise_core import _assign_inplace
from .comparison import _bitwise
from .unary_math import abs, ceil, floor, neg, round, trunc
from .activation import relu
from .selection import clamp


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

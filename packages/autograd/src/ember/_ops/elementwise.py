"""Differentiable elementwise ops: arithmetic, unary math, activations, comparisons, where,
clamp and the in-place forms."""
import builtins
import math
import numbers

import numpy as np

from ember_tensor import Array
from ember_tensor import _dtype as D

from ..autograd.node import Node, record
from . import arr, kernel, npv, result_dtype, wrap_np


def _T():
    from .._tensor import Tensor

    return Tensor


def _is_t(x):
    return isinstance(x, _T())


def _cast(x, dt):
    if _is_t(x):
        v = x._data._np
        return v if v.dtype == dt.np else v.astype(dt.np)
    return np.asarray(x, dtype=dt.np)


def _check_operand(x, name="other"):
    if _is_t(x) or isinstance(x, (numbers.Number, np.number, np.bool_)):
        return x
    if isinstance(x, Array):
        return _T()._make(x)
    raise TypeError(
        f"unsupported operand type: expected Tensor or Number for '{name}', "
        f"got {type(x).__name__}"
    )


def _np_binary(npfn, out_dtype=None):
    def fn(a, b):
        rt = result_dtype(a, b)
        return wrap_np(npfn(_cast(a, rt), _cast(b, rt)), out_dtype or rt)
    return fn


def _binary(kname, npfn, a, b):
    """Run kernel ``kname`` (or NumPy) with torch promotion; tensor or scalar operands."""
    k = _KERNELS.get(kname)
    if k is not None and _is_t(a):
        return _fix_shape(k(arr(a), arr(b)), a, b)
    return _FALLBACK[kname](a, b)


def _fix_shape(res, *operands):
    """Guard: a kernel must return the broadcast shape (0-d stays 0-d)."""
    shape = np.broadcast_shapes(*(np.shape(npv(x)) for x in operands))
    if res._np.shape != shape:
        return Array(res._np.reshape(shape))
    return res


_FALLBACK = {
    "add": _np_binary(np.add), "sub": _np_binary(np.subtract), "mul": _np_binary(np.multiply),
    "maximum": _np_binary(np.maximum), "minimum": _np_binary(np.minimum),
}
_KERNELS = {name: kernel("elementwise", name, None) for name in _FALLBACK}


def _float_result(a, b):
    rt = result_dtype(a, b)
    return rt if rt.is_floating_point else D.get_default_dtype()


def _neg_scalar(x):
    return -x


# ---- arithmetic -----------------------------------------------------------------------------
class AddBackward0(Node):
    def backward(self, g):
        alpha = self.alpha
        return (g if self.needs_input_grad[0] else None,
                (g if alpha == 1 else g * alpha) if self.needs_input_grad[1] else None)


class SubBackward0(Node):
    def backward(self, g):
        alpha = self.alpha
        return (g if self.needs_input_grad[0] else None,
                (-g if alpha == 1 else g * -alpha) if self.needs_input_grad[1] else None)


class RsubBackward1(Node):
    def backward(self, g):
        return (-g if self.alpha == 1 else g * -self.alpha,)


def add(input, other, *, alpha=1, out=None):
    other = _check_operand(other)
    if not _is_t(input):
        input, other = other, input
        if alpha != 1:
            raise TypeError("add(): alpha requires a Tensor input")
    b = other if alpha == 1 else (other * alpha if _is_t(other) else other * alpha)
    with _no_grad():
        res = _binary("add", np.add, input, b)
    return _out(record(AddBackward0, res, (input, other), alpha=alpha), out)


def sub(input, other, *, alpha=1, out=None):
    other = _check_operand(other)
    if input.dtype is D.bool if _is_t(input) else False:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` "
            "or `logical_xor()` operator instead."
        )
    if not _is_t(input):
        return rsub(other, input, alpha=alpha)
    b = other if alpha == 1 else (other * alpha if _is_t(other) else other * alpha)
    with _no_grad():
        res = _binary("sub", np.subtract, input, b)
    return _out(record(SubBackward0, res, (input, other), alpha=alpha), out)


def rsub(input, other, *, alpha=1):
    """``other - alpha * input``."""
    if _is_t(other):
        return sub(other, input, alpha=alpha)
    a = input if alpha == 1 else input * alpha
    with _no_grad():
        rt = result_dtype(input, other)
        res = wrap_np(np.subtract(_cast(other, rt), _cast(a, rt)), rt)
    return record(RsubBackward1, res, (input,), alpha=alpha)


class MulBackward0(Node):
    def backward(self, g):
        a, b = self.saved_tensors
        other = b if b is not None else self.other
        ga = g * other if self.needs_input_grad[0] else None
        gb = g * a if self.needs_input_grad[1] else None
        return ga, gb


def mul(input, other, *, out=None):
    other = _check_operand(other)
    if not _is_t(input):
        input, other = other, input
    with _no_grad():
        res = _binary("mul", np.multiply, input, other)
    other_t = other if _is_t(other) else None
    save = (input if other_t is not None and other_t._requires_grad else None, other_t)
    return _out(record(MulBackward0, res, (input, other), save=save,
                       other=None if other_t is not None else other), out)


class DivBackward0(Node):
    def backward(self, g):
        a, b = self.saved_tensors
        other = b if b is not None else self.other
        ga = g / other if self.needs_input_grad[0] else None
        gb = -g * a / (other * other) if self.needs_input_grad[1] else None
        return ga, gb


class DivBackward2(Node):  # rounding_mode set: piecewise constant
    def backward(self, g):
        return (g * 0 if self.needs_input_grad[0] else None,
                g * 0 if self.needs_input_grad[1] else None)


def div(input, other, *, rounding_mode=None, out=None):
    other = _check_operand(other)
    if not _is_t(input):
        if rounding_mode is None:
            return mul(reciprocal(other), input)
        input = _T()._make(wrap_np(input, result_dtype(input)))
    if rounding_mode not in (None, "trunc", "floor"):
        raise RuntimeError(
            "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"'{rounding_mode}'"
        )
    with _no_grad():
        if rounding_mode is None:
            rt = _float_result(input, other)
            k = kernel("elementwise", "div", None)
            if k is not None:
                res = _fix_shape(k(arr(input), arr(other)), input, other)
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    res = wrap_np(np.true_divide(_cast(input, rt), _cast(other, rt)), rt)
        else:
            rt = result_dtype(input, other)
            x, y = _cast(input, rt), _cast(other, rt)
            with np.errstate(divide="ignore", invalid="ignore"):
                if rt.is_floating_point:
                    q = np.true_divide(x, y)
                    q = np.floor(q) if rounding_mode == "floor" else np.trunc(q)
                else:
                    if np.any(y == 0):
                        raise RuntimeError("ZeroDivisionError")
                    q = np.floor_divide(x, y) if rounding_mode == "floor" else \
                        (np.trunc(x / y)).astype(rt.np)
            res = wrap_np(q, rt)
    if rounding_mode is not None:
        return _out(record(DivBackward2, res, (input, other)), out)
    other_t = other if _is_t(other) else None
    save = (input if other_t is not None and other_t._requires_grad else None, other_t)
    return _out(record(DivBackward0, res, (input, other), save=save,
                       other=None if other_t is not None else other), out)


true_divide = div


def floor_divide(input, other):
    return div(input, other, rounding_mode="floor")


def remainder(input, other):
    with _no_grad():
        rt = result_dtype(input, other)
        with np.errstate(divide="ignore", invalid="ignore"):
            res = wrap_np(np.mod(_cast(input, rt), _cast(other, rt)), rt)
    return record(RemainderBackward0, res, (input, other))


class RemainderBackward0(Node):
    def backward(self, g):
        return (g if self.needs_input_grad[0] else None, None)


fmod = remainder


class PowBackward0(Node):  # tensor ** scalar
    def backward(self, g):
        (a,) = self.saved_tensors
        e = self.exponent
        if e == 0:
            return (g * 0,)
        return (g * e * a ** (e - 1),)


class PowBackward1(Node):  # tensor ** tensor
    def backward(self, g):
        a, b, out = self.saved_tensors
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = g * b * a ** (b - 1)
        if self.needs_input_grad[1]:
            safe = where(a == 0, ones_like_t(a), a) if True else a
            gb = g * out * log(safe)
            gb = where((a == 0) & (b >= 0), zeros_like_t(gb), gb)
        return ga, gb


class PowBackward2(Node):  # scalar ** tensor
    def backward(self, g):
        (out,) = self.saved_tensors
        return (g * out * math.log(self.base) if self.base > 0 else g * 0,)


def ones_like_t(t):
    return _T()._make(wrap_np(np.ones_like(t._data._np)))


def zeros_like_t(t):
    return _T()._make(wrap_np(np.zeros_like(t._data._np)))


def _pow_np(a, b, rt):
    x, y = _cast(a, rt), _cast(b, rt)
    if not rt.is_floating_point and np.any(y < 0):
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return wrap_np(np.power(x, y), rt)


def pow(input, exponent, *, out=None):
    exponent = _check_operand(exponent, "exponent")
    if not _is_t(input):
        base = input
        with _no_grad():
            rt = result_dtype(base, exponent)
            res = _pow_np(base, exponent, rt)
        return record(PowBackward1 if False else PowBackward2, res, (exponent,),
                      save=(res,), base=base)
    with _no_grad():
        rt = result_dtype(input, exponent)
        res = _pow_np(input, exponent, rt)
    if _is_t(exponent):
        return _out(record(PowBackward1, res, (input, exponent), save=(input, exponent, res)), out)
    return _out(record(PowBackward0, res, (input,), save=(input,), exponent=exponent), out)


def square(input):
    return pow(input, 2)


# ---- unary math ---------------------------------------------------------------------------
def _unary_np(npfn, float_only=True):
    def fn(x):
        a = x._data
        dt = a.dtype
        v = a._np
        if float_only and not dt.is_floating_point:
            dt = D.get_default_dtype()
            v = v.astype(dt.np)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return wrap_np(npfn(v), dt)
    return fn


def _sigmoid_np(v):
    return np.where(v >= 0, 1 / (1 + np.exp(-np.abs(v))), np.exp(-np.abs(v)) /
                    (1 + np.exp(-np.abs(v)))).astype(v.dtype)


def _unary(kname, npfn, x, float_only=True):
    if not _is_t(x):
        raise TypeError(f"{kname}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(x).__name__}")
    k = kernel("elementwise", kname, None)
    if k is not None:
        return _fix_shape(k(x._data), x)
    return _unary_np(npfn, float_only)(x)


def _simple_unary(name, kname, npfn, node_cls, save="input", float_only=True):
    def op(input):
        with _no_grad():
            res = _unary(kname, npfn, input, float_only)
        if save == "input":
            return record(node_cls, res, (input,), save=(input,))
        if save == "output":
            return record(node_cls, res, (input,), save=(res,))
        return record(node_cls, res, (input,))
    op.__name__ = name
    return op


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


class SignBackward0(Node):
    def backward(self, g):
        return (g * 0,)


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
        return (g * (out > 0),)


class ReciprocalBackward0(Node):
    def backward(self, g):
        (out,) = self.saved_tensors
        return (-g * out * out,)


class Log2Backward0(Node):
    def backward(self, g):
        (x,) = self.saved_tensors
        return (g / (x * math.log(2.0)),)


class Log1PBackward0(Node):
    def backward(self, g):
        (x,) = self.saved_tensors
        return (g / (x + 1),)


class Expm1Backward0(Node):
    def backward(self, g):
        (out,) = self.saved_tensors
        return (g * (out + 1),)


class ErfBackward0(Node):
    def backward(self, g):
        (x,) = self.saved_tensors
        return (g * (2.0 / math.sqrt(math.pi)) * exp(-(x * x)),)


def _zero_grad_node(name):
    return type(name, (Node,), {"backward": lambda self, g: (g * 0,)})


FloorBackward0 = _zero_grad_node("FloorBackward0")
CeilBackward0 = _zero_grad_node("CeilBackward0")
RoundBackward0 = _zero_grad_node("RoundBackward0")
TruncBackward0 = _zero_grad_node("TruncBackward0")


def _erf_np(v):
    from math import erf as _e

    return np.vectorize(_e, otypes=[v.dtype])(v) if v.size else v.copy()


neg = _simple_unary("neg", "neg", np.negative, NegBackward0, save=None, float_only=False)
exp = _simple_unary("exp", "exp", np.exp, ExpBackward0, save="output")
log = _simple_unary("log", "log", np.log, LogBackward0)
log2 = _simple_unary("log2", "log2", np.log2, Log2Backward0)
log1p = _simple_unary("log1p", "log1p", np.log1p, Log1PBackward0)
expm1 = _simple_unary("expm1", "expm1", np.expm1, Expm1Backward0, save="output")
sqrt = _simple_unary("sqrt", "sqrt", np.sqrt, SqrtBackward0, save="output")
rsqrt = _simple_unary("rsqrt", "rsqrt", lambda v: 1 / np.sqrt(v), RsqrtBackward0, save="output")
abs = _simple_unary("abs", "abs", np.abs, AbsBackward0, float_only=False)
sign = _simple_unary("sign", "sign", np.sign, SignBackward0, save=None, float_only=False)
sin = _simple_unary("sin", "sin", np.sin, SinBackward0)
cos = _simple_unary("cos", "cos", np.cos, CosBackward0)
tanh = _simple_unary("tanh", "tanh", np.tanh, TanhBackward0, save="output")
sigmoid = _simple_unary("sigmoid", "sigmoid", _sigmoid_np, SigmoidBackward0, save="output")
relu = _simple_unary("relu", "relu", lambda v: np.maximum(v, 0).astype(v.dtype),
                     ReluBackward0, save="output", float_only=False)
reciprocal = _simple_unary("reciprocal", "reciprocal", lambda v: 1 / v, ReciprocalBackward0,
                           save="output")
erf = _simple_unary("erf", "erf", _erf_np, ErfBackward0)
floor = _simple_unary("floor", "floor", np.floor, FloorBackward0, save=None, float_only=False)
ceil = _simple_unary("ceil", "ceil", np.ceil, CeilBackward0, save=None, float_only=False)
round = _simple_unary("round", "round", np.round, RoundBackward0, save=None, float_only=False)
trunc = _simple_unary("trunc", "trunc", np.trunc, TruncBackward0, save=None, float_only=False)


def positive(input):
    return input


# ---- clamp / maximum / minimum / where ------------------------------------------------------
class ClampBackward1(Node):
    def backward(self, g):
        (x,) = self.saved_tensors
        mask = _T()._make(wrap_np(np.ones(x.shape, dtype=np.bool_)))
        if self.min is not None:
            mask = mask & (x >= self.min)
        if self.max is not None:
            mask = mask & (x <= self.max)
        return (g * mask,)


class ClampBackward0(Node):
    def backward(self, g):
        x, lo, hi = self.saved_tensors
        mask = _T()._make(wrap_np(np.ones(x.shape, dtype=np.bool_)))
        if lo is not None:
            mask = mask & (x >= lo)
        if hi is not None:
            mask = mask & (x <= hi)
        ga = g * mask
        glo = ghi = None
        if lo is not None and self.needs_input_grad[1]:
            glo = g * (x < lo)
        if hi is not None and self.needs_input_grad[2]:
            ghi = g * (x > hi)
        return ga, glo, ghi


def clamp(input, min=None, max=None, *, out=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    tensor_bounds = _is_t(min) or _is_t(max)
    with _no_grad():
        v = input._data._np
        rt = input.dtype
        if not tensor_bounds:
            rt = result_dtype(input, *(b for b in (min, max) if b is not None))
        else:
            rt = result_dtype(input, *(b for b in (min, max) if b is not None))
        v = v.astype(rt.np, copy=False)
        lo = npv(min) if min is not None else None
        hi = npv(max) if max is not None else None
        r = v
        if lo is not None:
            r = np.maximum(r, np.asarray(lo, dtype=rt.np))
        if hi is not None:
            r = np.minimum(r, np.asarray(hi, dtype=rt.np))
        # NaN propagates from the input as in torch
        r = np.where(np.isnan(v), v, r) if rt.is_floating_point else r
        res = wrap_np(np.array(r, copy=True) if r is v else r, rt)
    if tensor_bounds:
        return _out(record(ClampBackward0, res, (input, min, max),
                           save=(input, min if _is_t(min) else None,
                                 max if _is_t(max) else None)), out)
    return _out(record(ClampBackward1, res, (input,), save=(input,), min=min, max=max), out)


clip = clamp


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)


class MaximumBackward0(Node):
    def backward(self, g):
        a, b = self.saved_tensors
        half = g * 0.5
        ga = where(a > b, g, where(a == b, half, g * 0)) if self.needs_input_grad[0] else None
        gb = where(b > a, g, where(a == b, half, g * 0)) if self.needs_input_grad[1] else None
        return ga, gb


class MinimumBackward0(Node):
    def backward(self, g):
        a, b = self.saved_tensors
        half = g * 0.5
        ga = where(a < b, g, where(a == b, half, g * 0)) if self.needs_input_grad[0] else None
        gb = where(b < a, g, where(a == b, half, g * 0)) if self.needs_input_grad[1] else None
        return ga, gb


def maximum(input, other, *, out=None):
    with _no_grad():
        res = _binary("maximum", np.maximum, input, other)
    return _out(record(MaximumBackward0, res, (input, other), save=(input, other)), out)


def minimum(input, other, *, out=None):
    with _no_grad():
        res = _binary("minimum", np.minimum, input, other)
    return _out(record(MinimumBackward0, res, (input, other), save=(input, other)), out)


class WhereBackward0(Node):
    def backward(self, g):
        (cond,) = self.saved_tensors
        z = g * 0
        ga = where(cond, g, z) if self.needs_input_grad[1] else None
        gb = where(cond, z, g) if self.needs_input_grad[2] else None
        return None, ga, gb


def where(condition, input=None, other=None):
    if input is None and other is None:
        from .indexing import nonzero

        return nonzero(condition, as_tuple=True)
    if not _is_t(condition) or condition.dtype is not D.bool:
        if _is_t(condition) and condition.dtype is D.uint8:
            pass
        else:
            raise RuntimeError(
                "where expected condition to be a boolean tensor, but got a tensor with dtype "
                f"{condition.dtype.name.capitalize() if _is_t(condition) else 'Float'}"
            )
    with _no_grad():
        rt = result_dtype(input, other)
        res = wrap_np(np.where(condition._data._np.astype(bool), _cast(input, rt),
                               _cast(other, rt)), rt)
    return record(WhereBackward0, res, (condition, input, other), save=(condition,))


# ---- comparisons and logical (no gradient) -------------------------------------------------
def _compare(npfn):
    def op(input, other):
        if not _is_t(input):
            raise TypeError(f"expected Tensor as input, got {type(input).__name__}")
        if other is None:
            return NotImplemented
        if not (_is_t(other) or isinstance(other, (numbers.Number, np.number, np.bool_))):
            if isinstance(other, (list, tuple)):
                other = _T()._make(wrap_np(np.asarray(other)))
            else:
                return NotImplemented
        rt = result_dtype(input, other)
        return _T()._make(wrap_np(npfn(_cast(input, rt), _cast(other, rt))))
    return op


eq = _compare(np.equal)
ne = _compare(np.not_equal)
lt = _compare(np.less)
le = _compare(np.less_equal)
gt = _compare(np.greater)
ge = _compare(np.greater_equal)
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def _logical(npfn):
    def op(input, other):
        return _T()._make(wrap_np(npfn(npv(input).astype(bool), np.asarray(npv(other)).astype(
            bool))))
    return op


logical_and = _logical(np.logical_and)
logical_or = _logical(np.logical_or)
logical_xor = _logical(np.logical_xor)


def logical_not(input):
    return _T()._make(wrap_np(np.logical_not(input._data._np)))


def _bitwise(npfn, name):
    def op(input, other):
        if not _is_t(input):
            input, other = other, input
        if input.dtype.is_floating_point or (_is_t(other) and other.dtype.is_floating_point):
            raise RuntimeError(f'"{name}_cpu" not implemented for \'Float\'')
        rt = result_dtype(input, other)
        return _T()._make(wrap_np(npfn(_cast(input, rt), _cast(other, rt)), rt))
    return op


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor")


def bitwise_not(input):
    v = input._data._np
    return _T()._make(wrap_np(np.logical_not(v) if v.dtype == bool else np.invert(v)))


def isnan(input):
    return _T()._make(wrap_np(np.isnan(input._data._np)))


def isinf(input):
    return _T()._make(wrap_np(np.isinf(input._data._np)))


def isfinite(input):
    return _T()._make(wrap_np(np.isfinite(input._data._np)))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    if input.dtype is not other.dtype:
        raise RuntimeError(
            f"{input.dtype.name.capitalize()} did not match {other.dtype.name.capitalize()}"
        )
    return _T()._make(wrap_np(np.isclose(input._data._np, other._data._np, rtol=rtol, atol=atol,
                                         equal_nan=equal_nan)))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return builtins.bool(isclose(input, other, rtol, atol, equal_nan)._data._np.all())


def equal(input, other):
    a, b = input._data._np, other._data._np
    return a.shape == b.shape and builtins.bool(np.array_equal(a, b))


# ---- in-place forms ------------------------------------------------------------------------
def _inplace(fn, name):
    """``x.<name>_(...)``: compute out of place, then write into x and take over its history."""

    def op(self, *args, **kwargs):
        from ..autograd import grad_mode

        self._check_inplace()
        if not grad_mode._state.grad_enabled or not (
            self._requires_grad or any(_is_t(a) and a._requires_grad for a in args)
            or any(_is_t(a) and a._requires_grad for a in kwargs.values())
        ):
            with _no_grad():
                r = fn(self, *args, **kwargs)
            _write(self, r, name)
            self._version_counter[0] += 1
            return self
        alias = _T()._make(self._data)
        alias._version_counter = self._version_counter
        alias._requires_grad = self._requires_grad
        alias.grad_fn = self.grad_fn
        alias._output_nr = self._output_nr
        alias._accumulator = self._accumulator
        r = fn(alias, *args, **kwargs)
        _write(self, r, name)
        self._version_counter[0] += 1
        self.grad_fn = r.grad_fn
        self._output_nr = r._output_nr
        self._requires_grad = r._requires_grad
        return self

    op.__name__ = name + "_"
    return op


def _write(self, r, name):
    dst = self._data._np
    src = r._data._np
    if src.dtype != dst.dtype:
        rt, st = D.from_numpy_dtype(src.dtype), D.from_numpy_dtype(dst.dtype)
        if D.promote_types(rt, st) is not st:
            raise RuntimeError(
                f"result type {_cap(rt)} can't be cast to the desired output type {_cap(st)}"
            )
    if src.shape != dst.shape:
        if np.broadcast_shapes(src.shape, dst.shape) != dst.shape:
            raise RuntimeError(
                f"output with shape {list(dst.shape)} doesn't match the broadcast shape "
                f"{list(np.broadcast_shapes(src.shape, dst.shape))}"
            )
    np.copyto(dst, src, casting="unsafe")


def _cap(dt):
    return {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
            "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool"}[dt.name]


def _no_grad():
    from ..autograd.grad_mode import no_grad

    return no_grad()


def _out(result, out):
    if out is None:
        return result
    _write(out, result, "out")
    out._version_counter[0] += 1
    return out


# ---- operator dunders ----------------------------------------------------------------------
def _reflect(fn):
    def op(self, other):
        if not (_is_t(other) or isinstance(other, (numbers.Number, np.number, np.bool_))):
            return NotImplemented
        return fn(other, self)
    return op


def _fwd(fn):
    def op(self, other):
        if not (_is_t(other) or isinstance(other, (numbers.Number, np.number, np.bool_))):
            return NotImplemented
        return fn(self, other)
    return op


def _rtruediv(self, other):
    return mul(reciprocal(self), other)


def _rpow(self, other):
    return pow(other, self)


def _rsub(self, other):
    return rsub(self, other)


def _and(self, other):
    if self.dtype is D.bool and (not _is_t(other) or other.dtype is D.bool):
        return logical_and(self, other)
    return bitwise_and(self, other)


def _or(self, other):
    if self.dtype is D.bool and (not _is_t(other) or other.dtype is D.bool):
        return logical_or(self, other)
    return bitwise_or(self, other)


def _xor(self, other):
    if self.dtype is D.bool and (not _is_t(other) or other.dtype is D.bool):
        return logical_xor(self, other)
    return bitwise_xor(self, other)


def _invert(self):
    return bitwise_not(self)


def _fill_(self, value):
    self._check_inplace()
    self._data._np[...] = npv(value)
    self._version_counter[0] += 1
    if self.grad_fn is not None or _is_t(value) and value._requires_grad:
        pass
    return self


def _zero_(self):
    return _fill_(self, 0)


class CopyBackwards(Node):
    def backward(self, g):
        return (g * 0 if self.needs_input_grad[0] else None,
                g if self.needs_input_grad[1] else None)


def _copy_(self, src, non_blocking=False):
    from ..autograd import grad_mode

    self._check_inplace()
    src_t = src if _is_t(src) else _T()._make(wrap_np(np.asarray(src)))
    dst = self._data._np
    s = src_t._data._np
    try:
        np.copyto(dst, np.broadcast_to(s, dst.shape), casting="unsafe")
    except ValueError:
        raise RuntimeError(
            f"The size of tensor a ({dst.shape[-1] if dst.ndim else 1}) must match the size of "
            f"tensor b ({s.shape[-1] if s.ndim else 1}) at non-singleton dimension "
            f"{max(dst.ndim - 1, 0)}"
        ) from None
    if grad_mode._state.grad_enabled and (self._requires_grad or src_t._requires_grad):
        record(CopyBackwards, self, (self, src_t))
    else:
        self._version_counter[0] += 1
    return self


_INPLACE = {
    "add": add, "sub": sub, "mul": mul, "div": div, "pow": pow, "neg": neg, "exp": exp,
    "log": log, "sqrt": sqrt, "rsqrt": rsqrt, "abs": abs, "sign": sign, "sin": sin, "cos": cos,
    "tanh": tanh, "sigmoid": sigmoid, "relu": relu, "reciprocal": reciprocal, "clamp": clamp,
    "clamp_min": clamp_min, "clamp_max": clamp_max, "floor": floor, "ceil": ceil,
    "round": round, "trunc": trunc, "square": square, "log1p": log1p, "expm1": expm1,
    "clip": clamp, "remainder": remainder, "floor_divide": floor_divide, "true_divide": div,
    "where": None, "logical_not": logical_not, "erf": erf, "log2": log2,
}

TENSOR_METHODS = {
    "add": add, "sub": sub, "subtract": sub, "mul": mul, "multiply": mul, "div": div,
    "divide": div, "true_divide": div, "floor_divide": floor_divide, "remainder": remainder,
    "fmod": fmod, "pow": pow, "square": square, "neg": neg, "negative": neg, "exp": exp,
    "log": log, "log2": log2, "log1p": log1p, "expm1": expm1, "sqrt": sqrt, "rsqrt": rsqrt,
    "abs": abs, "absolute": abs, "sign": sign, "sin": sin, "cos": cos, "tanh": tanh,
    "sigmoid": sigmoid, "relu": relu, "reciprocal": reciprocal, "erf": erf, "floor": floor,
    "ceil": ceil, "round": round, "trunc": trunc, "clamp": clamp, "clip": clamp,
    "clamp_min": clamp_min, "clamp_max": clamp_max, "maximum": maximum, "minimum": minimum,
    "where": lambda self, condition, other: where(condition, self, other),
    "eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge, "greater": gt,
    "greater_equal": ge, "less": lt, "less_equal": le, "not_equal": ne,
    "logical_and": logical_and, "logical_or": logical_or, "logical_xor": logical_xor,
    "logical_not": logical_not, "bitwise_and": bitwise_and, "bitwise_or": bitwise_or,
    "bitwise_xor": bitwise_xor, "bitwise_not": bitwise_not, "isnan": isnan, "isinf": isinf,
    "isfinite": isfinite, "isclose": isclose, "allclose": allclose, "equal": equal,
    "positive": positive,
    "__add__": _fwd(add), "__radd__": _reflect(add), "__sub__": _fwd(sub),
    "__rsub__": _rsub, "__mul__": _fwd(mul), "__rmul__": _reflect(mul),
    "__truediv__": _fwd(div), "__rtruediv__": _rtruediv, "__floordiv__": _fwd(floor_divide),
    "__rfloordiv__": _reflect(floor_divide), "__mod__": _fwd(remainder),
    "__pow__": _fwd(pow), "__rpow__": _rpow, "__neg__": neg, "__pos__": positive,
    "__abs__": abs, "__eq__": eq, "__ne__": ne, "__lt__": lt, "__le__": le, "__gt__": gt,
    "__ge__": ge, "__and__": _and, "__or__": _or, "__xor__": _xor, "__invert__": _invert,
    "__rand__": _and, "__ror__": _or, "__rxor__": _xor,
    "fill_": _fill_, "zero_": _zero_, "copy_": _copy_,
}
for _name, _fn in _INPLACE.items():
    if _fn is not None:
        TENSOR_METHODS[_name + "_"] = _inplace(_fn, _name)
for _name in ("add", "sub", "mul", "truediv", "pow", "floordiv", "mod", "and", "or", "xor"):
    _base = {"truediv": "div", "floordiv": "floor_divide", "mod": "remainder",
             "and": None, "or": None, "xor": None}.get(_name, _name)
    if _base is not None:
        TENSOR_METHODS[f"__i{_name}__"] = TENSOR_METHODS[_base + "_"]

FUNCTIONS = {
    name: globals()[name] for name in (
        "add", "sub", "rsub", "mul", "div", "true_divide", "floor_divide", "remainder", "fmod",
        "pow", "square", "neg", "exp", "log", "log2", "log1p", "expm1", "sqrt", "rsqrt", "abs",
        "sign", "sin", "cos", "tanh", "sigmoid", "relu", "reciprocal", "erf", "floor", "ceil",
        "round", "trunc", "clamp", "clip", "clamp_min", "clamp_max", "maximum", "minimum",
        "where", "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less",
        "less_equal", "not_equal", "logical_and", "logical_or", "logical_xor", "logical_not",
        "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "isnan", "isinf",
        "isfinite", "isclose", "allclose", "equal", "positive",
    )
}
FUNCTIONS.update(subtract=sub, multiply=mul, divide=div, negative=neg, absolute=abs,
                 relu_=TENSOR_METHODS["relu_"], sigmoid_=TENSOR_METHODS["sigmoid_"])

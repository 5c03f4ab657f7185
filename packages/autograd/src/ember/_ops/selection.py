"""Differentiable ops that pick one of their inputs per element: clamp, maximum, minimum and
where. Values come from ``ember_tensor.elementwise``; gradients are routed with masks."""
import warnings

from ember_tensor import _dtype as D
from ember_tensor import elementwise as E

from .._core.node import Node, record
from .._tensor import Tensor
from .indexing import nonzero
from ._common import data, is_t, out_, require_tensor


# ---- clamp ----------------------------------------------------------------------------------
def _inside(x, lo, hi):
    """Bool mask (no history) of where ``lo <= x <= hi``; a None bound is open."""
    mask = None
    if lo is not None:
        mask = E.ge(x, lo)
    if hi is not None:
        upper = E.le(x, hi)
        mask = upper if mask is None else E.logical_and(mask, upper)
    return Tensor._make(mask)


class ClampBackward1(Node):  # Number bounds
    def backward(self, g):
        (x,) = self.saved_tensors
        return (g * _inside(x._data, self.min, self.max),)


class ClampBackward0(Node):  # Tensor bounds
    def backward(self, g):
        x, lo, hi = self.saved_tensors
        xa = x._data
        ga = g * _inside(xa, data(lo), data(hi)) if self.needs_input_grad[0] else None
        glo = ghi = None
        if lo is not None and self.needs_input_grad[1]:
            glo = g * Tensor._make(E.lt(xa, lo._data))
        if hi is not None and self.needs_input_grad[2]:
            ghi = g * Tensor._make(E.gt(xa, hi._data))
        return ga, glo, ghi


def clamp(input, min=None, max=None, *, out=None):  # noqa: A002 - torch's names
    require_tensor(input, "clamp")
    res = E.clamp(input._data, data(min), data(max))
    if min is not None and max is not None and is_t(min) != is_t(max):
        # torch reads a 0-d tensor next to a Number bound as a Number (E.clamp refused others)
        min, max = (v.item() if is_t(v) else v for v in (min, max))
    if is_t(min) or is_t(max):
        return out_(record(ClampBackward0, res, (input, min, max),
                           save=(input, min if is_t(min) else None,
                                 max if is_t(max) else None)), out)
    return out_(record(ClampBackward1, res, (input,), save=(input,), min=min, max=max), out)


clip = clamp


def clamp_min(input, min):  # noqa: A002
    return clamp(input, min=min)


def clamp_max(input, max):  # noqa: A002
    return clamp(input, max=max)


# ---- maximum / minimum ----------------------------------------------------------------------
def _pick_grad(g, tie, loses):
    """torch's rule: half of ``g`` on ties, none where this input loses, else all of it.

    Written as "not losing" rather than "winning" so that a NaN (which neither wins nor
    loses a comparison) passes its gradient, as in torch.
    """
    return where(loses, g * 0, where(tie, g * 0.5, g))


class MaximumBackward0(Node):
    def backward(self, g):
        a, b = self.saved_tensors
        tie = a == b
        ga = _pick_grad(g, tie, a < b) if self.needs_input_grad[0] else None
        gb = _pick_grad(g, tie, a > b) if self.needs_input_grad[1] else None
        return ga, gb


class MinimumBackward0(Node):
    def backward(self, g):
        a, b = self.saved_tensors
        tie = a == b
        ga = _pick_grad(g, tie, a > b) if self.needs_input_grad[0] else None
        gb = _pick_grad(g, tie, a < b) if self.needs_input_grad[1] else None
        return ga, gb


def _extreme(kernel, node, name, input, other, out):
    require_tensor(input, name)
    require_tensor(other, name, "other", 2)
    res = kernel(input._data, other._data)
    return out_(record(node, res, (input, other), save=(input, other)), out)


def maximum(input, other, *, out=None) -> Tensor:
    return _extreme(E.maximum, MaximumBackward0, "maximum", input, other, out)


def minimum(input, other, *, out=None) -> Tensor:
    return _extreme(E.minimum, MinimumBackward0, "minimum", input, other, out)


# ---- where ----------------------------------------------------------------------------------
class WhereBackward0(Node):
    def backward(self, g):
        (cond,) = self.saved_tensors
        z = g * 0
        ga = where(cond, g, z) if self.needs_input_grad[1] else None
        gb = where(cond, z, g) if self.needs_input_grad[2] else None
        return None, ga, gb


def where(condition, input=None, other=None):
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    require_tensor(condition, "where", "condition")
    cond = condition._data
    if cond.dtype is D.uint8:
        warnings.warn(
            "where received a uint8 condition tensor. This behavior is deprecated and will be "
            "removed in a future version of PyTorch. Use a boolean condition instead.",
            UserWarning, stacklevel=2,
        )
        cond = E.ne(cond, 0)
        condition = Tensor._make(cond)
    res = E.where(cond, data(input), data(other))
    return record(WhereBackward0, res, (condition, input, other), save=(condition,))


FUNCTIONS = {
    "clamp": clamp, "clip": clamp, "clamp_min": clamp_min, "clamp_max": clamp_max,
    "maximum": maximum, "minimum": minimum, "where": where,
}
TENSOR_METHODS = dict(FUNCTIONS)
TENSOR_METHODS["where"] = lambda self, condition, other: where(condition, self, other)

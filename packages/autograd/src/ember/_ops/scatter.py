"""Differentiable writes through an index: scatter, scatter_add, scatter_reduce, index_add,
index_fill, index_copy, and their in-place forms.

Values come from ``ember_tensor.scatter``. The backwards are written with Tensor ops (gather,
index_select and these ops themselves) so that second derivatives work. torch's deprecated
``scatter(..., reduce=)`` has no derivative in torch; its node says so when asked.
"""
from __future__ import annotations

import warnings

import numpy as np

from ember_tensor import Array
from ember_tensor import scatter as K

from .._core.node import Node, record
from .._tensor import Tensor
from ._common import is_t, require_tensor, zeros_like
from .inplace import inplace
from .selection import where


def _not_implemented(op: str) -> type:
    """torch's placeholder node for an op without a derivative (its grad_fn prints
    ``<NotImplemented>``); backward raises torch's error."""

    def backward(self, *grads):
        raise RuntimeError(f"derivative for aten::{op} is not implemented")

    return type("NotImplemented", (Node,), {"backward": backward})


_ScatterReduceDeprecated = _not_implemented("scatter")


def _src_grad(node, gsrc):
    """src's gradient is read at the index, so it has the index's shape: a src larger than
    the index gets torch's refusal (its engine's words; index 1 counts only differentiable
    inputs)."""
    want = node._input_meta[2][0]
    if tuple(gsrc.shape) != tuple(want):
        raise RuntimeError(
            f"Function {node.name()} returned an invalid gradient at index 1 - got "
            f"{list(gsrc.shape)} but expected shape compatible with {list(want)}")
    return gsrc


# ---- scatter / scatter_add ------------------------------------------------------------------
class ScatterBackward0(Node):  # Tensor src
    def backward(self, g):
        (index,) = self.saved_tensors
        gs = scatter(g, self.dim, index, 0) if self.needs_input_grad[0] else None
        gsrc = _src_grad(self, g.gather(self.dim, index)) if self.needs_input_grad[2] else None
        return gs, None, gsrc


class ScatterBackward1(Node):  # Number value
    def backward(self, g):
        (index,) = self.saved_tensors
        return scatter(g, self.dim, index, 0), None


class ScatterAddBackward0(Node):
    def backward(self, g):
        (index,) = self.saved_tensors
        gsrc = _src_grad(self, g.gather(self.dim, index)) if self.needs_input_grad[2] else None
        return g, None, gsrc


def _dim(input, dim):
    from ember_tensor._array import _wrap_dim

    return _wrap_dim(dim, input.dim())


def scatter(input, dim: int, index, src=None, *, value=None, reduce: str | None = None):
    """``scatter(input, dim, index, src)`` or ``scatter(input, dim, index, value)``."""
    require_tensor(input, "scatter")
    require_tensor(index, "scatter", "index", 3)
    if src is None:
        src = value
    d = _dim(input, dim)
    if reduce is not None and is_t(src):
        warnings.warn(
            "The reduce argument of torch.scatter with Tensor src is deprecated and will be "
            "removed in a future PyTorch release. Use torch.scatter_reduce instead for more "
            "reduction options.", UserWarning, stacklevel=2)
    res = K.scatter(input._data, d, index._data, src._data if is_t(src) else src, reduce)
    if reduce is not None:
        return record(_ScatterReduceDeprecated, res, (input, index, src))
    if is_t(src):
        return record(ScatterBackward0, res, (input, index, src), save=(index,), dim=d)
    return record(ScatterBackward1, res, (input, index), save=(index,), dim=d)


def scatter_add(input, dim: int, index, src):
    require_tensor(input, "scatter_add")
    require_tensor(index, "scatter_add", "index", 3)
    require_tensor(src, "scatter_add", "src", 4)
    d = _dim(input, dim)
    res = K.scatter_add(input._data, d, index._data, src._data)
    return record(ScatterAddBackward0, res, (input, index, src), save=(index,), dim=d)


# ---- scatter_reduce -------------------------------------------------------------------------
class ScatterReduceBackward0(Node):
    def backward(self, g):
        x, index, src, out, hits = self.saved_tensors
        d, how = self.dim, self.reduce
        # without include_self, the positions written lose self's value, and its gradient
        lost = None if self.include_self else hits > 0
        if how == "sum":
            gx, gsrc = g, g.gather(d, index)
        elif how == "mean":
            share = g / (hits + (1 if self.include_self else 0)).clamp(min=1)
            gx, gsrc = share, share.gather(d, index)
        elif how in ("amax", "amin"):
            # torch counts self among the winners even where include_self=False drops it
            # (then masks self's share): the same shares here
            x_wins = x == out
            src_wins = src == out.gather(d, index)
            n = scatter_add(x_wins.to(g.dtype), d, index, src_wins.to(g.dtype))
            share = g / n.clamp(min=1)
            gx, gsrc = share * x_wins, share.gather(d, index) * src_wins
        else:
            gx, gsrc = _prod_grads(g, x, index, src, out, d, self.include_self)
        if lost is not None:
            gx = gx.masked_fill(lost, 0)
        return (gx if self.needs_input_grad[0] else None, None,
                _src_grad(self, gsrc) if self.needs_input_grad[2] else None)


def _prod_grads(g, x, index, src, out, d, include_self):
    """d prod / d element = the product of the others: out / element where it is nonzero;
    for a zero, the product with it replaced by 1 (zero again if another zero is there)."""
    one = 1.0
    x_zero = x == 0
    ones_x = where(x_zero, one, x)
    others_of_x = scatter_reduce(ones_x, d, index, src, "prod", include_self=include_self)
    gx = where(x_zero, g * others_of_x, g * out / ones_x)
    src_zero = src == 0
    zeros_there = scatter_add(zeros_like(x), d, index, src_zero.to(x.dtype)).gather(d, index)
    lone_zero = src_zero & (zeros_there == 1)
    others_of_src = scatter_reduce(x, d, index, where(lone_zero, one, src), "prod",
                                   include_self=include_self)
    gsrc = where(lone_zero, (g * others_of_src).gather(d, index),
                 where(src_zero, 0.0, (g * out).gather(d, index) / where(src_zero, one, src)))
    return gx, gsrc


def scatter_reduce(input, dim: int, index, src, reduce: str, *, include_self: bool = True):
    require_tensor(input, "scatter_reduce")
    require_tensor(index, "scatter_reduce", "index", 3)
    require_tensor(src, "scatter_reduce", "src", 4)
    d = _dim(input, dim)
    res, hits = K.scatter_reduce(input._data, d, index._data, src._data, reduce, include_self)
    how = {"max": "amax", "min": "amin"}.get(reduce, reduce)
    return record(ScatterReduceBackward0, res, (input, index, src),
                  save=(input, index, src, res, Tensor._make(hits)), dim=d, reduce=how,
                  include_self=include_self)


# ---- index_add / index_fill / index_copy ----------------------------------------------------
class IndexAddBackward0(Node):
    def backward(self, g):
        (index,) = self.saved_tensors
        gsrc = None
        if self.needs_input_grad[2]:
            gsrc = g.index_select(self.dim, index).reshape(self.src_shape)
            if self.alpha != 1:
                gsrc = gsrc * self.alpha
        return g, None, gsrc


def index_add(input, dim: int, index, source, *, alpha=1):
    require_tensor(input, "index_add")
    d = _dim(input, dim)
    res = K.index_add(input._data, d, index._data, source._data, alpha)
    return record(IndexAddBackward0, res, (input, index, source), save=(index,), dim=d,
                  alpha=alpha, src_shape=tuple(source.shape))


class IndexFillBackward0(Node):  # Number value
    def backward(self, g):
        (index,) = self.saved_tensors
        return index_fill(g, self.dim, index, 0), None


class IndexFillBackward1(Node):  # 0-d Tensor value
    def backward(self, g):
        (index,) = self.saved_tensors
        gx = index_fill(g, self.dim, index, 0) if self.needs_input_grad[0] else None
        gv = None
        if self.needs_input_grad[2]:  # each filled slice once, however often it is indexed
            once = Tensor._make(Array(np.unique(index._data._np.reshape(-1))))
            gv = g.index_select(self.dim, once).sum()
        return gx, None, gv


def index_fill(input, dim: int, index, value):
    require_tensor(input, "index_fill")
    d = _dim(input, dim)
    if is_t(value):
        if value.dim() != 0:
            raise RuntimeError(
                "index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value.dim()} dimension(s).")
        res = K.index_fill(input._data, d, index._data, value._data._np)
        return record(IndexFillBackward1, res, (input, index, value), save=(index,), dim=d)
    res = K.index_fill(input._data, d, index._data, value)
    return record(IndexFillBackward0, res, (input, index), save=(index,), dim=d)


class IndexCopyBackward0(Node):
    def backward(self, g):
        (index,) = self.saved_tensors
        gx = index_fill(g, self.dim, index, 0) if self.needs_input_grad[0] else None
        gsrc = None
        if self.needs_input_grad[2]:
            gsrc = g.index_select(self.dim, index).reshape(self.src_shape)
        return gx, None, gsrc


def index_copy(input, dim: int, index, source):
    require_tensor(input, "index_copy")
    d = _dim(input, dim)
    res = K.index_copy(input._data, d, index._data, source._data)
    return record(IndexCopyBackward0, res, (input, index, source), save=(index,), dim=d,
                  src_shape=tuple(source.shape))


scatter_ = inplace(scatter, "scatter")
scatter_add_ = inplace(scatter_add, "scatter_add")
scatter_reduce_ = inplace(scatter_reduce, "scatter_reduce")
index_add_ = inplace(index_add, "index_add")
index_fill_ = inplace(index_fill, "index_fill")
index_copy_ = inplace(index_copy, "index_copy")

FUNCTIONS = {
    "scatter": scatter, "scatter_add": scatter_add, "scatter_reduce": scatter_reduce,
    "index_add": index_add, "index_fill": index_fill, "index_copy": index_copy,
}
TENSOR_METHODS = dict(
    FUNCTIONS, scatter_=scatter_, scatter_add_=scatter_add_, scatter_reduce_=scatter_reduce_,
    index_add_=index_add_, index_fill_=index_fill_, index_copy_=index_copy_,
)

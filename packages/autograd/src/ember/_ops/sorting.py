"""Differentiable sorting and order statistics: sort, argsort, msort, topk, kthvalue, median,
nanmedian, mode, cummax/cummin, and the non-differentiable searchsorted and bucketize.

Values come from ``ember_tensor.sorting``. A value picked from the input sends its gradient
back to the index it came from (``_scatter_grad``, the adjoint of a gather, so second
derivatives work); the global median shares it evenly among the elements equal to it, as
torch does.
"""
from __future__ import annotations

import warnings

import numpy as np

from ember_tensor import Array
from ember_tensor import _dtype as D
from ember_tensor import sorting as S

from .. import return_types
from .._core.node import Node, record
from .._tensor import Tensor
from ._common import out_, require_tensor, write, zeros_like
from .indexing import _scatter_grad
from .scatter import scatter_add

_NOT_GIVEN = object()


# ---- the gradients --------------------------------------------------------------------------
class _PickedBackward(Node):
    """The gradient of values picked along ``self.dim`` goes to their source indices."""

    def backward(self, g, g_idx=None):
        (idx,) = self.saved_tensors
        return (_scatter_grad(g, idx, self.shape, self.dim, self.keepdim),)


class SortBackward0(_PickedBackward):
    pass


class SortBackward1(_PickedBackward):  # the overload with ``stable``
    pass


class TopkBackward0(_PickedBackward):
    pass


class KthvalueBackward0(_PickedBackward):
    pass


class MedianBackward1(_PickedBackward):
    pass


class NanmedianBackward1(_PickedBackward):
    pass


class ModeBackward0(_PickedBackward):
    pass


class _EvenlyBackward(Node):
    """The global median's gradient, shared by every element equal to it (NaN to NaN)."""

    def backward(self, g):
        x, out = self.saved_tensors
        mask = (x == out) | (x.isnan() & out.isnan())
        return (mask * (g / mask.sum()),)


class MedianBackward0(_EvenlyBackward):
    pass


class NanmedianBackward0(_EvenlyBackward):
    pass


class _CumulativeBackward(Node):
    def backward(self, g, g_idx=None):
        (x, idx) = self.saved_tensors
        if x.dim() == 0:
            return (g,)
        # the saved indices come back as an output of this node: use their data only
        return (scatter_add(zeros_like(g), self.dim, Tensor._make(idx._data), g),)


class CummaxBackward0(_CumulativeBackward):
    pass


class CumminBackward0(_CumulativeBackward):
    pass


# ---- the ops --------------------------------------------------------------------------------
def _picked(node, name, input, kernel_out, dim, keepdim):
    vals, idx = kernel_out
    out_v, out_i = record(node, (vals, idx), (input,), non_differentiable=(idx,), save=(idx,),
                          shape=tuple(input.shape), dim=dim, keepdim=keepdim)
    return getattr(return_types, name)(out_v, out_i)


def _dim(input, dim):
    from ember_tensor._array import _wrap_dim

    return _wrap_dim(dim, input.dim())


def _one_overload(name, method, args, kwargs):
    """torch's sort/argsort have two overloads, ``(input, dim=-1, descending=False)`` and
    ``(input, *, stable, dim=-1, descending=False)``: with ``stable=`` nothing else may be
    positional. Its parser's TypeError, first line (README: the signature list is left out)."""
    if "stable" in kwargs and args:
        got = ["Tensor"] if not method else []
        got += [type(a).__name__ for a in args]
        order = ("stable", "dim", "descending")  # torch names keywords in signature order
        named = sorted((k for k in kwargs if k != "out"),
                       key=lambda k: order.index(k) if k in order else len(order))
        got += [f"{k}={type(kwargs[k]).__name__}" for k in named]
        raise TypeError(f"{name}() received an invalid combination of arguments - got "
                        f"({', '.join(got)}), but expected one of:")


def _checked(fn, name, method):
    def op(input, *args, **kwargs):
        _one_overload(name, method, args, kwargs)
        return fn(input, *args, **kwargs)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = fn.__doc__
    return op


def _sort(input, dim: int = -1, descending: bool = False, stable=_NOT_GIVEN, *, out=None):
    require_tensor(input, "sort")
    node = SortBackward0 if stable is _NOT_GIVEN else SortBackward1
    d = _dim(input, dim)
    res = _picked(node, "sort", input, S.sort(input._data, d, bool(descending)), d, True)
    return _out_pair(res, out)


def _out_pair(res, out):
    """Write (values, indices) into the ``out=`` pair, resized as torch resizes outputs, and
    return them as torch's ``<op>_out`` return type."""
    if out is None:
        return res
    values, indices = out
    if indices.dtype is not D.int64:
        got = indices.dtype.cpp_name
        raise RuntimeError(f"Expected out tensor to have dtype long int, but got {got} instead")
    for dst, src in zip(out, res):
        if tuple(dst.shape) != tuple(src.shape):
            if dst.numel():
                warnings.warn(
                    "An output with one or more elements was resized since it had shape "
                    f"{list(dst.shape)}, which does not match the required output shape "
                    f"{list(src.shape)}. This behavior is deprecated, and in a future PyTorch "
                    "release outputs will not be resized unless they have zero elements. You "
                    "can explicitly reuse an out tensor t by resizing it, inplace, to zero "
                    "elements with t.resize_(0).", UserWarning, stacklevel=3)
            dst._data = Array(np.empty(src._data._np.shape, dtype=dst._data._np.dtype))
        write(dst, src)
        dst._version_counter[0] += 1
    return getattr(return_types, type(res).__name__ + "_out")(values, indices)




def _argsort(input, dim: int = -1, descending: bool = False, stable: bool = False):
    require_tensor(input, "argsort")
    return Tensor._make(S.argsort(input._data, dim, bool(descending)))


def msort(input, *, out=None):
    require_tensor(input, "msort")
    res = _sort(input, 0).values
    if out is None:
        return res
    return out_(res, out)


def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True,  # noqa: A002
         *, out=None):
    require_tensor(input, "topk")
    d = _dim(input, dim)
    res = _picked(TopkBackward0, "topk", input, S.topk(input._data, k, d, largest, sorted), d,
                  True)
    return _out_pair(res, out)


def kthvalue(input, k: int, dim: int = -1, keepdim: bool = False, *, out=None):
    require_tensor(input, "kthvalue")
    d = _dim(input, dim)
    res = _picked(KthvalueBackward0, "kthvalue", input, S.kthvalue(input._data, k, d, keepdim),
                  d, keepdim)
    return _out_pair(res, out)


def _median(kernel, node_all, node_dim, name, input, dim, keepdim, out):
    require_tensor(input, name)
    if dim is None:
        res = kernel(input._data)
        return record(node_all, res, (input,), save=(input, res))
    d = _dim(input, dim)
    return _out_pair(_picked(node_dim, name, input, kernel(input._data, d, keepdim), d,
                             keepdim), out)


def median(input, dim: int | None = None, keepdim: bool = False, *, out=None):
    return _median(S.median, MedianBackward0, MedianBackward1, "median", input, dim, keepdim,
                   out)


def nanmedian(input, dim: int | None = None, keepdim: bool = False, *, out=None):
    return _median(S.nanmedian, NanmedianBackward0, NanmedianBackward1, "nanmedian", input,
                   dim, keepdim, out)


def mode(input, dim: int = -1, keepdim: bool = False, *, out=None):
    require_tensor(input, "mode")
    d = _dim(input, dim)
    return _out_pair(_picked(ModeBackward0, "mode", input, S.mode(input._data, d, keepdim), d,
                             keepdim), out)


def _cumulative(kernel, node, name, input, dim, out):
    require_tensor(input, name)
    d = _dim(input, dim)
    vals, idx = kernel(input._data, d)
    out_v, out_i = record(node, (vals, idx), (input,), non_differentiable=(idx,),
                          save=(input, idx), dim=d)
    return _out_pair(getattr(return_types, name)(out_v, out_i), out)


def cummax(input, dim: int, *, out=None):
    return _cumulative(S.cummax, CummaxBackward0, "cummax", input, dim, out)


def cummin(input, dim: int, *, out=None):
    return _cumulative(S.cummin, CumminBackward0, "cummin", input, dim, out)


def searchsorted(sorted_sequence, input, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, sorter=None, out=None):
    require_tensor(sorted_sequence, "searchsorted", "sorted_sequence")
    values = input._data if hasattr(input, "_data") else input
    res = Tensor._make(S.searchsorted(
        sorted_sequence._data, values, out_int32=out_int32, right=right, side=side,
        sorter=None if sorter is None else sorter._data))
    if out is None:
        return res
    return out_(res, out)


def bucketize(input, boundaries, *, out_int32: bool = False, right: bool = False, out=None):
    require_tensor(boundaries, "bucketize", "boundaries", 2)
    values = input._data if hasattr(input, "_data") else input
    res = Tensor._make(S.bucketize(values, boundaries._data, out_int32=out_int32, right=right))
    if out is None:
        return res
    return out_(res, out)


sort = _checked(_sort, "sort", method=False)
argsort = _checked(_argsort, "argsort", method=False)

TENSOR_METHODS = {
    "sort": _checked(_sort, "sort", method=True),
    "argsort": _checked(_argsort, "argsort", method=True), "msort": msort, "topk": topk,
    "kthvalue": kthvalue,
    "median": median, "nanmedian": nanmedian, "mode": mode, "cummax": cummax,
    "cummin": cummin,
}
FUNCTIONS = dict(TENSOR_METHODS, sort=sort, argsort=argsort, searchsorted=searchsorted,
                 bucketize=bucketize)

"""Differentiable indexing: ``t[idx]``, ``t[idx] = v``, index_select, gather, masked_fill.

Every backward here is a scatter-add of the gradient into zeros at the positions the forward
read (``_scatter_add``), and its own backward is the matching read (``_take``); the two are
adjoint, so second derivatives work too.
"""
import builtins
from typing import Any

import numpy as np

from ember_tensor import Array
from ember_tensor import _dtype as D
from ember_tensor import elementwise as E
from ember_tensor._array import _wrap_dim, np_getitem
from ember_tensor._indexing import _convert
from ember_tensor.scatter import check_bounds

from .. import _grad_mode as grad_mode
from .._tensor import Tensor
from .._core.node import Node, record
from .inplace import inplace


# ---- the adjoint pair ----------------------------------------------------------------------
class IndexBackward0(Node):
    def backward(self, g):
        return (_scatter_add(g, self.shape, self.index),)


class SliceBackward0(IndexBackward0):
    pass


class SelectBackward0(IndexBackward0):
    pass


class UnsqueezeBackward0(IndexBackward0):
    pass


class AliasBackward0(IndexBackward0):
    pass


class IndexPutBackwardBackward(Node):
    """The scatter-add's backward: read the gradient back at the same positions."""

    def backward(self, g):
        return (_take(g, self.index),)


def _take(x, index, node_cls=IndexBackward0):
    res = Array(np_getitem(x._data._np, index))
    return record(node_cls, res, (x,), shape=tuple(x.shape), index=index)


def _scatter_add(g, shape, index):
    z = np.zeros(shape, dtype=g._data._np.dtype)
    if _is_basic(index):
        z[index] = g._data._np
    else:
        np.add.at(z, index, g._data._np)
    return record(IndexPutBackwardBackward, Array(z), (g,), index=index)


def _embed(g, shape, index):
    return _scatter_add(g, shape, index)


def _is_basic(index):
    items = index if isinstance(index, tuple) else (index,)
    return builtins.all(
        i is None or i is Ellipsis or isinstance(i, (builtins.int, slice)) and not isinstance(
            i, builtins.bool) for i in items)


def _unwrap_index(index):
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, list) and builtins.any(isinstance(i, Tensor) for i in index):
        return tuple(i._data if isinstance(i, Tensor) else i for i in index)
    return index


def getitem(input, index) -> Tensor:
    np_index = _convert(_unwrap_index(index), input._data._np.shape)
    if _is_basic(np_index):
        res: Any = Array(np_getitem(input._data._np, np_index))  # below: an ndarray
        cls = AliasBackward0  # torch names the node after the last view op it applied
        for i in (np_index if isinstance(np_index, tuple) else (np_index,)):
            if isinstance(i, builtins.int):
                cls = SelectBackward0
            elif i is None:
                cls = UnsqueezeBackward0
            elif isinstance(i, slice) and i != slice(None):
                cls = SliceBackward0
            elif isinstance(i, slice) and cls is AliasBackward0:
                cls = SliceBackward0
        return record(cls, res, (input,), view_of=input, shape=tuple(input.shape),
                      index=np_index)
    res = np_getitem(input._data._np, np_index)  # a copy already: advanced indexing
    if not res.flags.c_contiguous:  # (np.ascontiguousarray would make a 0-d result 1-d)
        res = res.copy(order="C")
    return record(IndexBackward0, Array(res), (input,), shape=tuple(input.shape),
                  index=np_index)


class CopySlices(Node):
    """``t[index] = value``: the overwritten positions pass no gradient back to ``t``; a
    Tensor ``value`` gets the gradient read at them. A Python number is no input of the node
    (``record`` links only Tensors' grads), so the node then returns one gradient, not two."""

    def backward(self, g):
        gs = None
        if self.needs_input_grad[0]:
            gs = g * Tensor._make(Array(_mask(self.shape, self.index).astype(g.dtype.np)))
        if len(self.needs_input_grad) == 1:
            return (gs,)
        return gs, _take(g, self.index) if self.needs_input_grad[1] else None


class IndexPutBackward0(CopySlices):
    """The same node under torch's name for assignment through a mask or index tensor."""


def _mask(shape, index):
    m = np.ones(shape, dtype=np.bool_)
    m[index] = False
    return m


def setitem(input, index, value):
    input._check_inplace()
    np_index = _convert(_unwrap_index(index), input._data._np.shape)
    v = value._data._np if isinstance(value, Tensor) else value
    dst = input._data._np
    try:
        if isinstance(v, np.ndarray) and v.dtype != dst.dtype:
            v = v.astype(dst.dtype)
        dst[np_index] = v
    except ValueError as err:
        target = dst[np_index].shape
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(np.shape(v))} cannot be broadcast to "
            f"indexing result of shape {list(target)}"
        ) from err
    needs = grad_mode._state.grad_enabled and (
        input._requires_grad or (isinstance(value, Tensor) and value._requires_grad))
    if needs:
        inputs = (input, value) if isinstance(value, Tensor) else (input,)
        cls = CopySlices if _is_basic(np_index) else IndexPutBackward0
        record(cls, input, inputs, shape=tuple(input.shape), index=np_index)
    else:
        input._version_counter[0] += 1


# ---- index_select / gather / masked_fill / nonzero ------------------------------------------
def _check_index(index, name):
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index.dtype not in (D.int64, D.int32):
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")


class IndexSelectBackward0(Node):
    def backward(self, g):
        return (_scatter_add(g, self.shape, self.index), None)


def index_select(input, dim, index) -> Tensor:
    _check_index(index, "index_select")
    d = _wrap_dim(dim, input.dim())
    idx = index._data._np.reshape(-1).astype(np.int64)
    size = input.shape[d] if input.dim() else 1
    if idx.size and (idx.max() >= size or idx.min() < -size):
        raise IndexError("index out of range in self")
    np_index = (slice(None),) * d + (idx,)
    res = Array(np.ascontiguousarray(input._data._np[np_index]))
    return record(IndexSelectBackward0, res, (input, index), shape=tuple(input.shape),
                  index=np_index)


def _gather_index(shape_idx, idx, d):
    mesh = list(np.indices(shape_idx, sparse=True))
    mesh[d] = idx
    return tuple(mesh)


class GatherBackward0(Node):
    def backward(self, g):
        return (_scatter_add(g, self.shape, self.index), None)


def gather(input, dim, index, *, sparse_grad=False) -> Tensor:
    _check_index(index, "gather")
    d = _wrap_dim(dim, input.dim())
    idx = index._data._np.astype(np.int64)
    if max(idx.ndim, 1) != max(input.dim(), 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    if input.dim() == 0:  # as a one-element vector
        return gather(input.reshape(1), 0, index.reshape(1)).reshape(index.shape)
    for i, (n, m) in enumerate(zip(idx.shape, input.shape)):
        if i != d and n > m:
            raise RuntimeError(
                f"Size does not match at dimension {i} expected index {list(idx.shape)} to be no "
                f"larger than self {list(input.shape)} apart from dimension {d}")
    check_bounds(idx, input.shape[d], d)
    np_index = _gather_index(idx.shape, idx, d)
    res = Array(np.asarray(input._data._np[np_index]))
    return record(GatherBackward0, res, (input, index), shape=tuple(input.shape),
                  index=np_index)


def take_along_dim(input, indices, dim) -> Tensor:
    return gather(input, dim, indices)


def _scatter_grad(g, idx, shape, dim, keepdim):
    """Gradient of max/min along ``dim``: ``g`` goes to the arg positions ``idx``."""
    i = idx._data._np
    if not keepdim and len(shape):
        i = np.expand_dims(i, dim)
        g = g.unsqueeze(dim)
    if not len(shape):
        return g.reshape(shape)
    np_index = _gather_index(i.shape, i, dim)
    return _scatter_add(g, shape, np_index)


class MaskedFillBackward0(Node):
    def backward(self, g):
        (mask,) = self.saved_tensors
        return (g * mask.logical_not(), None, None)


def masked_fill(input, mask, value) -> Tensor:
    if not isinstance(mask, Tensor) or mask.dtype is not D.bool:
        raise RuntimeError(
            "masked_fill_ only supports boolean masks, but got mask with dtype "
            f"{mask.dtype if isinstance(mask, Tensor) else type(mask).__name__}"
        )
    v = value._data._np if isinstance(value, Tensor) else value
    fill = Array(np.asarray(v, dtype=input._data._np.dtype))  # the result keeps input's dtype
    out = E.where(mask._data, fill, input._data)
    if out._np.shape != input._data._np.shape:
        out = Array(np.ascontiguousarray(np.broadcast_to(out._np, input._data._np.shape)))
    return record(MaskedFillBackward0, out, (input, mask, value), save=(mask,))


def masked_fill_(input, mask, value) -> Tensor:
    return inplace(masked_fill, "masked_fill")(input, mask, value)


def masked_select(input, mask) -> Tensor:
    m = np.broadcast_to(mask._data._np, input.shape)
    return getitem(input, Tensor._make(Array(np.ascontiguousarray(m))))


def nonzero(input, *, as_tuple=False):
    v = input._data._np
    if v.ndim == 0:  # torch counts a 0-d input as one element at index 0 (NumPy refuses)
        if as_tuple:
            return (Tensor._make(Array(np.zeros(1 if v else 0, dtype=np.int64))),)
        return Tensor._make(Array(np.zeros((1 if v else 0, 0), dtype=np.int64)))
    nz = np.nonzero(v)
    if as_tuple:
        return tuple(Tensor._make(Array(x.astype(np.int64))) for x in nz)
    return Tensor._make(Array(np.ascontiguousarray(np.stack(nz, axis=1).astype(np.int64))))


TENSOR_METHODS = {
    "__getitem__": getitem, "__setitem__": setitem, "index_select": index_select,
    "gather": gather, "take_along_dim": take_along_dim, "masked_fill": masked_fill,
    "masked_fill_": masked_fill_, "masked_select": masked_select, "nonzero": nonzero,
}
FUNCTIONS = {
    "index_select": index_select, "gather": gather, "take_along_dim": take_along_dim,
    "masked_fill": masked_fill, "masked_select": masked_select, "nonzero": nonzero,
}

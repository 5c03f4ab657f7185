"""Counting and repeating: unique, unique_consecutive, bincount, histc, argwhere and
repeat_interleave.

Only repeat_interleave is differentiable. torch gives unique's and bincount's outputs a node
that refuses to differentiate (so they require grad when the input does); Ember does the same,
with torch's node names and errors. histc's result never requires grad, as in torch.
"""
from __future__ import annotations

from ember_tensor import counting as K
from ember_tensor._array import _wrap_dim

from .._core.node import Node, record
from .._tensor import Tensor
from ._common import is_t, out_, require_tensor


def _refusing(name: str, op: str, error: type = NotImplementedError) -> type:
    """A node class named ``name`` whose backward raises torch's error for ``op``."""

    def backward(self, *grads):
        if error is NotImplementedError:
            raise NotImplementedError(f"the derivative for '{op}' is not implemented.")
        raise RuntimeError(f"derivative for aten::{op} is not implemented")

    return type(name, (Node,), {"backward": backward})


Unique2Backward0 = _refusing("Unique2Backward0", "_unique2")
UniqueDimBackward0 = _refusing("UniqueDimBackward0", "unique_dim")
UniqueConsecutiveBackward0 = _refusing("UniqueConsecutiveBackward0", "unique_consecutive")
UniqueDimConsecutiveBackward0 = _refusing("UniqueDimConsecutiveBackward0",
                                          "unique_dim_consecutive")
_BincountNode = _refusing("NotImplemented", "bincount", RuntimeError)


def _pick(values, inverse, counts, return_inverse, return_counts):
    if not (return_inverse or return_counts):
        return values
    out = (values,)
    if return_inverse:
        out += (Tensor._make(inverse),)
    if return_counts:
        out += (Tensor._make(counts),)
    return out


def unique(input, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None):
    require_tensor(input, "unique")
    vals, inv, cnt = K.unique(input._data, return_inverse, return_counts, dim)
    node = Unique2Backward0 if dim is None else UniqueDimBackward0
    return _pick(record(node, vals, (input,)), inv, cnt, return_inverse, return_counts)


def unique_consecutive(input, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None):
    require_tensor(input, "unique_consecutive")
    vals, inv, cnt = K.unique_consecutive(input._data, dim)
    node = UniqueConsecutiveBackward0 if dim is None else UniqueDimConsecutiveBackward0
    return _pick(record(node, vals, (input,)), inv, cnt, return_inverse, return_counts)


def bincount(input, weights=None, minlength: int = 0):
    require_tensor(input, "bincount")
    res = K.bincount(input._data, None if weights is None else weights._data, minlength)
    if weights is None:
        return Tensor._make(res)
    return record(_BincountNode, res, (weights,))


def histc(input, bins: int = 100, min: float = 0, max: float = 0, *, out=None):  # noqa: A002
    require_tensor(input, "histc")
    return out_(Tensor._make(K.histc(input._data, bins, min, max)), out)


def argwhere(input):
    require_tensor(input, "argwhere")
    return Tensor._make(K.argwhere(input._data))


class ViewBackward0(Node):
    """repeat_interleave by an int: torch expands and flattens, hence the view's name; the
    gradient sums each element's copies."""

    def backward(self, g):
        shape, d, r = self.shape, self.dim, self.repeats
        lead, n = shape[:d], shape[d] if shape else 1
        g = g.reshape(lead + (n, r) + shape[d + 1:]).sum(d + 1)
        return (g.reshape(self.input_shape),)


def repeat_interleave(input, repeats=None, dim: int | None = None, *,
                      output_size: int | None = None):
    require_tensor(input, "repeat_interleave")
    if repeats is None:  # repeat_interleave(repeats): the indices, each repeated
        return Tensor._make(K.repeat_counts(input._data))
    if is_t(repeats):
        src = input.reshape(-1) if dim is None else input
        d = 0 if dim is None else _wrap_dim(dim, input.dim())
        if src.dim() == 0:
            src = src.reshape(1)
        K.repeat_interleave(src._data, repeats._data, d)  # torch's checks of the repeats
        r = repeats.reshape(-1)
        if r.numel() == 1:
            r = r.expand(src.shape[d])
        return src.index_select(d, Tensor._make(K.repeat_counts(r._data)))
    res = K.repeat_interleave(input._data, repeats, dim)
    if dim is None:
        shape, d = (input.numel(),), 0
    else:
        d = _wrap_dim(dim, input.dim())
        shape = tuple(input.shape) or (1,)
    return record(ViewBackward0, res, (input,), shape=shape, dim=d, repeats=int(repeats),
                  input_shape=tuple(input.shape))


FUNCTIONS = {
    "unique": unique, "unique_consecutive": unique_consecutive, "bincount": bincount,
    "histc": histc, "argwhere": argwhere, "repeat_interleave": repeat_interleave,
}
TENSOR_METHODS = dict(FUNCTIONS)

"""Differentiable diagonals and triangles: diag, diagonal (a view), diag_embed, trace,
tril/triu and their in-place forms.

Values come from ``ember_tensor.diagonal``. Taking a diagonal and writing one into zeros
are adjoint, so each backward is the other op (``_diagonal_scatter`` records its own node,
whose backward takes the diagonal again) and second derivatives work.
"""
from __future__ import annotations

import numpy as np

from ember_tensor import Array
from ember_tensor import diagonal as K
from ember_tensor._array import _wrap_dim

from .._core.node import Node, record
from .._tensor import Tensor
from ._common import out_, require_tensor
from .inplace import inplace


class DiagonalScatterBackward0(Node):
    def backward(self, g):
        return (diagonal(g, self.offset, self.dim1, self.dim2),)


def _diagonal_scatter(g, shape, offset, dim1, dim2):
    """Zeros of ``shape`` with ``g`` on the ``offset`` diagonal of dims (dim1, dim2)."""
    z = np.zeros(shape, dtype=g._data._np.dtype)
    K.diagonal_view(z, offset, dim1, dim2)[...] = g._data._np
    return record(DiagonalScatterBackward0, Array(z), (g,), offset=offset, dim1=dim1,
                  dim2=dim2)


class DiagonalBackward0(Node):
    def backward(self, g):
        return (_diagonal_scatter(g, self.shape, self.offset, self.dim1, self.dim2),)


# torch computes diag of a matrix as a copy of the diagonal view, and names the node so
DiagonalBackward0_copy = type("DiagonalBackward0_copy", (DiagonalBackward0,), {})


def diagonal(input, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    require_tensor(input, "diagonal")
    res = K.diagonal(input._data, offset, dim1, dim2)
    n = input.dim()
    d1, d2 = _wrap_dim(dim1, n), _wrap_dim(dim2, n)
    return record(DiagonalBackward0, res, (input,), view_of=input, shape=tuple(input.shape),
                  offset=offset, dim1=d1, dim2=d2)


class DiagEmbedBackward0(Node):
    def backward(self, g):
        return (diagonal(g, self.offset, self.dim1, self.dim2),)


def diag_embed(input, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    require_tensor(input, "diag_embed")
    res = K.diag_embed(input._data, offset, dim1, dim2)
    n = res.ndim
    return record(DiagEmbedBackward0, res, (input,), offset=offset, dim1=_wrap_dim(dim1, n),
                  dim2=_wrap_dim(dim2, n))


def diag(input, diagonal: int = 0, *, out=None) -> Tensor:
    require_tensor(input, "diag")
    if input.dim() == 1:
        res = diag_embed(input, diagonal, 0, 1)
    else:
        arr = K.diag(input._data, diagonal)
        res = record(DiagonalBackward0_copy, arr, (input,), shape=tuple(input.shape),
                     offset=diagonal, dim1=0, dim2=1)
    return out_(res, out)


class TraceBackward0(Node):
    def backward(self, g):
        n = min(self.shape)
        return (_diagonal_scatter(g.expand(n), self.shape, 0, 0, 1),)


def trace(input) -> Tensor:
    require_tensor(input, "trace")
    return record(TraceBackward0, K.trace(input._data), (input,), shape=tuple(input.shape))


class TrilBackward0(Node):
    def backward(self, g):
        return (tril(g, self.diagonal),)


class TriuBackward0(Node):
    def backward(self, g):
        return (triu(g, self.diagonal),)


def _triangle(kernel, node, name, input, diagonal, out):
    require_tensor(input, name)
    res = record(node, kernel(input._data, diagonal), (input,), diagonal=diagonal)
    return out_(res, out)


def tril(input, diagonal: int = 0, *, out=None) -> Tensor:
    return _triangle(K.tril, TrilBackward0, "tril", input, diagonal, out)


def triu(input, diagonal: int = 0, *, out=None) -> Tensor:
    return _triangle(K.triu, TriuBackward0, "triu", input, diagonal, out)


tril_ = inplace(tril, "tril")
triu_ = inplace(triu, "triu")

FUNCTIONS = {
    "diag": diag, "diagonal": diagonal, "diag_embed": diag_embed, "trace": trace,
    "tril": tril, "triu": triu,
}
TENSOR_METHODS = dict(FUNCTIONS, tril_=tril_, triu_=triu_)

"""Diagonals and triangles: diagonal (a writable view, as torch's), diag_embed, diag, trace,
tril and triu, with torch's dims, dtypes and messages."""
from __future__ import annotations

import numpy as np

from ._array import Array, _wrap_dim

__all__ = ["diagonal", "diag_embed", "diag", "trace", "tril", "triu", "ARRAY_METHODS"]


def _two_dims(ndim, dim1, dim2):
    d1, d2 = _wrap_dim(dim1, ndim), _wrap_dim(dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


def diagonal_view(v: np.ndarray, offset: int = 0, dim1: int = 0,
                  dim2: int = 1) -> np.ndarray:
    """The diagonal as a strided view sharing ``v``'s memory (NumPy's own is read-only):
    the two dims are dropped and one of the diagonal's length is appended."""
    d1, d2 = _two_dims(v.ndim, dim1, dim2)
    n1, n2 = v.shape[d1], v.shape[d2]
    if offset >= 0:
        length, start = max(min(n1, n2 - offset), 0), (0, offset)
    else:
        length, start = max(min(n1 + offset, n2), 0), (-offset, 0)
    keep = [i for i in range(v.ndim) if i not in (d1, d2)]
    shape = tuple(v.shape[i] for i in keep) + (length,)
    strides = tuple(v.strides[i] for i in keep) + (v.strides[d1] + v.strides[d2],)
    if length == 0:
        return np.empty(shape, dtype=v.dtype)
    first = [0] * v.ndim
    first[d1], first[d2] = start
    base = v[tuple(slice(f, None) for f in first)]
    return np.lib.stride_tricks.as_strided(base, shape, strides, writeable=v.flags.writeable)


def diagonal(a: Array, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Array:
    return Array(diagonal_view(a._np, offset, dim1, dim2))


def diag_embed(a: Array, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Array:
    """Each vector along the last dim placed on the ``offset`` diagonal of the (dim1, dim2)
    planes of a new array, one dim bigger, zeros elsewhere."""
    v = a._np
    nd = v.ndim + 1
    d1, d2 = _two_dims(nd, dim1, dim2)
    n = (v.shape[-1] if v.ndim else 1) + abs(offset)
    rest = list(v.shape[:-1])
    shape = []
    for i in range(nd):
        shape.append(n if i in (d1, d2) else rest.pop(0))
    out = np.zeros(shape, dtype=v.dtype)
    diagonal_view(out, offset, d1, d2)[...] = v
    return Array(out)


def diag(a: Array, diagonal: int = 0) -> Array:
    v = a._np
    if v.ndim == 1:
        return diag_embed(a, diagonal, 0, 1)
    if v.ndim == 2:
        return Array(diagonal_view(v, diagonal).copy())
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {v.ndim}D")


def trace(a: Array) -> Array:
    v = a._np
    if v.dtype == np.bool_:
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    if v.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {v.ndim}")
    out_dt = v.dtype if v.dtype.kind == "f" else np.int64  # integer traces sum in int64
    return Array(np.asarray(np.trace(v, dtype=out_dt)))


def _triangle(fn, name, a, diagonal):
    v = a._np
    if v.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    return Array(fn(v, diagonal))


def tril(a: Array, diagonal: int = 0) -> Array:
    return _triangle(np.tril, "tril", a, diagonal)


def triu(a: Array, diagonal: int = 0) -> Array:
    return _triangle(np.triu, "triu", a, diagonal)


ARRAY_METHODS = {
    "diagonal": diagonal, "diag_embed": diag_embed, "diag": diag, "trace": trace,
    "tril": tril, "triu": triu,
}

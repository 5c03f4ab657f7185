"""Writes through an index: scatter, scatter_add, scatter_reduce, index_add, index_fill and
index_copy, with torch's argument checks and messages. Each returns a new Array (the
in-place forms copy it back), so the autograd layer can keep the input for backward.

Accumulation runs through NumPy's ``ufunc.at`` on the flattened output with linear indices:
since NumPy 1.25 that is a C loop over the elements, in index order, so float sums round as
torch's sequential CPU loop does. Where two writes hit one position, the later one wins.
"""
from __future__ import annotations

import numpy as np

from ._array import Array, _wrap_dim

__all__ = [
    "check_index_dtype", "check_bounds", "scatter", "scatter_add", "scatter_reduce", "index_add",
    "index_fill", "index_copy", "scatter_positions", "ARRAY_METHODS",
]

_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def check_index_dtype(index: Array, name: str, *, show: bool = False) -> np.ndarray:
    """The index as an int64 ndarray, or torch's error for a non-integer index."""
    v = index._np
    if v.dtype not in (np.int64, np.int32):
        got = f" but got: {index.dtype.torch_name}" if show else ""
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index{got}")
    return v.astype(np.int64, copy=False)


def check_bounds(idx: np.ndarray, size: int, dim: int, prefix: str = "",
                 err: type = RuntimeError) -> None:
    """torch's error for the first index (in element order) outside [0, size)."""
    if idx.size and (idx.max() >= size or idx.min() < 0):
        bad = int(idx.reshape(-1)[np.flatnonzero((idx < 0) | (idx >= size))[0]])
        raise err(f"{prefix}index {bad} is out of bounds for dimension {dim} with size {size}")


def scatter_positions(shape, dim: int, idx: np.ndarray) -> np.ndarray:
    """Linear positions in an array of ``shape`` written by a scatter along ``dim``: element
    ``i`` of ``idx`` goes to ``i`` with its ``dim`` coordinate replaced by ``idx[i]``."""
    if not shape:
        return idx.reshape(-1) * 0
    strides = np.cumprod((1,) + tuple(shape[:0:-1]))[::-1]
    lin = np.zeros(idx.shape, dtype=np.int64)
    for d, (st, n) in enumerate(zip(strides, idx.shape)):
        coord = idx if d == dim else np.arange(n, dtype=np.int64).reshape(
            (-1,) + (1,) * (idx.ndim - 1 - d))
        lin = lin + coord * st
    return lin.reshape(-1)


def _scatter_args(a, dim, index, src, name):
    """Torch's checks of a scatter's operands; returns (dim, idx, src part or None)."""
    v = a._np
    d = _wrap_dim(dim, v.ndim)
    idx = check_index_dtype(index, name)
    nd = max(v.ndim, 1)
    if isinstance(src, Array) and src._np.dtype != v.dtype:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
    if max(idx.ndim, 1) != nd:
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if isinstance(src, Array) and max(src._np.ndim, 1) != max(idx.ndim, 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    ishape = idx.shape or (1,)
    sshape = v.shape or (1,)
    too_big = any(ishape[i] > sshape[i] for i in range(nd) if i != d)
    if isinstance(src, Array):
        srcshape = src._np.shape or (1,)
        too_big = too_big or any(i > s for i, s in zip(ishape, srcshape))
        if too_big:
            raise RuntimeError(
                f"Expected index {list(idx.shape)} to be no larger than self {list(v.shape)} "
                f"apart from dimension {d} and to be no larger size than src "
                f"{list(src._np.shape)}")
    elif too_big:
        raise RuntimeError(
            f"Expected index {list(idx.shape)} to be no larger than self {list(v.shape)} "
            f"apart from dimension {d}")
    check_bounds(idx, sshape[d], d)
    part = None
    if isinstance(src, Array):
        s = src._np.reshape(srcshape)
        part = s[tuple(slice(0, n) for n in ishape)].reshape(-1)
    return d, idx.reshape(ishape), part


def scatter(a: Array, dim: int, index: Array, src, reduce: str | None = None) -> Array:
    """``src`` (an Array, or a number for every position) written at ``index`` along dim."""
    if reduce is not None and reduce not in ("add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    d, idx, part = _scatter_args(a, dim, index, src, "scatter")
    out = a._np.copy()
    pos = scatter_positions(out.shape, d, idx)
    vals = part if part is not None else np.full(pos.shape, src, dtype=out.dtype)
    flat = out.reshape(-1)
    if reduce == "add":
        np.add.at(flat, pos, vals)
    elif reduce == "multiply":
        np.multiply.at(flat, pos, vals)
    else:
        flat[pos] = vals  # NumPy writes in order: the last duplicate wins
    return Array(out)


def scatter_add(a: Array, dim: int, index: Array, src: Array) -> Array:
    d, idx, part = _scatter_args(a, dim, index, src, "scatter_add")
    out = a._np.copy()
    np.add.at(out.reshape(-1), scatter_positions(out.shape, d, idx), part)
    return Array(out)


def _identity(reduce, dtype):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    big = np.inf if dtype.kind == "f" else (
        True if dtype == np.bool_ else np.iinfo(dtype).max)
    return -big if reduce == "amax" and dtype.kind == "f" else (
        (False if dtype == np.bool_ else np.iinfo(dtype).min) if reduce == "amax" else big)


def scatter_reduce(a: Array, dim: int, index: Array, src: Array, reduce: str,
                   include_self: bool = True) -> tuple[Array, Array]:
    """(result, how many ``src`` elements landed on each position); the backward needs
    the counts."""
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)  # torch accepts these too
    if reduce not in _REDUCTIONS:
        raise RuntimeError(
            f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if reduce == "mean" and a._np.dtype == np.bool_:
        raise NotImplementedError(
            "\"scatter_gather_tensor_cpu_reduce_mean\" not implemented for 'Bool'")
    d, idx, part = _scatter_args(a, dim, index, src, "scatter_reduce")
    out = a._np.copy()
    flat = out.reshape(-1)
    pos = scatter_positions(out.shape, d, idx)
    hits = np.zeros(flat.shape, dtype=np.int64)
    np.add.at(hits, pos, 1)
    if not include_self:
        flat[pos] = _identity(reduce, out.dtype)
    ufunc = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum,
             "amin": np.minimum}[reduce]
    ufunc.at(flat, pos, part)
    if reduce == "mean":
        c = np.maximum(hits + (1 if include_self else 0), 1).reshape(out.shape)
        if out.dtype.kind == "f":
            out = (out / c).astype(out.dtype, copy=False)
        else:
            out = (out // c).astype(out.dtype, copy=False)
    return Array(out), Array(hits.reshape(out.shape))


def _index_args(a, dim, index, name, *, err=RuntimeError, prefix="", wrap=False):
    """(dim, int64 index vector) with torch's checks; ``wrap``: negative indices count from
    the end (index_fill's rule)."""
    v = a._np
    d = _wrap_dim(dim, v.ndim)
    idx = check_index_dtype(index, name, show=True)
    if idx.ndim > 1:
        raise IndexError(
            f"{name}(): Index is supposed to be a vector, but got dim: {idx.ndim} with type: "
            f"{index.dtype.torch_name} and size: {list(idx.shape)}")
    idx = idx.reshape(-1)
    size = v.shape[d] if v.ndim else 1
    if wrap and idx.size and idx.min() < 0 and idx.min() >= -size:
        idx = np.where(idx < 0, idx + size, idx)
    if v.ndim <= 1 and name == "index_add_" and idx.size and (idx.min() < 0 or idx.max() >= size):
        raise IndexError("index out of range in self")  # torch's 1-D kernel says it this way
    check_bounds(idx, size, d, prefix, err)
    return d, idx


def _moved(x, d):
    return np.moveaxis(x, d, 0) if x.ndim else x.reshape(1)


def _source_slices(a, d, idx, source, name):
    """``source`` moved so its ``dim`` comes first, checked against ``a`` as torch does."""
    v, s = a._np, source._np
    if s.dtype != v.dtype:
        raise RuntimeError(f"{name}(): self ({a.dtype.torch_name}) and source "
                           f"({source.dtype.torch_name}) must have the same scalar type")
    nsrc = s.shape[d] if s.ndim else 1
    if nsrc != idx.size:
        raise RuntimeError(
            f"{name}(): Number of indices ({idx.size}) should be equal to source.size(dim): "
            f"({nsrc}), for dim: {d}")
    return _moved(s, d)


def _shape_mismatch(a, source):
    return ("source tensor shape must match self tensor shape, excluding the specified "
            f"dimension. Got self.shape = {list(a._np.shape)} source.shape = "
            f"{list(source._np.shape)}")


def index_add(a: Array, dim: int, index: Array, source: Array, alpha=1) -> Array:
    d, idx = _index_args(a, dim, index, "index_add_")
    if a._np.ndim != source._np.ndim:
        raise RuntimeError(_shape_mismatch(a, source))
    if a._np.ndim == 0 and idx.size != 1:  # torch asks a 0-d source for its size(0)
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    src = _source_slices(a, d, idx, source, "index_add_")
    out = a._np.copy()
    if alpha != 1:
        src = (src * alpha).astype(out.dtype, copy=False)
    dst = _moved(out, d)
    if dst.shape[1:] != src.shape[1:]:
        raise RuntimeError(_shape_mismatch(a, source))
    if dst[0:1].size >= 64:
        # wide slices: one vectorised add per index, in index order as torch adds them
        for i, j in enumerate(idx):
            dst[j] += src[i]
    else:
        np.add.at(dst, idx, src)
    return Array(out)


def index_fill(a: Array, dim: int, index: Array, value) -> Array:
    d, idx = _index_args(a, dim, index, "index_fill_", err=IndexError, wrap=True)
    out = a._np.copy()
    _moved(out, d)[idx] = value
    return Array(out)


def index_copy(a: Array, dim: int, index: Array, source: Array) -> Array:
    d, idx = _index_args(a, dim, index, "index_copy_", err=IndexError, prefix="index_copy_(): ")
    out = a._np.copy()
    dst = _moved(out, d)
    src = _source_slices(a, d, idx, source, "index_copy_")
    if dst.shape[1:] != src.shape[1:]:
        i, x, y = next((i, x, y) for i, (x, y) in enumerate(zip(dst.shape[1:], src.shape[1:]))
                       if x != y)
        raise RuntimeError(
            "index_copy_(): Source/destination tensor must have same slice shapes. "
            f"Destination slice shape: {x} at dimension {i} and source slice shape: {y} at "
            f"dimension {i}.")
    dst[idx] = src
    return Array(out)


ARRAY_METHODS = {
    "scatter": scatter, "scatter_add": scatter_add, "index_add": index_add,
    "index_fill": index_fill, "index_copy": index_copy,
}

"""Sorting and order statistics with torch's rules: sort/argsort, topk, kthvalue, median,
nanmedian, mode, cummax/cummin, searchsorted and bucketize.

Everything orders NaN above every number, as torch does (NumPy's sort already puts NaN last).
Sorting is always stable, so equal elements keep their input order: torch's CPU sort is
stable too, and its median picks the element a stable sort puts in the middle. Indices are
int64 Arrays. NumPy does the sorting at C speed; these functions add torch's dims, 0-d
handling, dtype refusals and error messages.
"""
from __future__ import annotations

import numpy as np

from ._array import Array, _wrap_dim

__all__ = [
    "sort", "argsort", "topk", "kthvalue", "median", "nanmedian", "mode", "cummax",
    "cummin", "searchsorted", "bucketize", "ARRAY_METHODS",
]


def _contig(x: np.ndarray) -> np.ndarray:
    """A C-contiguous copy only when needed (np.ascontiguousarray makes 0-d arrays 1-d)."""
    x = np.asarray(x)
    return x if x.flags.c_contiguous else x.copy(order="C")


def _as_rows(v: np.ndarray, dim: int) -> np.ndarray:
    """``v`` with ``dim`` moved last (0-d arrays become one row of one element)."""
    return np.moveaxis(v, dim, -1) if v.ndim else v.reshape(1)


def _from_rows(r: np.ndarray, dim: int, ndim: int) -> np.ndarray:
    return _contig(np.moveaxis(r, -1, dim) if ndim else r.reshape(()))


def _stable_order(rows: np.ndarray, descending: bool) -> np.ndarray:
    """Stable argsort along the last axis; descending keeps equal elements in input order
    (sorting the reversed row ascending and reversing back does that, NaN first)."""
    if not descending:
        return np.argsort(rows, axis=-1, kind="stable")
    n = rows.shape[-1]
    order = np.argsort(rows[..., ::-1], axis=-1, kind="stable")[..., ::-1]
    return (n - 1) - order


def sort(a: Array, dim: int = -1, descending: bool = False) -> tuple[Array, Array]:
    v = a._np
    d = _wrap_dim(dim, v.ndim)
    rows = _as_rows(v, d)
    order = _stable_order(rows, descending)
    vals = np.take_along_axis(rows, order, axis=-1)
    return (Array(_from_rows(vals, d, v.ndim)),
            Array(_from_rows(order.astype(np.int64, copy=False), d, v.ndim)))


def argsort(a: Array, dim: int = -1, descending: bool = False) -> Array:
    v = a._np
    d = _wrap_dim(dim, v.ndim)
    order = _stable_order(_as_rows(v, d), descending)
    return Array(_from_rows(order.astype(np.int64, copy=False), d, v.ndim))


def _take_rank(a, dim, ranks, keepdim, descending=False):
    """(values, indices) of the elements at sorted positions ``ranks`` (ints per row, or an
    int array broadcast over rows) along ``dim``."""
    v = a._np
    d = _wrap_dim(dim, v.ndim)
    rows = _as_rows(v, d)
    order = _stable_order(rows, descending)
    pos = np.broadcast_to(np.asarray(ranks, dtype=np.int64), rows.shape[:-1])[..., None]
    idx = np.take_along_axis(order, pos, axis=-1)
    vals = np.take_along_axis(rows, idx, axis=-1)
    if keepdim or not v.ndim:
        return (Array(_from_rows(vals, d, v.ndim)),
                Array(_from_rows(idx.astype(np.int64), d, v.ndim)))
    return Array(_contig(vals[..., 0])), Array(_contig(idx[..., 0]))


def topk(a: Array, k: int, dim: int = -1, largest: bool = True,
         sorted: bool = True) -> tuple[Array, Array]:  # noqa: A002 - torch's name
    v = a._np
    d = _wrap_dim(dim, v.ndim)
    size = v.shape[d] if v.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    if v.dtype == np.bool_:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    if v.ndim == 0:  # torch hands back the 0-d input itself, whatever k
        return Array(v.copy()), Array(np.zeros((), dtype=np.int64))
    rows = _as_rows(v, d)
    if 0 < 4 * k < size:
        # select the k first (NumPy's partition puts NaN last, i.e. largest), then sort them
        pick = np.argpartition(rows, size - k if largest else k - 1, axis=-1)
        pick = pick[..., size - k:] if largest else pick[..., :k]
        within = _stable_order(np.take_along_axis(rows, pick, axis=-1), largest)
        order = np.take_along_axis(pick, within, axis=-1)
    else:
        order = _stable_order(rows, largest)[..., :k]
    vals = np.take_along_axis(rows, order, axis=-1)
    return (Array(_from_rows(vals, d, v.ndim)),
            Array(_from_rows(order.astype(np.int64, copy=False), d, v.ndim)))


def kthvalue(a: Array, k: int, dim: int = -1, keepdim: bool = False) -> tuple[Array, Array]:
    v = a._np
    d = _wrap_dim(dim, v.ndim)
    size = v.shape[d] if v.ndim else 1
    _check_nonempty(size, "kthvalue", d)
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    if v.dtype == np.bool_:
        raise NotImplementedError("\"kthvalue_cpu\" not implemented for 'Bool'")
    if v.ndim == 0:
        return _take_rank(a, d, k - 1, keepdim)
    # a selection, not a sort: which of several equal values is returned is unspecified, in
    # torch as here
    rows = _as_rows(v, d)
    idx = np.take_along_axis(np.argpartition(rows, k - 1, axis=-1),
                             np.full(rows.shape[:-1] + (1,), k - 1), axis=-1)
    vals = np.take_along_axis(rows, idx, axis=-1)
    idx = idx.astype(np.int64, copy=False)
    if keepdim:
        return Array(_from_rows(vals, d, v.ndim)), Array(_from_rows(idx, d, v.ndim))
    return Array(_contig(vals[..., 0])), Array(_contig(idx[..., 0]))


def _refuse_bool(v, dim):
    if v.dtype == np.bool_:  # both medians name torch's median kernels
        kernel = "median_cpu" if dim is None else "median_out"
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def _empty_median(v):
    """torch's median of nothing: NaN, converted to the dtype (an integer's lowest value)."""
    if v.dtype.kind == "f":
        return Array(np.array(np.nan, dtype=v.dtype))
    # C's NaN-to-int conversion on x86: the lowest value for 32/64 bits, 0 once narrowed
    low = np.iinfo(v.dtype).min if v.dtype.itemsize >= 4 and v.dtype.kind == "i" else 0
    return Array(np.array(low, dtype=v.dtype))


def _nan_count(rows):
    if rows.dtype.kind != "f":
        return np.zeros(rows.shape[:-1], dtype=np.int64)
    return np.isnan(rows).sum(axis=-1)


def _median(a: Array, dim, keepdim, name, skip_nan):
    v = a._np
    if dim is not None:
        d = _wrap_dim(dim, v.ndim)
        _check_nonempty(v.shape[d] if v.ndim else 1, name, d)
    _refuse_bool(v, dim)
    if dim is None:
        flat = v.reshape(-1)
        if flat.dtype.kind == "f":
            nan = np.isnan(flat)
            if skip_nan:
                flat = flat[~nan]
            elif nan.any():
                return Array(np.array(np.nan, dtype=v.dtype))
        if flat.size == 0:
            return _empty_median(v)
        mid = (flat.size - 1) // 2
        return Array(np.array(np.partition(flat, mid)[mid]))
    n = v.shape[d] if v.ndim else 1
    nans = _nan_count(_as_rows(v, d))
    if skip_nan:
        return _take_rank(a, d, np.maximum(n - nans - 1, 0) // 2, keepdim)
    return _take_rank(a, d, np.where(nans > 0, n - nans, (n - 1) // 2), keepdim)


def median(a: Array, dim: int | None = None, keepdim: bool = False):
    """The lower median (the element a stable sort puts at ``(n - 1) // 2``). Without ``dim``
    the value only; with ``dim`` (values, indices), where a row holding NaN gives NaN and the
    index of its first NaN."""
    return _median(a, dim, keepdim, "median", skip_nan=False)


def nanmedian(a: Array, dim: int | None = None, keepdim: bool = False):
    """median over the non-NaN elements; an all-NaN row gives NaN (index of its first NaN)."""
    return _median(a, dim, keepdim, "nanmedian", skip_nan=True)


def _check_nonempty(n, name, d):
    if n == 0:
        raise IndexError(
            f"{name}(): Expected reduction dim {d} to have non-zero size.")


def mode(a: Array, dim: int = -1, keepdim: bool = False) -> tuple[Array, Array]:
    """The most frequent value per row (the smallest among equally frequent ones) and the
    index of its last occurrence, as torch's CPU kernel returns."""
    v = a._np
    d = _wrap_dim(dim, v.ndim)
    rows = _as_rows(v, d)
    n = rows.shape[-1]
    _check_nonempty(n, "mode", d)
    if rows.size == 0:  # no rows to reduce
        shape = v.shape if keepdim and v.ndim else rows.shape[:-1]
        shape = tuple(1 if keepdim and i == d else s for i, s in enumerate(shape))
        return Array(np.empty(shape, dtype=v.dtype)), Array(np.empty(shape, dtype=np.int64))
    order = np.argsort(rows, axis=-1, kind="stable")
    s = np.take_along_axis(rows, order, axis=-1).reshape(-1, n)
    o = order.reshape(-1, n)
    nrows = s.shape[0]
    starts = np.ones(s.shape, dtype=bool)  # a run starts at each row start and value change
    starts[:, 1:] = s[:, 1:] != s[:, :-1]
    run_id = np.cumsum(starts.reshape(-1)) - 1
    counts = np.bincount(run_id)
    run_row = np.repeat(np.arange(nrows), starts.sum(axis=1))
    first_run = np.flatnonzero(np.r_[True, run_row[1:] != run_row[:-1]])
    best = np.maximum.reduceat(counts, first_run)
    winners = np.flatnonzero(counts == best[run_row])
    _, first_winner = np.unique(run_row[winners], return_index=True)
    win_run = winners[first_winner]  # one run per row: the smallest most frequent value
    run_end = np.r_[np.flatnonzero(starts.reshape(-1))[1:], s.size] - 1  # last element
    pick = run_end[win_run]
    vals = s.reshape(-1)[pick].reshape(rows.shape[:-1])
    idx = o.reshape(-1)[pick].reshape(rows.shape[:-1]).astype(np.int64)
    if keepdim and v.ndim:
        vals, idx = np.expand_dims(vals, d), np.expand_dims(idx, d)
    return Array(_contig(vals)), Array(_contig(idx))


def _cumulative(a, dim, ufunc):
    v = a._np
    d = _wrap_dim(dim, v.ndim)
    if v.ndim == 0:
        return Array(v.copy()), Array(np.zeros((), dtype=np.int64))
    if v.shape[d] == 0:
        return Array(v.copy()), Array(np.zeros(v.shape, dtype=np.int64))
    vals = ufunc.accumulate(v, axis=d)
    # torch moves the index on ties and on NaN (its test is ``x >= best || isnan(x)``)
    moved = vals == v
    if v.dtype.kind == "f":
        moved |= np.isnan(v)
    pos = np.arange(v.shape[d], dtype=np.int64).reshape(
        (-1,) + (1,) * (v.ndim - 1 - d))
    idx = np.maximum.accumulate(np.where(moved, pos, 0), axis=d)
    return Array(_contig(vals)), Array(_contig(idx))


def cummax(a: Array, dim: int) -> tuple[Array, Array]:
    return _cumulative(a, dim, np.maximum)


def cummin(a: Array, dim: int) -> tuple[Array, Array]:
    return _cumulative(a, dim, np.minimum)


def _side(right, side):
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(
                f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError(
                "torch.searchsorted(): side and right can't be set to opposites, got side of "
                "left while right was True")
        return side
    return "right" if right else "left"


def searchsorted(seq: Array, values, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, sorter: Array | None = None) -> Array:
    """Insertion points of ``values`` into the last dim of ``seq`` (1-D, or with leading
    dims equal to those of ``values``); a Python number gives a 0-d result."""
    how = _side(right, side)
    s = seq._np
    if s.ndim == 0:
        raise RuntimeError("searchsorted(): boundaries tensor should have positive dimension, "
                           "but got 0 dimension")
    vals = values._np if isinstance(values, Array) else np.asarray(values)
    if sorter is not None:
        if sorter._np.shape != s.shape:
            raise RuntimeError(
                "searchsorted(): boundary and sorter must have the same size, but got boundary "
                f"tensor {list(s.shape)}and got sorter tensor {list(sorter._np.shape)}")
        s = np.take_along_axis(s, sorter._np.astype(np.int64), axis=-1)
    out_dt = np.int32 if out_int32 else np.int64
    if s.ndim <= 1:
        res = np.searchsorted(s.reshape(-1), vals, side=how)
        return Array(np.asarray(res, dtype=out_dt))
    if vals.ndim != s.ndim or vals.shape[:-1] != s.shape[:-1]:
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
            "dimensions of boundaries tensor and input value tensor must match, but we got "
            f"boundaries tensor {list(s.shape)} and input value tensor {list(vals.shape)}")
    s2 = s.reshape(-1, s.shape[-1])
    v2 = vals.reshape(-1, vals.shape[-1])
    res = np.empty(v2.shape, dtype=out_dt)
    for i in range(s2.shape[0]):
        res[i] = np.searchsorted(s2[i], v2[i], side=how)
    return Array(res.reshape(vals.shape))


def bucketize(values, boundaries: Array, *, out_int32: bool = False,
              right: bool = False) -> Array:
    if boundaries._np.ndim != 1:
        raise RuntimeError(
            f"boundaries tensor must be 1 dimension, but got dim({boundaries._np.ndim})")
    return searchsorted(boundaries, values, out_int32=out_int32, right=right)


ARRAY_METHODS = {
    "sort": sort, "argsort": argsort, "topk": topk, "kthvalue": kthvalue, "mode": mode,
    "cummax": cummax, "cummin": cummin,
}


"""Counting and run-length ops: unique, unique_consecutive, bincount, histc, argwhere and
repeat_interleave, with torch's result dtypes, refusals and messages.

``unique`` keeps every NaN apart (NaN != NaN), as torch does, and always returns sorted
values: torch's CPU ``unique`` sorts whether or not ``sorted`` is asked for.
"""
from __future__ import annotations

import numpy as np

from ._array import Array, _wrap_dim

__all__ = [
    "unique", "unique_consecutive", "bincount", "histc", "argwhere", "repeat_interleave",
    "repeat_counts", "ARRAY_METHODS",
]


_ZERO_SIZED = ("There are 0 sized dimensions, and they aren't selected, so unique cannot be "
               "applied")


def _i64(x):
    return Array(np.asarray(x, dtype=np.int64))


def _no_dims_check(v, dim):
    if v.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    return _wrap_dim(dim, v.ndim)


def unique(a: Array, return_inverse: bool = False, return_counts: bool = False,
           dim: int | None = None) -> tuple[Array, Array, Array]:
    """(values, inverse, counts); the caller keeps the ones torch returns."""
    v = a._np
    if dim is None:
        flat = v.reshape(-1)
        vals, inv, cnt = np.unique(flat, return_inverse=True, return_counts=True,
                                   equal_nan=False)
        return Array(vals), _i64(inv.reshape(v.shape)), _i64(cnt)
    d = _no_dims_check(v, dim)
    if v.shape[d] == 0:
        return Array(v.copy()), _i64([]), _i64([])
    if v.size == 0:
        raise RuntimeError(_ZERO_SIZED)
    rows = np.moveaxis(v, d, 0).reshape(v.shape[d], -1)
    order = np.lexsort(rows.T[::-1]) if rows.shape[1] else np.arange(rows.shape[0])
    s = rows[order]
    starts = np.ones(len(s), dtype=bool)
    starts[1:] = np.any(s[1:] != s[:-1], axis=1)
    group = np.cumsum(starts) - 1
    inv = np.empty(len(s), dtype=np.int64)
    inv[order] = group
    cnt = np.bincount(group)
    picked = np.moveaxis(v, d, 0)[order[starts]]
    vals = np.moveaxis(picked, 0, d)
    return Array(vals.copy(order="C")), _i64(inv), _i64(cnt)


def unique_consecutive(a: Array, dim: int | None = None) -> tuple[Array, Array, Array]:
    """(values, inverse, counts) of the runs of equal elements (or slices along ``dim``)."""
    v = a._np
    if dim is None:
        flat = v.reshape(-1)
        starts = np.ones(flat.size, dtype=bool)
        starts[1:] = flat[1:] != flat[:-1]
        group = np.cumsum(starts) - 1
        return (Array(flat[starts].copy()), _i64(group.reshape(v.shape)),
                _i64(np.bincount(group, minlength=0)))
    d = _no_dims_check(v, dim)
    moved = np.moveaxis(v, d, 0)
    if moved.shape[0] == 0:
        return Array(v.copy()), _i64([]), _i64([])
    if v.size == 0:
        raise RuntimeError(_ZERO_SIZED)
    rows = moved.reshape(moved.shape[0], -1)
    starts = np.ones(len(rows), dtype=bool)
    starts[1:] = np.any(rows[1:] != rows[:-1], axis=1)
    group = np.cumsum(starts) - 1
    vals = np.moveaxis(moved[starts], 0, d).copy(order="C")
    return Array(vals), _i64(group), _i64(np.bincount(group, minlength=0))


def bincount(a: Array, weights: Array | None = None, minlength: int = 0) -> Array:
    v = a._np
    if v.dtype.kind not in "iub" or v.dtype == np.bool_:
        raise NotImplementedError(
            f"\"bincount_cpu\" not implemented for '{a.dtype.torch_name}'")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if v.ndim != 1 or (v.size and v.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return _i64(np.bincount(v, minlength=minlength))
    w = weights._np
    if w.ndim != 1 or w.shape[0] != v.shape[0]:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    # float weights keep their dtype; any other weights count in float64, as torch does
    out_dt = w.dtype if w.dtype in (np.float32, np.float64) else np.float64
    res = np.bincount(v, weights=w.astype(np.float64), minlength=minlength)
    return Array(res.astype(out_dt, copy=False))


def histc(a: Array, bins: int = 100, min: float = 0, max: float = 0) -> Array:  # noqa: A002
    """Counts of ``bins`` equal-width bins over [min, max] (the data's range when min == max,
    widened by 1 each side if that is one value); elements outside are ignored."""
    v = a._np
    if v.dtype == np.bool_:  # torch fails making the bin edges first
        raise NotImplementedError("\"linspace_cpu\" not implemented for 'Bool'")
    if v.dtype.kind != "f":
        raise NotImplementedError(
            f"\"histogram_cpu\" not implemented for '{a.dtype.torch_name}'")
    if bins <= 0:
        raise RuntimeError(
            f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    lo, hi = float(min), float(max)
    if lo == hi and v.size:  # the data's range (NaN if it holds one, refused below)
        lo, hi = float(v.min()), float(v.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(f"histc: range of [{_c_float(lo)}, {_c_float(hi)}] is not finite")
    # torch's arithmetic, in the input's dtype: the edges as that dtype, then
    # (x - left) * bins / (right - left) truncated, so elements on an edge land where torch's
    # rounding puts them
    left, right = np.array(lo, dtype=v.dtype), np.array(hi, dtype=v.dtype)
    flat = v.reshape(-1)
    x = flat[(flat >= left) & (flat <= right)]
    pos = ((x - left) * np.array(bins, dtype=v.dtype) / (right - left)).astype(np.int64)
    pos = np.minimum(pos, bins - 1)  # the right edge belongs to the last bin
    return Array(np.bincount(pos, minlength=bins).astype(v.dtype))


def _c_float(x):
    """How C's printf shows a float in torch's message (x86's NaN has its sign bit set)."""
    return "-nan" if x != x else f"{x:g}"


def argwhere(a: Array) -> Array:
    v = a._np
    if v.ndim == 0:
        return _i64(np.zeros((1 if v else 0, 0)))
    return _i64(np.argwhere(v))


def repeat_counts(repeats: Array) -> Array:
    """``repeat_interleave(repeats)``: index ``i`` repeated ``repeats[i]`` times."""
    r = repeats._np
    if r.dtype.kind not in "iu" or r.dtype == np.bool_:
        raise NotImplementedError(
            f"\"repeat_interleave_cpu\" not implemented for '{repeats.dtype.torch_name}'")
    if r.ndim > 1:
        raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
    r = r.reshape(-1)
    if r.size and r.min() < 0:
        raise RuntimeError("repeats can not be negative")
    return _i64(np.repeat(np.arange(r.size), r))


def repeat_interleave(a: Array, repeats, dim: int | None = None) -> Array:
    """Each element (or slice along ``dim``; the flattened input when dim is None) repeated
    ``repeats`` times (an int, or a 0-d/1-d int Array with one count per slice)."""
    v = a._np
    if dim is None:
        v, d = v.reshape(-1), 0
    elif v.ndim == 0:  # torch reads a 0-d input as 1-d with the dim one further on
        _wrap_dim(dim, 1)
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got 1)")
    else:
        d = _wrap_dim(dim, v.ndim)
    n = v.shape[d]
    if isinstance(repeats, Array):
        r = repeats._np
        if r.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        if r.dtype.kind not in "iu":
            raise NotImplementedError(
                f"\"repeat_interleave_cpu\" not implemented for '{repeats.dtype.torch_name}'")
        r = r.reshape(-1)
        if r.size == 1:
            r = np.full(n, r[0])
        if r.size != n:
            raise RuntimeError(
                "repeats must have the same size as input along dim, but got repeats.size(0) = "
                f"{r.size} and input.size({d}) = {n}")
        if r.size and r.min() < 0:
            raise RuntimeError("repeats can not be negative")
    else:
        if repeats < 0:
            raise RuntimeError("Repeats must be non-negative")
        r = repeats
    return Array(np.repeat(v, r, axis=d))


ARRAY_METHODS = {
    "unique_consecutive": unique_consecutive, "bincount": bincount, "histc": histc,
    "argwhere": argwhere, "repeat_interleave": repeat_interleave,
}

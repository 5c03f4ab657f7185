"""Reductions with torch's dims, dtypes, empty-input rules and error messages.

Floating sums, max/min and var/std run in the Cython kernels of ``_kernels/reduce.pyx``
over a contiguous [outer, reduce, inner] block: when the reduced dims are adjacent in a
contiguous array that block is a free reshape, otherwise the reduced dims are moved last
with one copy. Integer and bool paths, whose results are exact, use NumPy with torch's
result dtypes.
"""
import builtins
import math
import operator
import warnings

import numpy as np

from . import _dtype as D
from ._array import Array, _wrap_dim
from ._elementwise_core import _wrap as _wrap_ndarray
from ._kernels import reduce as _k

__all__ = [
    "sum", "mean", "prod", "amax", "amin", "max", "min", "argmax", "argmin", "var", "std",
    "all", "any", "logsumexp", "norm", "cumsum", "sum_to_shape", "ARRAY_METHODS",
]

_FLOAT_KERNEL = (np.dtype(np.float32), np.dtype(np.float64))


# ---- dims and layout ----------------------------------------------------------------------
def _dims(dim, ndim, *, empty_means_all=True):
    """Sorted tuple of wrapped dims; None (and, as torch, an empty list) means every dim."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (tuple, list)):
        if len(dim) == 0:
            return tuple(range(ndim)) if empty_means_all else ()
        wrapped = [_wrap_dim(d, ndim) for d in dim]
        seen = set()
        for w in wrapped:
            if w in seen:
                raise RuntimeError(f"dim {w} appears multiple times in the list of dims")
            seen.add(w)
        return tuple(sorted(w for w in wrapped if w < ndim))
    w = _wrap_dim(dim, ndim)
    return (w,) if w < ndim else ()


def _out_shape(shape, dims, keepdim):
    if keepdim:
        return tuple(1 if i in dims else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in dims)


def _as_block(x, dims):
    """View (or copy) ``x`` as a C-contiguous [outer, reduce, inner] array."""
    shape = x.shape
    n_red = 1
    for d in dims:
        n_red *= shape[d]
    if not dims:
        return np.ascontiguousarray(x).reshape(-1, 1, 1) if x.size else x.reshape(-1, 1, 1)
    first, last = dims[0], dims[-1]
    if last - first + 1 == len(dims) and x.flags.c_contiguous:
        outer = math.prod(shape[:first])
        inner = math.prod(shape[last + 1:])
        return x.reshape(outer, n_red, inner)
    kept = [i for i in range(x.ndim) if i not in dims]
    moved = np.ascontiguousarray(x.transpose(kept + list(dims)))
    return moved.reshape(-1, n_red, 1)


def _float_reduce(kernel, x, dims, keepdim, *args):
    """Run a float kernel (sum_3d/var_3d) over ``dims``; returns an ndarray of x's dtype."""
    block = _as_block(x, dims)
    out = np.empty((block.shape[0], block.shape[2]), dtype=x.dtype)
    kernel(block, out, *args)
    return out.reshape(_out_shape(x.shape, dims, keepdim))


def _wrap(result, dtype=None):
    result = np.asarray(result)
    if dtype is not None and result.dtype != dtype:
        result = result.astype(dtype)
    return Array(result)


# ---- sum / mean / prod --------------------------------------------------------------------
def _runs(dims):
    """Split sorted dims into runs of adjacent dims: (0, 2, 3) -> [(0, 0), (2, 3)]."""
    runs = []
    for d in dims:
        if runs and runs[-1][1] == d - 1:
            runs[-1] = (runs[-1][0], d)
        else:
            runs.append((d, d))
    return runs


def _staged_sum(x, dims, keepdim):
    """Sum a contiguous array over non-adjacent dims one run at a time, last run first:
    every stage is a free reshape, where moving the dims together would copy all of ``x``.
    Partials stay in double so the result is rounded once."""
    y = x
    shape = list(x.shape)
    for first, last in reversed(_runs(dims)):
        outer = math.prod(shape[:first])
        n_red = math.prod(shape[first:last + 1])
        inner = math.prod(shape[last + 1:])
        out = np.empty((outer, inner), dtype=np.float64)
        _k.sum_3d(y.reshape(outer, n_red, inner), out)
        shape = shape[:first] + shape[last + 1:]
        y = out
    return y.astype(x.dtype).reshape(_out_shape(x.shape, dims, keepdim))


def _sum_np(x, dims, keepdim):
    if x.dtype in _FLOAT_KERNEL:
        if len(_runs(dims)) > 1 and x.flags.c_contiguous:
            return _staged_sum(x, dims, keepdim)
        return _float_reduce(_k.sum_3d, x, dims, keepdim)
    if x.dtype == np.float16:
        # torch accumulates half in float; so do we, then round once
        out = _float_reduce(_k.sum_3d, x.astype(np.float32), dims, keepdim)
        return out.astype(np.float16)
    return np.sum(x, axis=dims, keepdims=keepdim, dtype=np.int64)


def _whole_or_one_dim_sum(x, dim, keepdim):
    """The sum of a contiguous float32/float64 ``x`` over every dim (``dim`` None) or one int
    ``dim``, straight through the kernel (``sum_over_dim`` does the shape arithmetic in C):
    the general path's dim tuples, runs and generic block reshape cost as much as summing a
    thousand rows. None for any other case (non-contiguous too: the kernel says so)."""
    if dim is None:
        if keepdim or not x.size:
            return None
        out = _k.sum_over_dim(x.reshape(-1), 0, False)  # a 0-d result; None unless contiguous
        return None if out is None else _wrap_ndarray(out)
    if type(dim) is tuple and len(dim) == 1:
        dim = dim[0]
    if type(dim) is not builtins.int:
        return None
    out = _k.sum_over_dim(x, dim, keepdim)  # None: out of range or 0-d, the general path
    return None if out is None else _wrap_ndarray(out)


def sum(a, dim=None, keepdim=False, dtype=None):
    """Sum over ``dim`` (all dims when None); integer and bool inputs give int64."""
    x = a._np
    if dtype is None and (x.dtype is _FLOAT_KERNEL[0] or x.dtype is _FLOAT_KERNEL[1]):
        res = _whole_or_one_dim_sum(x, dim, keepdim)
        if res is not None:
            return res
    if dtype is not None:
        x = x.astype(D.as_dtype(dtype).np, copy=False)
    dims = _dims(dim, x.ndim)
    out = _sum_np(x, dims, keepdim)
    if dtype is not None:
        return _wrap(out, D.as_dtype(dtype).np)
    return _wrap(out)


def mean(a, dim=None, keepdim=False, dtype=None):
    """Mean over ``dim``; floating inputs only (or an explicit floating ``dtype``)."""
    target = D.as_dtype(dtype) if dtype is not None else a.dtype
    if not target.is_floating_point:
        which = "Input" if dtype is None else "Optional"
        raise RuntimeError(
            f"mean(): could not infer output dtype. {which} dtype must be either a floating "
            f"point or complex dtype. Got: {target.torch_name}"
        )
    x = a._np.astype(target.np, copy=False)
    dims = _dims(dim, x.ndim)
    count = 1
    for d in dims:
        count *= x.shape[d]
    total = _sum_np(x, dims, keepdim)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.asarray(total / count if count else total * np.nan, dtype=target.np)
    return Array(out)


def prod(a, dim=None, keepdim=False, dtype=None):
    """Product over ``dim`` (one int, or all when None); integer and bool give int64."""
    x = a._np
    if dtype is not None:
        x = x.astype(D.as_dtype(dtype).np, copy=False)
    if isinstance(dim, (tuple, list)):
        raise TypeError("prod(): argument 'dim' must be int, not " + type(dim).__name__)
    dims = _dims(dim, x.ndim)
    acc = x.dtype if x.dtype.kind == "f" else np.int64
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.prod(x, axis=dims, keepdims=keepdim and dim is not None, dtype=acc)
    return _wrap(out, acc)


# ---- max / min ----------------------------------------------------------------------------
def _check_nonempty(x, given, name):
    """torch's IndexError for an empty reduced dim, naming the dim as the caller wrote it."""
    for d in (given if isinstance(given, (tuple, list)) else (given,)):
        if x.ndim and x.shape[_wrap_dim(d, x.ndim)] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _extreme_np(x, dims, keepdim, want_max, name, with_index=False):
    _check_nonempty(x, dims, name)
    block = _as_block(x, dims)
    out = np.empty((block.shape[0], block.shape[2]), dtype=x.dtype)
    idx = np.empty(out.shape, dtype=np.int64) if with_index else None
    if block.shape[1] == 0:  # an empty input reduced over no dims: nothing to compare
        out = block.reshape(out.shape).copy()
    else:
        _k.extreme_3d(block, out, idx, want_max)
    shape = _out_shape(x.shape, dims, keepdim)
    return out.reshape(shape), (idx.reshape(shape) if with_index else None)


def _amax_amin(a, dim, keepdim, want_max):
    name = "amax" if want_max else "amin"
    x = a._np
    dims = _dims(dim, x.ndim)
    every = dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0)
    if x.size == 0 and every and x.ndim:
        raise RuntimeError(
            f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
            "Specify the reduction dim with the 'dim' argument."
        )
    _check_nonempty(x, dim, name)
    out, _ = _extreme_np(x, dims, keepdim, want_max, name)
    return Array(np.asarray(out))


def amax(a, dim=(), keepdim=False):
    """Largest value over ``dim`` (every dim when empty); NaN propagates."""
    return _amax_amin(a, dim, keepdim, True)


def amin(a, dim=(), keepdim=False):
    """Smallest value over ``dim`` (every dim when empty); NaN propagates."""
    return _amax_amin(a, dim, keepdim, False)


def _max_min(a, dim, keepdim, want_max):
    name = "max" if want_max else "min"
    if isinstance(dim, Array):  # max(a, other): the elementwise form
        dt = D.promote_types(a.dtype, dim.dtype).np
        fn = np.maximum if want_max else np.minimum
        return Array(np.asarray(fn(a._np.astype(dt, copy=False), dim._np.astype(dt, copy=False))))
    x = a._np
    if dim is None:
        if x.size == 0:
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
        out, _ = _extreme_np(x, tuple(range(x.ndim)), False, want_max, name)
        return Array(np.asarray(out))
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
    dims = _dims(operator.index(dim), x.ndim)
    values, idx = _extreme_np(x, dims, keepdim, want_max, name, with_index=True)
    return Array(np.asarray(values)), Array(np.asarray(idx))


def max(a, dim=None, keepdim=False):
    """``max(a)`` -> 0-d Array; ``max(a, dim)`` -> (values, int64 indices of the first max)."""
    return _max_min(a, dim, keepdim, True)


def min(a, dim=None, keepdim=False):
    """``min(a)`` -> 0-d Array; ``min(a, dim)`` -> (values, int64 indices of the first min)."""
    return _max_min(a, dim, keepdim, False)


def _arg_extreme(a, dim, keepdim, want_max):
    name = "argmax" if want_max else "argmin"
    x = a._np
    if x.dtype == np.bool_:
        raise RuntimeError(f"{name}(): does not support bool input")
    if dim is None:
        if x.size == 0:
            raise IndexError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0."
            )
        flat = x.reshape(-1)
        _, idx = _extreme_np(flat, (0,), False, want_max, name, with_index=True)
        shape = (1,) * x.ndim if keepdim else ()
        return Array(np.asarray(idx).reshape(shape))
    dims = _dims(operator.index(dim), x.ndim)
    _, idx = _extreme_np(x, dims, keepdim, want_max, name, with_index=True)
    return Array(np.asarray(idx))


def argmax(a, dim=None, keepdim=False):
    """Index (int64) of the first largest value, over ``dim`` or the flattened array."""
    return _arg_extreme(a, dim, keepdim, True)


def argmin(a, dim=None, keepdim=False):
    """Index (int64) of the first smallest value, over ``dim`` or the flattened array."""
    return _arg_extreme(a, dim, keepdim, False)


# ---- var / std ----------------------------------------------------------------------------
def _moments(a, dim, correction, keepdim, unbiased, take_sqrt):
    if isinstance(dim, builtins.bool):  # var(True): the old positional `unbiased`
        unbiased, dim = dim, None
    if unbiased is not None:
        if correction is not None:
            raise RuntimeError("var/std: cannot specify both unbiased and correction")
        correction = 1 if unbiased else 0
    if correction is None:
        correction = 1
    if not a.dtype.is_floating_point:
        raise RuntimeError("std and var only support floating point and complex dtypes")
    x = a._np
    dims = _dims(dim, x.ndim)
    n = 1
    for d in dims:
        n *= x.shape[d]
    if n - correction <= 0:
        warnings.warn(
            f"{'std' if take_sqrt else 'var'}(): degrees of freedom is <= 0. Correction should "
            "be strictly less than the reduction factor (input numel divided by output numel).",
            UserWarning, stacklevel=3,
        )
    work = x.astype(np.float32) if x.dtype == np.float16 else x
    out = _float_reduce(_k.var_3d, work, dims, keepdim, float(correction), take_sqrt)
    return _wrap(out, x.dtype)


def var(a, dim=None, *, correction=None, keepdim=False, unbiased=None):
    """Variance over ``dim`` with Bessel's ``correction`` (default 1), torch's semantics."""
    return _moments(a, dim, correction, keepdim, unbiased, False)


def std(a, dim=None, *, correction=None, keepdim=False, unbiased=None):
    """Standard deviation: the square root of ``var`` with the same arguments."""
    return _moments(a, dim, correction, keepdim, unbiased, True)


# ---- all / any ----------------------------------------------------------------------------
def _logical(a, dim, keepdim, fn):
    x = a._np
    dims = _dims(dim, x.ndim)
    out = np.asarray(fn(x, axis=dims, keepdims=keepdim))
    # torch keeps uint8 for uint8 input (a legacy of byte masks); everything else is bool
    return Array(out.astype(np.uint8) if x.dtype == np.uint8 else out)


def all(a, dim=None, keepdim=False):
    """True where every element over ``dim`` is nonzero."""
    return _logical(a, dim, keepdim, np.all)


def any(a, dim=None, keepdim=False):
    """True where some element over ``dim`` is nonzero."""
    return _logical(a, dim, keepdim, np.any)


# ---- logsumexp / norm / cumsum ------------------------------------------------------------
def logsumexp(a, dim, keepdim=False):
    """log(sum(exp(a))) over ``dim``, shifted by the max so large inputs do not overflow."""
    x = a._np
    if not a.dtype.is_floating_point:
        x = x.astype(D.get_default_dtype().np)
    dims = _dims(dim, x.ndim)
    if x.size == 0:
        out = np.full(_out_shape(x.shape, dims, keepdim), -np.inf, dtype=x.dtype)
        return Array(out)
    m, _ = _extreme_np(x, dims, True, True, "logsumexp")
    # an infinite max would give inf - inf = nan; shift by 0 there instead
    shift = np.where(np.isfinite(m), m, 0).astype(x.dtype)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        s = _sum_np(np.exp(x - shift), dims, True)
        out = np.log(s) + shift
    return Array(np.asarray(out.reshape(_out_shape(x.shape, dims, keepdim)), dtype=x.dtype))


def norm(a, p=2, dim=None, keepdim=False):
    """Vector p-norm over ``dim`` (all elements when None); p may be inf, -inf, 0 or 'fro'."""
    if p == "fro":
        p = 2
    elif isinstance(p, str):
        raise RuntimeError(f"norm: unsupported norm type {p!r} for vector norms")
    if not a.dtype.is_floating_point:
        raise RuntimeError(
            "linalg.vector_norm: Expected a floating point or complex tensor as input. "
            f"Got {a.dtype.torch_name}"
        )
    x = a._np
    dims = _dims(dim, x.ndim)
    p = float(p)
    absx = np.abs(x)
    if p == math.inf or p == -math.inf:
        # max/min have no identity: an empty reduced dim is an error, as in torch
        kind = "inf" if p > 0 else "-inf"
        if x.size == 0 and dim is None:
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {kind} norm on an empty tensor because "
                "the operation does not have an identity"
            )
        given = () if dim is None else dim if isinstance(dim, (tuple, list)) else (dim,)
        for d in given:
            if x.ndim and x.shape[_wrap_dim(d, x.ndim)] == 0:
                raise RuntimeError(  # torch's message lacks the space before "because"
                    f"linalg.vector_norm cannot compute the {kind} norm on the dimension {d}"
                    "because this dimension is empty and the operation does not have an identity"
                )
        if x.size == 0:
            out = np.zeros(_out_shape(x.shape, dims, keepdim), dtype=x.dtype)
        else:
            out, _ = _extreme_np(absx, dims, keepdim, p > 0, "linalg.vector_norm")
        return Array(np.asarray(out))
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        if p == 0:
            out = _sum_np((x != 0).astype(x.dtype), dims, keepdim)
        elif p == 1:
            out = _sum_np(absx, dims, keepdim)
        elif p == 2:
            out = np.sqrt(_sum_np(x * x, dims, keepdim))
        else:
            out = _sum_np(absx ** x.dtype.type(p), dims, keepdim) ** x.dtype.type(1.0 / p)
    return _wrap(out, x.dtype)


def cumsum(a, dim, dtype=None):
    """Running sum along ``dim``; integer and bool give int64, floats accumulate in double."""
    x = a._np
    if dtype is not None:
        x = x.astype(D.as_dtype(dtype).np, copy=False)
    d = _wrap_dim(dim, x.ndim)
    if x.ndim == 0:
        return Array(np.array(x, dtype=x.dtype if x.dtype.kind == "f" else np.int64))
    if x.dtype.kind == "f":
        out = np.cumsum(x, axis=d, dtype=np.float64).astype(x.dtype)
    else:
        out = np.cumsum(x, axis=d, dtype=np.int64)
    return Array(out)


# ---- broadcasting support for autograd ----------------------------------------------------
def sum_to_shape(a, shape):
    """Sum ``a`` (the broadcast of something of ``shape``) back down to ``shape``.

    Leading dims ``a`` has beyond ``shape`` are summed away; dims where ``shape`` has 1 and
    ``a`` does not are summed with keepdim. The dtype is kept; ``a`` itself is returned when
    its shape already matches."""
    shape = tuple(shape)
    x = a._np
    if x.shape == shape:
        return a
    lead = x.ndim - len(shape)
    if lead < 0:
        raise RuntimeError(f"sum_to_shape: cannot reduce shape {list(x.shape)} to {list(shape)}")
    dims = list(range(lead))
    for i, s in enumerate(shape):
        own = x.shape[lead + i]
        if s == 1 and own != 1:
            dims.append(lead + i)
        elif s != own:
            raise RuntimeError(
                f"sum_to_shape: shape {list(x.shape)} is not a broadcast of {list(shape)}"
            )
    out = _sum_np(x, tuple(dims), False) if dims else x
    return Array(np.asarray(out, dtype=x.dtype).reshape(shape))


ARRAY_METHODS = {
    "sum": sum, "mean": mean, "prod": prod, "amax": amax, "amin": amin, "max": max,
    "min": min, "argmax": argmax, "argmin": argmin, "var": var, "std": std, "all": all,
    "any": any, "logsumexp": logsumexp, "norm": norm, "cumsum": cumsum,
}

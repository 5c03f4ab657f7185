"""Differentiable reductions: sum, mean, prod, max/min/amax/amin, var/std, logsumexp, norm,
cumsum, and the non-differentiable argmax/argmin/all/any."""
import builtins
import collections
import math

import numpy as np

from ember_tensor import _dtype as D
from ember_tensor._array import _wrap_dim

from ..autograd.node import Node, record
from . import kernel, wrap_np


def _T():
    from .._tensor import Tensor

    return Tensor


def _no_grad():
    from ..autograd.grad_mode import no_grad

    return no_grad()


def _dims(dim, ndim):
    """Normalised tuple of dims (all dims when ``dim`` is None or empty)."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (list, tuple)):
        if len(dim) == 0:
            return tuple(range(ndim))
        dims = tuple(_wrap_dim(d, ndim) for d in dim)
        for d in dims:
            if dims.count(d) > 1:
                raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        return dims
    return (_wrap_dim(dim, ndim),)


def _expand_back(g, shape, dims, keepdim):
    """Broadcast a reduced gradient back to ``shape``."""
    if not keepdim and g.dim() != len(shape):
        for d in sorted(dims):
            g = g.unsqueeze(d)
    return g.expand(shape)


def _sum_dtype(x, dtype):
    if dtype is not None:
        return D.as_dtype(dtype)
    d = x.dtype
    return D.int64 if (d is D.bool or not d.is_floating_point) else d


class SumBackward0(Node):
    def backward(self, g):
        return (g.expand(self.shape),)


class SumBackward1(Node):
    def backward(self, g):
        return (_expand_back(g, self.shape, self.dims, self.keepdim),)


def sum(input, dim=None, keepdim=False, *, dtype=None):
    if isinstance(dim, D.dtype):  # sum(x, torch.float64)
        dim, dtype = None, dim
    rt = _sum_dtype(input, dtype)
    v = input._data._np
    if dim is None:
        res = wrap_np(np.sum(v, dtype=rt.np), rt)
        return record(SumBackward0, res, (input,), shape=tuple(v.shape))
    dims = _dims(dim, v.ndim)
    res = wrap_np(np.sum(v, axis=dims, keepdims=keepdim, dtype=rt.np), rt) if v.ndim else \
        wrap_np(v.astype(rt.np, copy=True), rt)
    return record(SumBackward1, res, (input,), shape=tuple(v.shape), dims=dims, keepdim=keepdim)


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    from .elementwise import isnan, where

    return sum(where(isnan(input), input.new_zeros(()) if False else 0.0, input), dim, keepdim,
               dtype=dtype)


def sum_to_size(input, *size):
    """Sum ``input`` down to ``size`` (the inverse of broadcasting), differentiably."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    shape = tuple(input.shape)
    lead = len(shape) - len(size)
    dims = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(size) if s == 1 and shape[lead + i] != 1)
    out = input
    if dims:
        out = sum(out, dims, keepdim=True)
    if lead or out.shape != tuple(size):
        out = out.reshape(size)
    return out


class MeanBackward0(Node):
    def backward(self, g):
        return (g.expand(self.shape) / self.n,)


class MeanBackward1(Node):
    def backward(self, g):
        return (_expand_back(g, self.shape, self.dims, self.keepdim) / self.n,)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    if isinstance(dim, D.dtype):
        dim, dtype = None, dim
    rt = D.as_dtype(dtype) or input.dtype
    if not rt.is_floating_point:
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {_cap(input.dtype)}"
        )
    v = input._data._np
    if dim is None:
        with np.errstate(invalid="ignore", divide="ignore"):
            res = wrap_np(np.mean(v, dtype=np.float64 if rt is D.float16 else rt.np), rt)
        return record(MeanBackward0, res, (input,), shape=tuple(v.shape), n=builtins.max(v.size, 1)
                      if v.size else 0)
    dims = _dims(dim, v.ndim)
    n = 1
    for d in dims:
        n *= v.shape[d] if v.ndim else 1
    with np.errstate(invalid="ignore", divide="ignore"):
        res = wrap_np(np.mean(v, axis=dims, keepdims=keepdim, dtype=rt.np) if v.ndim
                      else v.astype(rt.np, copy=True), rt)
    return record(MeanBackward1, res, (input,), shape=tuple(v.shape), dims=dims,
                  keepdim=keepdim, n=n)


def _cap(dt):
    from .elementwise import _cap as c

    return c(dt)


class ProdBackward0(Node):
    def backward(self, g):
        (x, out) = self.saved_tensors
        return (_prod_grad(x, out, g, None, False),)


class ProdBackward1(Node):
    def backward(self, g):
        (x, out) = self.saved_tensors
        return (_prod_grad(x, out, g, self.dim, self.keepdim),)


def _prod_grad(x, out, g, dim, keepdim):
    from .elementwise import where

    shape = tuple(x.shape)
    if dim is None:
        g, out = g.expand(shape), out.expand(shape)
    else:
        g = _expand_back(g, shape, (dim,), keepdim)
        out = _expand_back(out, shape, (dim,), keepdim)
    if not bool((x == 0).any()):
        return g * out / x
    # zeros present: product of the others, computed directly (no division by zero)
    xv = x.detach()._data._np
    axes = tuple(range(xv.ndim)) if dim is None else (dim,)
    others = np.empty_like(xv)
    it = np.nditer(xv, flags=["multi_index"])
    for _ in it:
        idx = it.multi_index
        sl = [slice(None) if i in axes else idx[i] for i in range(xv.ndim)]
        block = xv[tuple(sl)].copy()
        pos = tuple(idx[i] for i in axes)
        block[pos] = 1
        others[idx] = block.prod()
    return g * _T()._make(wrap_np(others))


def prod(input, dim=None, keepdim=False, *, dtype=None):
    rt = _sum_dtype(input, dtype)
    v = input._data._np
    if dim is None:
        res = wrap_np(np.prod(v, dtype=rt.np), rt)
        return record(ProdBackward0, res, (input,), save=(input, res))
    d = _wrap_dim(dim, v.ndim)
    res = wrap_np(np.prod(v, axis=d, keepdims=keepdim, dtype=rt.np) if v.ndim else v.astype(
        rt.np, copy=True), rt)
    return record(ProdBackward1, res, (input,), save=(input, res), dim=d, keepdim=keepdim)


# ---- max / min ------------------------------------------------------------------------------
class _ExtremumAll(Node):
    def backward(self, g):
        (x, out) = self.saved_tensors
        mask = (x == out)
        count = mask.sum()
        return (mask * (g / count),)


class MaxBackward1(_ExtremumAll):
    pass


class MinBackward1(_ExtremumAll):
    pass


class AmaxBackward0(Node):
    def backward(self, g):
        (x, out) = self.saved_tensors
        out_e = _expand_back(out, tuple(x.shape), self.dims, self.keepdim)
        g_e = _expand_back(g, tuple(x.shape), self.dims, self.keepdim)
        mask = (x == out_e)
        count = _expand_back(mask.sum(self.dims, keepdim=True), tuple(x.shape), self.dims, True)
        return (g_e * mask / count,)


class AminBackward0(AmaxBackward0):
    pass


class _ExtremumDim(Node):
    def backward(self, g, g_idx=None):
        (idx,) = self.saved_tensors
        from .indexing import _scatter_grad

        return (_scatter_grad(g, idx, self.shape, self.dim, self.keepdim),)


class MaxBackward0(_ExtremumDim):
    pass


class MinBackward0(_ExtremumDim):
    pass


_values_indices = collections.namedtuple("return_types", ["values", "indices"])


class _ReturnTypes(tuple):
    """``torch.return_types.max``-like: a pair with ``.values``/``.indices``."""

    _name = "max"

    def __new__(cls, values, indices, name):
        self = super().__new__(cls, (values, indices))
        self._name = name
        return self

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]

    def __repr__(self):
        return (f"torch.return_types.{self._name}(\nvalues={self[0]!r},\nindices={self[1]!r})")


def _empty_check(v, name, dim=None):
    if v.size == 0:
        if dim is None:
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )


def _extremum(input, dim, keepdim, npfn, argfn, name, node_all, node_dim, other=None):
    if other is not None or (dim is not None and hasattr(dim, "_data")):
        from .elementwise import maximum, minimum

        other = other if other is not None else dim
        return (maximum if name == "max" else minimum)(input, other)
    v = input._data._np
    if dim is None:
        _empty_check(v, name)
        res = wrap_np(npfn(v), input.dtype)
        return record(node_all, res, (input,), save=(input, res))
    d = _wrap_dim(dim, v.ndim)
    if v.ndim == 0:
        vals = wrap_np(v.copy(), input.dtype)
        idx = wrap_np(np.zeros((), dtype=np.int64))
    else:
        if v.shape[d] == 0:
            raise IndexError(
                f"{name}(): Expected reduction dim {d} to have non-zero size."
            )
        ii = argfn(v, axis=d, keepdims=True)
        vals_np = np.take_along_axis(v, ii, axis=d)
        if not keepdim:
            vals_np, ii = vals_np.squeeze(d), ii.squeeze(d)
        vals, idx = wrap_np(vals_np, input.dtype), wrap_np(ii.astype(np.int64))
    out_v, out_i = record(node_dim, (vals, idx), (input,), non_differentiable=(idx,),
                          save=(idx,), shape=tuple(v.shape), dim=d, keepdim=keepdim)
    return _ReturnTypes(out_v, out_i, name)


def _nan_argmax(v, axis, keepdims):
    nan = np.isnan(v) if v.dtype.kind == "f" else None
    if nan is not None and nan.any():
        return np.argmax(nan, axis=axis, keepdims=keepdims) if True else None
    return np.argmax(v, axis=axis, keepdims=keepdims)


def _nan_argmin(v, axis, keepdims):
    nan = np.isnan(v) if v.dtype.kind == "f" else None
    if nan is not None and nan.any():
        return np.argmax(nan, axis=axis, keepdims=keepdims)
    return np.argmin(v, axis=axis, keepdims=keepdims)


def max(input, dim=None, keepdim=False, *, other=None):
    return _extremum(input, dim, keepdim, np.max, _nan_argmax, "max", MaxBackward1,
                     MaxBackward0, other)


def min(input, dim=None, keepdim=False, *, other=None):
    return _extremum(input, dim, keepdim, np.min, _nan_argmin, "min", MinBackward1,
                     MinBackward0, other)


def amax(input, dim=(), keepdim=False):
    v = input._data._np
    dims = _dims(dim, v.ndim)
    res = wrap_np(np.max(v, axis=dims, keepdims=keepdim) if v.ndim else v.copy(), input.dtype)
    return record(AmaxBackward0, res, (input,), save=(input, res), dims=dims, keepdim=keepdim)


def amin(input, dim=(), keepdim=False):
    v = input._data._np
    dims = _dims(dim, v.ndim)
    res = wrap_np(np.min(v, axis=dims, keepdims=keepdim) if v.ndim else v.copy(), input.dtype)
    return record(AminBackward0, res, (input,), save=(input, res), dims=dims, keepdim=keepdim)


def argmax(input, dim=None, keepdim=False):
    v = input._data._np
    if dim is None:
        r = _nan_argmax(v.reshape(-1), 0, False)
        if keepdim:
            r = np.asarray(r).reshape((1,) * v.ndim)
        return _T()._make(wrap_np(np.asarray(r, dtype=np.int64)))
    d = _wrap_dim(dim, v.ndim)
    return _T()._make(wrap_np(np.asarray(_nan_argmax(v, d, keepdim), dtype=np.int64)))


def argmin(input, dim=None, keepdim=False):
    v = input._data._np
    if dim is None:
        r = _nan_argmin(v.reshape(-1), 0, False)
        if keepdim:
            r = np.asarray(r).reshape((1,) * v.ndim)
        return _T()._make(wrap_np(np.asarray(r, dtype=np.int64)))
    d = _wrap_dim(dim, v.ndim)
    return _T()._make(wrap_np(np.asarray(_nan_argmin(v, d, keepdim), dtype=np.int64)))


def all(input, dim=None, keepdim=False):
    v = input._data._np.astype(bool)
    r = np.all(v) if dim is None else np.all(v, axis=_dims(dim, v.ndim), keepdims=keepdim)
    return _T()._make(wrap_np(np.asarray(r)))


def any(input, dim=None, keepdim=False):
    v = input._data._np.astype(bool)
    r = np.any(v) if dim is None else np.any(v, axis=_dims(dim, v.ndim), keepdims=keepdim)
    return _T()._make(wrap_np(np.asarray(r)))


# ---- var / std / logsumexp / norm / cumsum --------------------------------------------------
def _correction(unbiased, correction):
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


class VarBackward0(Node):
    def backward(self, g):
        (x,) = self.saved_tensors
        shape = tuple(x.shape)
        m = x.mean(self.dims, keepdim=True) if self.dims else x.mean()
        g = _expand_back(g, shape, self.dims, self.keepdim)
        return (g * 2 * (x - m) / builtins.max(self.n - self.correction, 0),)


class StdBackward0(Node):
    def backward(self, g):
        (x, out) = self.saved_tensors
        shape = tuple(x.shape)
        m = x.mean(self.dims, keepdim=True)
        g = _expand_back(g / out, shape, self.dims, self.keepdim)
        return (g * (x - m) / builtins.max(self.n - self.correction, 0),)


def _var_np(v, dims, keepdim, corr, rt):
    n = 1
    for d in dims:
        n *= v.shape[d]
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.var(v, axis=dims, keepdims=keepdim, ddof=0, dtype=np.float64)
        r = r * n / builtins.max(n - corr, 0) if n - corr > 0 else r * np.inf if n else r
        if n - corr <= 0:
            r = np.full(np.shape(r), np.nan if n - corr == 0 or True else np.inf)
    return wrap_np(np.asarray(r).astype(rt.np)), n


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    corr = _correction(unbiased, correction)
    v = input._data._np
    dims = _dims(dim, v.ndim)
    res, n = _var_np(v, dims if v.ndim else (), keepdim, corr, input.dtype)
    return record(VarBackward0, res, (input,), save=(input,), dims=dims, keepdim=keepdim,
                  n=n, correction=corr)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    corr = _correction(unbiased, correction)
    v = input._data._np
    dims = _dims(dim, v.ndim)
    res, n = _var_np(v, dims if v.ndim else (), keepdim, corr, input.dtype)
    res = wrap_np(np.sqrt(res._np))
    return record(StdBackward0, res, (input,), save=(input, res), dims=dims, keepdim=keepdim,
                  n=n, correction=corr)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return (var(input, dim, unbiased, keepdim, correction=correction),
            mean(input, dim, keepdim))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return (std(input, dim, unbiased, keepdim, correction=correction),
            mean(input, dim, keepdim))


class LogsumexpBackward0(Node):
    def backward(self, g):
        (x, out) = self.saved_tensors
        shape = tuple(x.shape)
        out_e = _expand_back(out, shape, self.dims, self.keepdim)
        return (_expand_back(g, shape, self.dims, self.keepdim) * (x - out_e).exp(),)


def logsumexp(input, dim, keepdim=False):
    v = input._data._np
    rt = input.dtype if input.dtype.is_floating_point else D.get_default_dtype()
    v = v.astype(rt.np, copy=False)
    dims = _dims(dim, v.ndim)
    if v.ndim == 0:
        res = wrap_np(v.copy())
    else:
        m = np.max(v, axis=dims, keepdims=True) if v.size else np.zeros(
            [1 if i in dims else s for i, s in enumerate(v.shape)], v.dtype)
        m = np.where(np.isfinite(m), m, 0)
        with np.errstate(divide="ignore"):
            r = np.log(np.sum(np.exp(v - m), axis=dims, keepdims=True)) + m
        if not keepdim:
            r = r.squeeze(dims)
        res = wrap_np(r.astype(rt.np))
    return record(LogsumexpBackward0, res, (input,), save=(input, res), dims=dims,
                  keepdim=keepdim)


class LinalgVectorNormBackward0(Node):
    def backward(self, g):
        (x, out) = self.saved_tensors
        shape = tuple(x.shape)
        p = self.ord
        g = _expand_back(g, shape, self.dims, self.keepdim)
        out_e = _expand_back(out, shape, self.dims, self.keepdim)
        from .elementwise import where

        if p == 2:
            safe = where(out_e == 0, out_e + 1, out_e)
            return (where(out_e == 0, g * 0, g * x / safe),)
        if p == 1:
            return (g * x.sign(),)
        if p == math.inf or p == -math.inf:
            mask = (x.abs() == out_e)
            return (g * x.sign() * mask / mask.sum(self.dims, keepdim=True),)
        safe = where(out_e == 0, out_e + 1, out_e)
        return (g * x.sign() * x.abs() ** (p - 1) / safe ** (p - 1),)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    if p == "fro" or p is None:
        p = 2
    if isinstance(p, str):
        raise RuntimeError(f"norm(): unsupported norm type {p!r}")
    if not input.dtype.is_floating_point:
        raise RuntimeError(
            "linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
            f"{_cap(input.dtype)}"
        )
    v = input._data._np
    dims = _dims(dim, v.ndim)
    a = np.abs(v.astype(np.float64))
    ax = dims if v.ndim else None
    if p == math.inf:
        r = np.max(a, axis=ax, keepdims=keepdim)
    elif p == -math.inf:
        r = np.min(a, axis=ax, keepdims=keepdim)
    elif p == 0:
        r = np.sum(a != 0, axis=ax, keepdims=keepdim).astype(np.float64)
    else:
        r = np.sum(a ** p, axis=ax, keepdims=keepdim) ** (1.0 / p)
    res = wrap_np(np.asarray(r).astype(v.dtype))
    return record(LinalgVectorNormBackward0, res, (input,), save=(input, res), dims=dims,
                  keepdim=keepdim, ord=p)


class CumsumBackward0(Node):
    def backward(self, g):
        return (g.flip(self.dim).cumsum(self.dim).flip(self.dim),)


def cumsum(input, dim, *, dtype=None):
    v = input._data._np
    rt = _sum_dtype(input, dtype)
    d = _wrap_dim(dim, v.ndim)
    res = wrap_np(np.cumsum(v, axis=d, dtype=rt.np) if v.ndim else v.astype(rt.np, copy=True))
    return record(CumsumBackward0, res, (input,), dim=d)


def cumprod(input, dim, *, dtype=None):
    v = input._data._np
    rt = _sum_dtype(input, dtype)
    d = _wrap_dim(dim, v.ndim)
    res = wrap_np(np.cumprod(v, axis=d, dtype=rt.np) if v.ndim else v.astype(rt.np, copy=True))
    return record(CumprodBackward0, res, (input,), save=(input, res), dim=d)


class CumprodBackward0(Node):
    def backward(self, g):
        x, out = self.saved_tensors
        d = self.dim
        return (((g * out).flip(d).cumsum(d).flip(d)) / x,)


_k_sum_to_shape = kernel("reduction", "sum_to_shape", None)

TENSOR_METHODS = {
    "sum": sum, "nansum": nansum, "sum_to_size": sum_to_size, "mean": mean, "prod": prod,
    "max": max, "min": min, "amax": amax, "amin": amin, "argmax": argmax, "argmin": argmin,
    "all": all, "any": any, "var": var, "std": std, "logsumexp": logsumexp, "norm": norm,
    "cumsum": cumsum, "cumprod": cumprod,
}
FUNCTIONS = dict(TENSOR_METHODS)
del FUNCTIONS["sum_to_size"]
FUNCTIONS.update(var_mean=var_mean, std_mean=std_mean)

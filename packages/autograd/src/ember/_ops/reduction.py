"""Differentiable reductions: sum, mean, prod, max/min/amax/amin, var/std, logsumexp, norm,
cumsum, and the non-differentiable argmax/argmin/all/any."""
import builtins
import math

import numpy as np

from ember_tensor import Array

from ember_tensor import _dtype as D
from ember_tensor import elementwise as E
from ember_tensor import reduction as R
from ember_tensor._array import _wrap_dim

from .. import return_types
from .._core.node import Node, record
from .._tensor import Tensor
from .indexing import _scatter_grad
from .selection import maximum, minimum, where
from ._common import is_t, require_tensor


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


def sum(input, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    if isinstance(dim, D.dtype):  # sum(x, torch.float64)
        dim, dtype = None, dim
    require_tensor(input, "sum")
    shape = input._data._np.shape
    if dim is None:
        res = R.sum(input._data, None, False, dtype)
        if not input._requires_grad:  # no node to fill: no keyword dict to build
            return record(SumBackward0, res, (input,))
        return record(SumBackward0, res, (input,), shape=shape)
    if type(dim) is int and not input._requires_grad:
        # one int dim, nothing to record: the Array sum wraps and checks it as torch does
        # (``_dims`` here only feeds the node, and builds a tuple the kernel path unpacks)
        return record(SumBackward1, R.sum(input._data, dim, keepdim, dtype), (input,))
    dims = _dims(dim, len(shape))
    res = R.sum(input._data, dims, keepdim, dtype)
    return record(SumBackward1, res, (input,), shape=shape, dims=dims, keepdim=keepdim)


class NansumBackward0(Node):
    def backward(self, g):
        (x,) = self.saved_tensors
        g = _expand_back(g, self.shape, self.dims, self.keepdim)
        return (g * Tensor._make(E.logical_not(E.isnan(x._data))),)


def nansum(input, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    require_tensor(input, "nansum")
    x = input._data
    shape = x._np.shape
    dims = _dims(dim, len(shape))
    clean = E.where(E.isnan(x), 0, x) if x.dtype.is_floating_point else x
    res = R.sum(clean, dims, keepdim and dim is not None, dtype)
    return record(NansumBackward0, res, (input,), save=(input,), shape=shape, dims=dims,
                  keepdim=keepdim and dim is not None)


def sum_to_size(input, *size) -> Tensor:
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


def mean(input, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    if isinstance(dim, D.dtype):
        dim, dtype = None, dim
    require_tensor(input, "mean")
    shape = input._data._np.shape
    if dim is None:
        res = R.mean(input._data, None, False, dtype)
        return record(MeanBackward0, res, (input,), shape=shape, n=math.prod(shape))
    dims = _dims(dim, len(shape))
    res = R.mean(input._data, dims, keepdim, dtype)
    n = math.prod(shape[d] for d in dims) if shape else 1
    return record(MeanBackward1, res, (input,), shape=shape, dims=dims, keepdim=keepdim, n=n)


class ProdBackward0(Node):
    def backward(self, g):
        (x, out) = self.saved_tensors
        return (_prod_grad(x, out, g, None, False),)


class ProdBackward1(Node):
    def backward(self, g):
        (x, out) = self.saved_tensors
        return (_prod_grad(x, out, g, self.dim, self.keepdim),)


def _prod_grad(x, out, g, dim, keepdim):
    """d prod / d x_i = product of the others: out / x_i without zeros; with zeros, only a
    lone zero gets a gradient (the product of the rest), every other element gets 0."""
    shape = tuple(x.shape)
    if dim is None:
        g, out = g.expand(shape), out.expand(shape)
    else:
        g = _expand_back(g, shape, (dim,), keepdim)
        out = _expand_back(out, shape, (dim,), keepdim)
    is_zero = x == 0
    if not builtins.bool(is_zero.any()):
        return g * out / x
    dims = tuple(range(len(shape))) if dim is None else (dim,)
    zeros = is_zero.sum(dims, keepdim=True).expand(shape)
    rest = where(is_zero, 1.0, x)
    rest = (rest.prod() if dim is None else rest.prod(dim, keepdim=True)).expand(shape)
    lone = is_zero & (zeros == 1)
    return g * where(lone, rest, where(zeros == 0, out / where(is_zero, 1.0, x), 0.0))


def prod(input, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    require_tensor(input, "prod")
    if dim is None:
        res = R.prod(input._data, None, False, dtype)
        return record(ProdBackward0, res, (input,), save=(input, res))
    d = _wrap_dim(dim, input._data.ndim)
    res = R.prod(input._data, d, keepdim, dtype)
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
        return (_scatter_grad(g, idx, self.shape, self.dim, self.keepdim),)


class MaxBackward0(_ExtremumDim):
    pass


class MinBackward0(_ExtremumDim):
    pass


def _extremum(input, dim, keepdim, name, node_all, node_dim, other=None):
    if other is not None or is_t(dim):  # max(a, b): the elementwise form
        other = other if other is not None else dim
        return (maximum if name == "max" else minimum)(input, other)
    require_tensor(input, name)
    kernel = R.max if name == "max" else R.min
    if dim is None:
        res = kernel(input._data)
        return record(node_all, res, (input,), save=(input, res))
    shape = input._data._np.shape
    d = _wrap_dim(dim, len(shape))
    vals, idx = kernel(input._data, d, keepdim)
    out_v, out_i = record(node_dim, (vals, idx), (input,), non_differentiable=(idx,),
                          save=(idx,), shape=shape, dim=d, keepdim=keepdim)
    return getattr(return_types, name)(out_v, out_i)


def max(input, dim=None, keepdim=False, *, other=None):
    return _extremum(input, dim, keepdim, "max", MaxBackward1, MaxBackward0, other)


def min(input, dim=None, keepdim=False, *, other=None):
    return _extremum(input, dim, keepdim, "min", MinBackward1, MinBackward0, other)


def _amax_amin(kernel, node, input, dim, keepdim):
    dims = _dims(dim, input._data.ndim)
    res = kernel(input._data, dim, keepdim)
    return record(node, res, (input,), save=(input, res), dims=dims, keepdim=keepdim)


def amax(input, dim=(), keepdim=False) -> Tensor:
    return _amax_amin(R.amax, AmaxBackward0, input, dim, keepdim)


def amin(input, dim=(), keepdim=False) -> Tensor:
    return _amax_amin(R.amin, AminBackward0, input, dim, keepdim)


def argmax(input, dim=None, keepdim=False) -> Tensor:
    return Tensor._make(R.argmax(input._data, dim, keepdim))


def argmin(input, dim=None, keepdim=False) -> Tensor:
    return Tensor._make(R.argmin(input._data, dim, keepdim))


def all(input, dim=None, keepdim=False) -> Tensor:
    return Tensor._make(R.all(input._data, dim, keepdim))


def any(input, dim=None, keepdim=False) -> Tensor:
    return Tensor._make(R.any(input._data, dim, keepdim))


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


def _moment(kernel, node, input, dim, unbiased, keepdim, correction, save_out):
    if isinstance(dim, builtins.bool):  # var(x, True): the old positional ``unbiased``
        unbiased, dim = dim, None
    require_tensor(input, node.__name__[:3].lower())
    res = kernel(input._data, dim, correction=correction, keepdim=keepdim, unbiased=unbiased)
    shape = input._data._np.shape
    dims = _dims(dim, len(shape))
    n = math.prod(shape[d] for d in dims) if shape else 1
    return record(node, res, (input,), save=(input, res) if save_out else (input,), dims=dims,
                  keepdim=keepdim, n=n, correction=_correction(unbiased, correction))


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> Tensor:
    return _moment(R.var, VarBackward0, input, dim, unbiased, keepdim, correction, False)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> Tensor:
    return _moment(R.std, StdBackward0, input, dim, unbiased, keepdim, correction, True)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *,
             correction=None) -> tuple[Tensor, Tensor]:
    return (var(input, dim, unbiased, keepdim, correction=correction),
            mean(input, dim, keepdim))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *,
             correction=None) -> tuple[Tensor, Tensor]:
    return (std(input, dim, unbiased, keepdim, correction=correction),
            mean(input, dim, keepdim))


class LogsumexpBackward0(Node):
    def backward(self, g):
        (x, out) = self.saved_tensors
        shape = tuple(x.shape)
        out_e = _expand_back(out, shape, self.dims, self.keepdim)
        return (_expand_back(g, shape, self.dims, self.keepdim) * (x - out_e).exp(),)


def logsumexp(input, dim, keepdim=False) -> Tensor:
    require_tensor(input, "logsumexp")
    res = R.logsumexp(input._data, dim, keepdim)
    dims = _dims(dim, input._data.ndim)
    return record(LogsumexpBackward0, res, (input,), save=(input, res), dims=dims,
                  keepdim=keepdim)


class LinalgVectorNormBackward0(Node):
    def backward(self, g):
        (x, out) = self.saved_tensors
        shape = tuple(x.shape)
        p = self.ord
        g = _expand_back(g, shape, self.dims, self.keepdim)
        out_e = _expand_back(out, shape, self.dims, self.keepdim)
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


def norm(input, p="fro", dim=None, keepdim=False, dtype=None) -> Tensor:
    require_tensor(input, "norm")
    if p is None:
        p = 2
    if dtype is not None:
        input = input.to(dtype)
    res = R.norm(input._data, p, dim, keepdim)
    p = 2 if p == "fro" else p
    dims = _dims(dim, input._data.ndim)
    return record(LinalgVectorNormBackward0, res, (input,), save=(input, res), dims=dims,
                  keepdim=keepdim, ord=p)


class CumsumBackward0(Node):
    def backward(self, g):
        return (g.flip(self.dim).cumsum(self.dim).flip(self.dim),)


def cumsum(input, dim, *, dtype=None) -> Tensor:
    require_tensor(input, "cumsum")
    d = _wrap_dim(dim, input._data.ndim)
    return record(CumsumBackward0, R.cumsum(input._data, d, dtype), (input,), dim=d)


def cumprod(input, dim, *, dtype=None) -> Tensor:
    # ember_tensor has no cumprod kernel yet: NumPy's, with torch's result dtypes
    v = input._data._np
    rt = _sum_dtype(input, dtype)
    d = _wrap_dim(dim, v.ndim)
    res = Array(np.cumprod(v, axis=d, dtype=rt.np) if v.ndim else v.astype(rt.np, copy=True))
    return record(CumprodBackward0, res, (input,), save=(input, res), dim=d)


class CumprodBackward0(Node):
    def backward(self, g):
        x, out = self.saved_tensors
        d = self.dim
        return (((g * out).flip(d).cumsum(d).flip(d)) / x,)


TENSOR_METHODS = {
    "sum": sum, "nansum": nansum, "sum_to_size": sum_to_size, "mean": mean, "prod": prod,
    "max": max, "min": min, "amax": amax, "amin": amin, "argmax": argmax, "argmin": argmin,
    "all": all, "any": any, "var": var, "std": std, "logsumexp": logsumexp, "norm": norm,
    "cumsum": cumsum, "cumprod": cumprod,
}
FUNCTIONS = dict(TENSOR_METHODS)
del FUNCTIONS["sum_to_size"]
FUNCTIONS.update(var_mean=var_mean, std_mean=std_mean)

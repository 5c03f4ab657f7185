"""Softmax and log-softmax along any dim, numerically stable (the max is subtracted first),
and their backwards expressed through the forward's output."""
import math

import numpy as np

from .._array import Array, _wrap_dim
from .._elementwise_core import _wrap as _wrap_result
from .._kernels import softmax as _k
from ._util import kernel_array, nd, scalar_name, size_str, wrap


def _prep(x, dim, op):
    xa = nd(x)
    d = _wrap_dim(dim, xa.ndim)
    if xa.dtype not in (np.float32, np.float64):
        kernel = f"{op}_lastdim_kernel_impl" if d == max(xa.ndim - 1, 0) else f"{op}_kernel_impl"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{scalar_name(xa.dtype)}\'')
    return xa, (d if xa.ndim else None)


def _blocks(a, d):
    """Contiguous (outer, D, inner) view (or copy) of ``a`` with ``d`` in the middle."""
    a = kernel_array(a)
    if d is None:
        return a.reshape(1, 1, 1)
    return a.reshape(math.prod(a.shape[:d]), a.shape[d], math.prod(a.shape[d + 1:]))


def _forward(x, dim, op, log):
    if type(x) is Array and type(dim) is int:
        # the usual call in one C call (the same loops); None: not plain, checked below
        xn = x._np
        n = xn.ndim
        y = _k.forward_plain(xn, dim + n if -n <= dim < 0 else dim, log)
        if y is not None:
            return _wrap_result(y)
    xa, d = _prep(x, dim, op)
    if not xa.size:
        return wrap(np.empty(xa.shape, xa.dtype))
    xb = _blocks(xa, d)
    out = np.empty(xb.shape, xa.dtype)  # fresh and contiguous: the blocks' shape as it is
    _k.softmax_forward(xb, out, log)
    return _wrap_result(out.reshape(xa.shape))


def softmax(x, dim):
    return _forward(x, dim, "softmax", False)


def log_softmax(x, dim):
    return _forward(x, dim, "log_softmax", True)


def _check_backward(go, out):
    if go.shape != out.shape:
        raise RuntimeError(
            f"expected grad_output of size {size_str(out.shape)}, but got {size_str(go.shape)}")
    if go.dtype != out.dtype:
        raise RuntimeError(
            f"expected scalar type {scalar_name(out.dtype)} but found {scalar_name(go.dtype)}")


def _backward(grad_out, out, dim, log):
    go, y = nd(grad_out), nd(out)
    _check_backward(go, y)
    d = _wrap_dim(dim, y.ndim) if y.ndim else None
    if y.dtype not in (np.float32, np.float64):
        raise NotImplementedError(
            f'"{"log_softmax" if log else "softmax"}_backward" not implemented for '
            f"'{scalar_name(y.dtype)}'")
    gx = np.empty(y.shape, y.dtype)
    if y.size:
        _k.softmax_backward(_blocks(go, d), _blocks(y, d), _blocks(gx, d), log)
    return wrap(gx)


def softmax_backward(grad_out, out, dim):
    """d/dx of softmax given its output: ``out * (g - sum(g * out))``."""
    return _backward(grad_out, out, dim, False)


def log_softmax_backward(grad_out, out, dim):
    """d/dx of log_softmax given its output: ``g - exp(out) * sum(g)``."""
    return _backward(grad_out, out, dim, True)

"""Softmax and log-softmax along any dim, numerically stable (the max is subtracted first),
and their backwards expressed through the forward's output."""
import numpy as np

from .._array import _wrap_dim
from ._util import nd, scalar_name, size_str, wrap


def _prep(x, dim, op):
    xa = nd(x)
    d = _wrap_dim(dim, xa.ndim)
    if xa.dtype not in (np.float32, np.float64):
        kernel = f"{op}_lastdim_kernel_impl" if d == max(xa.ndim - 1, 0) else f"{op}_kernel_impl"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{scalar_name(xa.dtype)}\'')
    return xa, (d if xa.ndim else None)


def _shifted(xa, d):
    # as torch: a slice holding +inf (or only -inf) comes out all nan
    with np.errstate(invalid="ignore"):
        return xa - np.max(xa, axis=d, keepdims=True)


def softmax(x, dim):
    xa, d = _prep(x, dim, "softmax")
    if xa.size == 0:
        return wrap(np.empty(xa.shape, xa.dtype))
    e = np.exp(_shifted(xa, d))
    with np.errstate(invalid="ignore"):
        e /= np.sum(e, axis=d, keepdims=True)
    return wrap(e)


def log_softmax(x, dim):
    xa, d = _prep(x, dim, "log_softmax")
    if xa.size == 0:
        return wrap(np.empty(xa.shape, xa.dtype))
    s = _shifted(xa, d)
    s -= np.log(np.sum(np.exp(s), axis=d, keepdims=True))
    return wrap(s)


def _check_backward(go, out):
    if go.shape != out.shape:
        raise RuntimeError(
            f"expected grad_output of size {size_str(out.shape)}, but got {size_str(go.shape)}")
    if go.dtype != out.dtype:
        raise RuntimeError(
            f"expected scalar type {scalar_name(out.dtype)} but found {scalar_name(go.dtype)}")


def softmax_backward(grad_out, out, dim):
    """d/dx of softmax given its output: ``out * (g - sum(g * out))``."""
    go, y = nd(grad_out), nd(out)
    _check_backward(go, y)
    d = _wrap_dim(dim, y.ndim) if y.ndim else None
    gy = go * y
    gy -= y * np.sum(gy, axis=d, keepdims=True)
    return wrap(gy)


def log_softmax_backward(grad_out, out, dim):
    """d/dx of log_softmax given its output: ``g - exp(out) * sum(g)``."""
    go, y = nd(grad_out), nd(out)
    _check_backward(go, y)
    d = _wrap_dim(dim, y.ndim) if y.ndim else None
    return wrap(go - np.exp(y) * np.sum(go, axis=d, keepdims=True))

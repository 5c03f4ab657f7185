"""Batch and layer normalisation, forward and backward.

``batch_norm`` returns ``(out, save_mean, save_invstd)``. In training these are the batch
statistics; in eval they are the running mean and ``1/sqrt(running_var + eps)``, so
``batch_norm_backward`` takes the same arguments in both modes.
"""
import math

import numpy as np

from .._kernels import layer_norm as _ln
from .._array import Array
from .._kernels import norm as _k
from .._size import Size
from ._util import kernel_array, nd, scalar_name, size_str, wrap


def _blocks(xa):
    """(N, C, *) -> contiguous (N, C, L) view or copy."""
    xa = kernel_array(xa)
    return xa.reshape(xa.shape[0], xa.shape[1], -1)


def _check_bn(xa, weight, bias, running_mean, running_var):
    if xa.ndim < 2:
        raise ValueError(f"expected 2D or more input (got {xa.ndim}D input)")
    C = xa.shape[1]
    for name, v in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        if v is not None and v.size != C:
            raise RuntimeError(f"{name} should contain {C} elements not {v.size}")
    if xa.dtype not in (np.float32, np.float64):
        raise NotImplementedError(
            f'"batch_norm" not implemented for \'{scalar_name(xa.dtype)}\'')


def _running(v):
    """A running statistic as ``train_forward`` updates it in place: ``v`` itself when it is
    a writeable contiguous float32/float64 array (as a module's buffers are), else a float64
    working copy the caller writes back."""
    if v is None or (v.dtype in (np.float32, np.float64) and v.flags.c_contiguous
                     and v.flags.writeable):
        return v
    return v.astype(np.float64)


def _param(v, C):
    """``v`` as a contiguous float32/float64 vector of C (as it usually already is), or None."""
    if v is None:
        return None
    v = v.reshape(C)
    if v.dtype not in (np.float32, np.float64):
        return v.astype(np.float64)
    return v if v.flags.c_contiguous else np.ascontiguousarray(v)


def _stat(v, C, default):
    """A saved statistic as the kernels take it; absent, the constant ``default``."""
    return np.full(C, default) if v is None else _param(v, C)


_KERNEL_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))

# switch for A/B timing of the fast paths below (False: every call takes the general path)
FAST_ARGUMENTS = True


def _kernel_vector(v, C, writeable=False):
    """The ndarray of an Array ``v`` when the kernels can take it as it is (a contiguous
    float32/float64 vector of C, writeable when asked), else False; None (an absent
    parameter) stays None."""
    if v is None:
        return None
    if type(v) is not Array:
        return False
    a = v._np
    if (a.ndim != 1 or a.shape[0] != C or a.dtype not in _KERNEL_FLOATS
            or not a.flags.c_contiguous or (writeable and not a.flags.writeable)):
        return False
    return a


def _kernel_input(x):
    """The ndarray of an Array ``x`` when the kernels can take it as it is (a writeable
    C-contiguous float32/float64 array of 2 or more dimensions, not empty), else None."""
    if type(x) is not Array:
        return None
    a = x._np
    if a.ndim < 2 or a.size == 0 or a.dtype not in _KERNEL_FLOATS:
        return None
    flags = a.flags
    return a if flags.c_contiguous and flags.writeable else None


def _fast_batch_norm(x, weight, bias, running_mean, running_var, training, momentum, eps,
                     relu):
    """``batch_norm`` for the usual arguments (Arrays the kernels take as they are, N*L > 1
    in training, both running statistics in eval), without the general path's checks and
    copies, which cannot fire or change anything for them; None for any other call."""
    xa = _kernel_input(x)
    if xa is None:
        return None
    shape = xa.shape
    N, C = shape[0], shape[1]
    L = xa.size // (N * C)
    w, b = _kernel_vector(weight, C), _kernel_vector(bias, C)
    rm = _kernel_vector(running_mean, C, True)
    rv = _kernel_vector(running_var, C, True)
    if w is False or b is False or rm is False or rv is False:
        return None
    dtype = xa.dtype
    out = np.empty(shape, dtype)
    mean, invstd = np.empty(C, dtype), np.empty(C, dtype)
    if training:
        if N * L <= 1:
            return None
        _k.train_forward(xa.reshape(N, C, L), out.reshape(N, C, L), rm, rv, w, b,
                         float(momentum), float(eps), bool(relu), mean, invstd)
    else:
        if rm is None or rv is None:
            return None
        _k.eval_forward(xa.reshape(N, C, L), out.reshape(N, C, L), rm, rv, w, b, float(eps),
                        bool(relu), mean, invstd)
    return Array(out), Array(mean), Array(invstd)


def batch_norm(x, weight, bias, running_mean, running_var, training, momentum, eps,
               relu=False):
    """torch.native_batch_norm. ``momentum`` is the factor for the running-stat update
    (a cumulative average is the caller's choice of factor). ``relu=True`` fuses a ReLU."""
    if FAST_ARGUMENTS:
        fast = _fast_batch_norm(x, weight, bias, running_mean, running_var, training,
                                momentum, eps, relu)
        if fast is not None:
            return fast
    xa = nd(x)
    w, b, rm, rv = nd(weight), nd(bias), nd(running_mean), nd(running_var)
    _check_bn(xa, w, b, rm, rv)
    x3 = _blocks(xa)
    N, C, L = x3.shape
    out = np.empty(xa.shape, xa.dtype)
    if not training:
        if rm is None or rv is None:
            raise RuntimeError(
                "running_mean and running_var must be defined in evaluation mode")
        mean, invstd = np.empty(C, xa.dtype), np.empty(C, xa.dtype)
        _k.eval_forward(x3, out.reshape(N, C, L), _param(rm, C), _param(rv, C), _param(w, C),
                        _param(b, C), float(eps), bool(relu), mean, invstd)
        return wrap(out), wrap(mean), wrap(invstd)
    if N * L <= 1:
        raise ValueError(
            "Expected more than 1 value per channel when training, got input size "
            + repr(Size(xa.shape)).replace("ember.", "torch."))
    mean, invstd = np.empty(C, xa.dtype), np.empty(C, xa.dtype)
    rm_work, rv_work = _running(rm), _running(rv)
    _k.train_forward(x3, out.reshape(N, C, L), rm_work, rv_work, _param(w, C), _param(b, C),
                     float(momentum), float(eps), bool(relu), mean, invstd)
    for stat, work in ((rm, rm_work), (rv, rv_work)):
        if work is not stat:
            stat[...] = work
    return wrap(out), wrap(mean), wrap(invstd)


def _fast_batch_norm_backward(grad_out, x, weight, save_mean, save_invstd, training,
                              output_mask):
    """``batch_norm_backward`` for the usual arguments (Arrays the kernels take as they
    are, of one shape and dtype, with both statistics), without the general path's checks
    and copies; None for any other call."""
    xa, go = _kernel_input(x), _kernel_input(grad_out)
    if xa is None or go is None:
        return None
    shape = xa.shape
    dtype = xa.dtype
    if go.shape != shape or go.dtype != dtype:
        return None
    N, C = shape[0], shape[1]
    L = xa.size // (N * C)
    w = _kernel_vector(weight, C)
    mean, invstd = _kernel_vector(save_mean, C), _kernel_vector(save_invstd, C)
    if w is False or mean is None or mean is False or invstd is None or invstd is False:
        return None
    need_x, need_w, need_b = (bool(m) for m in output_mask)
    gx = np.empty(shape, dtype) if need_x else None
    gw = np.empty(C, dtype) if need_w else None
    gb = np.empty(C, dtype) if need_b else None
    kernel = _k.train_backward if training else _k.eval_backward
    kernel(go.reshape(N, C, L), xa.reshape(N, C, L),
           None if gx is None else gx.reshape(N, C, L), mean, invstd, w, gw, gb)
    return (None if gx is None else Array(gx), None if gw is None else Array(gw),
            None if gb is None else Array(gb))


def batch_norm_backward(grad_out, x, weight, save_mean, save_invstd, training,
                        output_mask=(True, True, True)):
    """``(grad_input, grad_weight, grad_bias)`` of batch_norm, None where not asked for."""
    if FAST_ARGUMENTS:
        fast = _fast_batch_norm_backward(grad_out, x, weight, save_mean, save_invstd,
                                         training, output_mask)
        if fast is not None:
            return fast
    xa, go = nd(x), nd(grad_out)
    w = nd(weight)
    if go.shape != xa.shape:
        raise RuntimeError(
            f"batch_norm_backward: expected grad_output of size {size_str(xa.shape)}, but got "
            f"{size_str(go.shape)}")
    if go.dtype != xa.dtype:
        raise RuntimeError(
            f"expected scalar type {scalar_name(xa.dtype)} but found {scalar_name(go.dtype)}")
    _check_bn(xa, w, None, nd(save_mean), nd(save_invstd))
    x3 = _blocks(xa)
    g3 = _blocks(go)
    N, C, L = x3.shape
    need_x, need_w, need_b = (bool(m) for m in output_mask)
    gx = np.empty(xa.shape, xa.dtype) if need_x else None
    gw = np.empty(C, xa.dtype) if need_w else None
    gb = np.empty(C, xa.dtype) if need_b else None
    # eval: the statistics are constants, one sweep; training: the sums, then one sweep
    kernel = _k.train_backward if training else _k.eval_backward
    kernel(g3, x3, None if gx is None else gx.reshape(N, C, L), _stat(nd(save_mean), C, 0.0),
           _stat(nd(save_invstd), C, 1.0), _param(w, C), gw, gb)
    return tuple(None if a is None else wrap(a) for a in (gx, gw, gb))


def batch_norm_relu(x, weight, bias, running_mean, running_var, eps):
    """Eval-mode batch_norm followed by ReLU in one pass over memory."""
    return batch_norm(x, weight, bias, running_mean, running_var, False, 0.0, eps, relu=True)[0]


# ---- layer norm -------------------------------------------------------------------------

def _ln_shape(xa, normalized_shape, w, b):
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    ns = tuple(int(s) for s in normalized_shape)
    k = len(ns)
    if k == 0:
        raise RuntimeError(
            "Expected normalized_shape to be at least 1-dimensional, i.e., containing at "
            "least one element, but got normalized_shape = []")
    for name, v in (("weight", w), ("bias", b)):
        if v is not None and tuple(v.shape) != ns:
            raise RuntimeError(
                f"Expected {name} to be of same shape as normalized_shape, but got {name} of "
                f"shape {size_str(v.shape)} and normalized_shape = {size_str(ns)}")
    if xa.ndim < k or tuple(xa.shape[xa.ndim - k:]) != ns:
        raise RuntimeError(
            f"Given normalized_shape={size_str(ns)}, expected input with shape "
            f"[*, {', '.join(str(s) for s in ns)}], but got input of size{size_str(xa.shape)}")
    if xa.dtype not in (np.float32, np.float64):
        raise NotImplementedError(
            f'"LayerNormKernelImpl" not implemented for \'{scalar_name(xa.dtype)}\'')
    return ns


def _ln_vec(v, D):
    return None if v is None else kernel_array(v.reshape(D), dtype=np.float64)


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """torch.native_layer_norm: ``(out, mean, rstd)``; mean/rstd keep the normalised dims
    as size 1."""
    xa, w, b = nd(x), nd(weight), nd(bias)
    ns = _ln_shape(xa, normalized_shape, w, b)
    D = math.prod(ns)
    lead = xa.shape[:xa.ndim - len(ns)]
    M = math.prod(lead)
    stat_shape = lead + (1,) * len(ns)
    mean = np.zeros(M)
    rstd = np.full(M, np.nan)  # an empty row's variance is 0/0, as torch reports
    y = np.empty(xa.shape, xa.dtype)
    if D:
        _ln.forward(kernel_array(xa).reshape(M, D), y.reshape(M, D), _ln_vec(w, D),
                    _ln_vec(b, D), float(eps), mean, rstd)
    return (wrap(y), wrap(mean.astype(xa.dtype).reshape(stat_shape)),
            wrap(rstd.astype(xa.dtype).reshape(stat_shape)))


def layer_norm_backward(grad_out, x, normalized_shape, mean, rstd, weight=None, bias=None,
                        output_mask=(True, True, True)):
    """``(grad_input, grad_weight, grad_bias)`` of layer_norm."""
    xa, go, w = nd(x), nd(grad_out), nd(weight)
    ns = _ln_shape(xa, normalized_shape, w, nd(bias))
    if go.shape != xa.shape:
        raise RuntimeError(
            f"layer_norm_backward: expected grad_output of size {size_str(xa.shape)}, but got "
            f"{size_str(go.shape)}")
    D = math.prod(ns)
    M = xa.size // D if D else math.prod(xa.shape[:xa.ndim - len(ns)])
    need_x, need_w, need_b = (bool(v) for v in output_mask)
    need_w = need_w and w is not None
    need_b = need_b and nd(bias) is not None
    gx = np.empty(xa.shape, xa.dtype) if need_x else None
    if D:
        gw, gb = _ln.backward(
            kernel_array(go, dtype=xa.dtype).reshape(M, D),
            kernel_array(xa).reshape(M, D),
            kernel_array(nd(mean).reshape(M), dtype=np.float64),
            kernel_array(nd(rstd).reshape(M), dtype=np.float64),
            _ln_vec(w, D), None if gx is None else gx.reshape(M, D), need_w, need_b)
    else:
        gw = gb = np.zeros(0)
    return (None if gx is None else wrap(gx),
            wrap(gw.astype(xa.dtype).reshape(ns)) if need_w else None,
            wrap(gb.astype(xa.dtype).reshape(ns)) if need_b else None)

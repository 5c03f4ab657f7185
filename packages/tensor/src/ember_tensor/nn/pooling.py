"""Max, average and adaptive-average 2-D pooling (NCHW or unbatched CHW) and their backwards.

Output sizes follow torch's rule exactly, including ``ceil_mode``'s "the last window must
start inside the input or its left padding".
"""
import operator
from typing import Optional

import numpy as np

from .._kernels import avg_pool as _avg
from .._kernels import max_pool as _max
from .._kernels.fast_path import wrap as _wrap_new
from ._util import kernel_array, nd, pair, scalar_name, size_str, wrap


# grad_input of max pooling this large (bytes) comes zeroed from the allocator instead of
# being zeroed by the kernel (see max_pool2d_backward); None: never. Off: the quiet A/B of
# 2026-12-06 read the 16x64x112x112 backward 7.3 ms with the kernel zeroing and 10.5 ms with
# 32 << 20 (calloc's fresh pages fault twice as often). Since ember_tensor keeps big freed
# blocks with malloc (_malloc_policy), that gradient reuses mapped memory (2.9 ms) and calloc
# would clear it with a memset of its own: one more pass. Tests set it to force either path.
ZEROED_ALLOCATION_BYTES: Optional[int] = None


def _out_size(n, k, p, s, d, ceil_mode):
    out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _check_input(x):
    ok = (x.ndim == 3 and all(x.shape)) or (x.ndim == 4 and all(x.shape[1:]))
    if not ok:
        raise RuntimeError(
            "Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, "
            "but got:" + size_str(x.shape)
        )


def _params(x, kernel_size, stride, padding, dilation, ceil_mode, dilated_pad_rule):
    """Normalise and check pooling arguments; return (kh, kw, sh, sw, ph, pw, dh, dw, OH, OW)."""
    kh, kw = pair(kernel_size, "kernel_size")
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        sh, sw = kh, kw
    else:
        sh, sw = pair(stride, "stride")
    ph, pw = pair(padding, "padding")
    dh, dw = pair(dilation, "dilation")
    if sh == 0 or sw == 0:
        raise RuntimeError("stride should not be zero")
    if kh <= 0 or kw <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kh} kW: {kw}")
    if sh < 0 or sw < 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {sh} dW: {sw}")
    if dh <= 0 or dw <= 0:
        raise RuntimeError(
            f"dilation should be greater than zero, but got dilationH: {dh} dilationW: {dw}")
    for p, k, d in ((ph, kh, dh), (pw, kw, dw)):
        if p < 0 or p > ((k - 1) * d + 1) // 2:
            raise RuntimeError(
                f"pad should be at most half of effective kernel size, but got pad={p}, "
                f"kernel_size={k} and dilation={d}"
            )
    if dilated_pad_rule and (pw > kw // 2 or ph > kh // 2):
        raise RuntimeError(
            f"pad should be smaller than or equal to half of kernel size, but got padW = {pw}, "
            f"padH = {ph}, kW = {kw}, kH = {kh}"
        )
    _check_input(x)
    C, H, W = x.shape[-3:]
    OH = _out_size(H, kh, ph, sh, dh, ceil_mode)
    OW = _out_size(W, kw, pw, sw, dw, ceil_mode)
    if OH < 1 or OW < 1:
        raise RuntimeError(
            f"Given input size: ({C}x{H}x{W}). Calculated output size: ({C}x{OH}x{OW}). "
            "Output size is too small"
        )
    return kh, kw, sh, sw, ph, pw, dh, dw, OH, OW


def _as_planes(a):
    a = kernel_array(a)
    return a.reshape((-1,) + a.shape[-2:])


def _float_only(x, op):
    if x.dtype not in (np.float32, np.float64):
        raise NotImplementedError(f'"{op}" not implemented for \'{scalar_name(x.dtype)}\'')


def _check_grad(go, shape, dtype, op):
    if tuple(go.shape) != tuple(shape):
        raise RuntimeError(
            f"{op}: expected grad_output of size {size_str(shape)}, but got {size_str(go.shape)}")
    if go.dtype != dtype:
        raise RuntimeError(
            f"expected scalar type {scalar_name(dtype)} but found {scalar_name(go.dtype)}")


# ---- max pooling ------------------------------------------------------------------------

def max_pool2d_with_indices(x, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False):
    """``(out, indices)``; indices are int64 positions ``h*W + w`` within each input plane."""
    xa = nd(x)
    kh, kw, sh, sw, ph, pw, dh, dw, OH, OW = _params(
        xa, kernel_size, stride, padding, dilation, ceil_mode, dilated_pad_rule=True)
    if xa.dtype.kind not in "fiu":
        raise NotImplementedError(
            f'"max_pool2d" not implemented for \'{scalar_name(xa.dtype)}\'')
    # the maximum of float16 values is exact in float32, so half pools through it
    work = xa.astype(np.float32) if xa.dtype == np.float16 else xa
    shape = xa.shape[:-2] + (OH, OW)
    out = np.empty(shape, work.dtype)
    idx = np.empty(shape, np.int64)
    _max.max_pool2d(_as_planes(work), out.reshape(-1, OH, OW), idx.reshape(-1, OH, OW),
                  (kh, kw, sh, sw, ph, pw, dh, dw))
    return wrap(out.astype(xa.dtype, copy=False)), wrap(idx)


_PLAIN_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def max_pool2d_plain(x, kernel, stride, padding, out_hw):
    """``max_pool2d_with_indices(x, kernel, stride, padding)`` with dilation 1 for the
    usual call whose geometry the caller has worked out and checked as torch does (ember's
    ``F.max_pool2d``: ``kernel``, ``stride``, ``padding`` pairs of ints, positive kernel
    and stride, pads within half the kernel, a non-empty 3-D or 4-D input, ``out_hw`` the
    output size by the ceil or floor rule). The input must be a C-contiguous, writeable
    float32/float64 array; for anything else None, and the caller takes
    ``max_pool2d_with_indices``, which checks everything. Here only the kernel's own checks
    run: ``_params``' normalising cost as much as the pooling at ResNet's 1x64x32x32."""
    xa = x._np
    flags = xa.flags
    if (xa.dtype not in _PLAIN_FLOATS or not flags.c_contiguous
            or not flags.writeable):
        return None
    oh, ow = out_hw
    shape = xa.shape[:-2] + out_hw
    out = np.empty(shape, xa.dtype)
    idx = np.empty(shape, np.int64)
    _max.max_pool2d(xa.reshape((-1,) + xa.shape[-2:]), out.reshape(-1, oh, ow),
                    idx.reshape(-1, oh, ow),
                    (kernel[0], kernel[1], stride[0], stride[1], padding[0], padding[1], 1, 1))
    return _wrap_new(out), _wrap_new(idx)


def max_pool2d_backward_plain(grad_out, in_shape, indices):
    """``max_pool2d_backward`` for the usual call: a C-contiguous float32/float64 gradient
    of the indices' shape (which ``max_pool2d_plain`` or ``max_pool2d_with_indices`` made for
    an input of ``in_shape``) and no zeroed allocation asked for; the input's gradient in the
    gradient's dtype. Anything else: None, and the caller takes ``max_pool2d_backward``,
    which checks everything."""
    if ZEROED_ALLOCATION_BYTES is not None:
        return None
    gx = _max.backward_plain(grad_out._np, indices._np, in_shape)
    return None if gx is None else _wrap_new(gx)


def max_pool2d_backward(grad_out, x, indices):
    """Gradient of max pooling: each output's gradient goes to its argmax (accumulating)."""
    xa, go, idx = nd(x), nd(grad_out), nd(indices)
    if ZEROED_ALLOCATION_BYTES is None and xa.dtype == go.dtype:
        # the usual call in one C call (the same loop); None: not plain, checked below
        gx = _max.backward_plain(go, idx, xa.shape)
        if gx is not None:
            return _wrap_new(gx)
    _check_grad(go, idx.shape, xa.dtype, "max_pool2d_backward")
    if idx.dtype != np.int64:
        raise RuntimeError(
            f"expected indices of scalar type Long but found {scalar_name(idx.dtype)}")
    if xa.shape[:-2] != go.shape[:-2]:
        raise RuntimeError(
            f"max_pool2d_backward: grad_output {size_str(go.shape)} does not match input "
            f"{size_str(xa.shape)}")
    # the kernel zeroes each plane it scatters into (the block may be reused memory holding
    # an earlier array's values), unless ZEROED_ALLOCATION_BYTES asks calloc for zeros
    zeroed = ZEROED_ALLOCATION_BYTES is not None and xa.nbytes >= ZEROED_ALLOCATION_BYTES
    gx = (np.zeros if zeroed else np.empty)(xa.shape, xa.dtype)
    if gx.size:
        _max.max_pool2d_backward(_as_planes(go), _as_planes(idx), gx.reshape((-1,) + gx.shape[-2:]),
                               zeroed)
    return wrap(gx)


# ---- average pooling --------------------------------------------------------------------

def _avg_params(xa, kernel_size, stride, padding, ceil_mode, divisor_override):
    geo = _params(xa, kernel_size, stride, padding, 1, ceil_mode, dilated_pad_rule=False)
    if divisor_override is not None:
        divisor_override = operator.index(divisor_override)
        if divisor_override == 0:
            raise RuntimeError("divisor must be not zero")
    return geo, divisor_override or 0


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    xa = nd(x)
    geo, div = _avg_params(xa, kernel_size, stride, padding, ceil_mode, divisor_override)
    kh, kw, sh, sw, ph, pw, _, _, OH, OW = geo
    _float_only(xa, "avg_pool2d")
    out = np.empty(xa.shape[:-2] + (OH, OW), xa.dtype)
    _avg.avg_pool2d(_as_planes(xa), out.reshape(-1, OH, OW), (kh, kw, sh, sw, ph, pw),
                  bool(count_include_pad), div)
    return wrap(out)


def avg_pool2d_backward(grad_out, x, kernel_size, stride=None, padding=0, ceil_mode=False,
                        count_include_pad=True, divisor_override=None):
    xa, go = nd(x), nd(grad_out)
    geo, div = _avg_params(xa, kernel_size, stride, padding, ceil_mode, divisor_override)
    kh, kw, sh, sw, ph, pw, _, _, OH, OW = geo
    _check_grad(go, xa.shape[:-2] + (OH, OW), xa.dtype, "avg_pool2d_backward")
    gx = np.zeros(xa.shape, xa.dtype)
    if gx.size:
        _avg.avg_pool2d_backward(_as_planes(go), gx.reshape((-1,) + gx.shape[-2:]),
                               (kh, kw, sh, sw, ph, pw), bool(count_include_pad), div)
    return wrap(gx)


# ---- adaptive average pooling -----------------------------------------------------------

def _adaptive_size(xa, output_size):
    if xa.ndim < 3:
        raise ValueError("Input dimension should be at least 3")
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise RuntimeError("adaptive_avg_pool2d: output_size must be 2")
        oh, ow = output_size
    else:
        oh = ow = output_size
    oh = xa.shape[-2] if oh is None else operator.index(oh)
    ow = xa.shape[-1] if ow is None else operator.index(ow)
    if oh < 0 or ow < 0:
        raise RuntimeError(
            "adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 "
            f"but received {{{oh}, {ow}}}")
    _check_adaptive_input(xa, "adaptive_avg_pool2d", "")
    return oh, ow


def _check_adaptive_input(xa, op, colon):
    """torch's words for an adaptive pool's input (``colon``: max pooling says "got: [..]")."""
    if xa.ndim not in (3, 4):
        raise RuntimeError(
            f"{op}(): Expected 3D or 4D tensor, but got{colon} {size_str(xa.shape)}")
    for d in range(xa.ndim - 3, xa.ndim):
        if xa.shape[d] == 0:
            raise RuntimeError(
                f"{op}(): Expected input to have non-zero size for non-batch dimensions, but "
                f"input has sizes {size_str(xa.shape)} with dimension {d} being empty")


def adaptive_avg_pool2d(x, output_size):
    xa = nd(x)
    OH, OW = _adaptive_size(xa, output_size)
    _float_only(xa, "adaptive_avg_pool2d")
    out = np.empty(xa.shape[:-2] + (OH, OW), xa.dtype)
    if out.size:
        _avg.adaptive_avg_pool2d(_as_planes(xa), out.reshape(-1, OH, OW))
    return wrap(out)


def adaptive_avg_pool2d_backward(grad_out, x):
    xa, go = nd(x), nd(grad_out)
    if go.ndim != xa.ndim or go.shape[:-2] != xa.shape[:-2]:
        raise RuntimeError(
            f"adaptive_avg_pool2d_backward: grad_output {size_str(go.shape)} does not match "
            f"input {size_str(xa.shape)}")
    _check_grad(go, go.shape, xa.dtype, "adaptive_avg_pool2d_backward")
    gx = np.zeros(xa.shape, xa.dtype)
    if gx.size and go.size:
        _avg.adaptive_avg_pool2d_backward(_as_planes(go), gx.reshape((-1,) + gx.shape[-2:]))
    return wrap(gx)


def global_avg_pool2d(x):
    """Adaptive average pooling to 1x1: each plane's mean, rounded as
    ``mean(dim=(-2, -1), keepdim=True)`` rounds it (the double sum to the dtype, then divided
    in the dtype). One pass per plane instead of the adaptive windows' loop."""
    xa = nd(x)
    _check_adaptive_input(xa, "adaptive_avg_pool2d", "")
    _float_only(xa, "adaptive_avg_pool2d")
    out = np.empty(xa.shape[:-2] + (1, 1), xa.dtype)
    _avg.global_avg_pool2d(_as_planes(xa), out.reshape(-1))
    return wrap(out)


def global_avg_pool2d_backward(grad_out, shape):
    """Gradient of ``global_avg_pool2d`` for an input of ``shape``: each plane is its
    ``grad_out / (H*W)``, written in one pass (no zero fill, no expanded copy)."""
    go = kernel_array(nd(grad_out))
    shape = tuple(shape)
    if go.shape != shape[:-2] + (1, 1):
        raise RuntimeError(
            f"adaptive_avg_pool2d_backward: grad_output {size_str(go.shape)} does not match "
            f"input {size_str(shape)}")
    gx = np.empty(shape, go.dtype)
    _avg.global_avg_pool2d_backward(go.reshape(-1), gx.reshape((-1,) + shape[-2:]))
    return wrap(gx)


# ---- adaptive max pooling ---------------------------------------------------------------

def _adaptive_max_size(xa, output_size):
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise RuntimeError(
                "adaptive_max_pool2d(): internal error: output_size.size() must be 2")
        oh, ow = output_size
    else:
        oh = ow = output_size
    _check_adaptive_input(xa, "adaptive_max_pool2d", ":")
    oh = xa.shape[-2] if oh is None else operator.index(oh)
    ow = xa.shape[-1] if ow is None else operator.index(ow)
    if oh < 0 or ow < 0:
        shape = xa.shape[:-2] + (oh, ow)
        raise RuntimeError(f"Trying to create tensor with negative dimension "
                           f"{min(oh, ow)}: {size_str(shape)}")
    return oh, ow


def adaptive_max_pool2d(x, output_size):
    """``(out, indices)`` over torch's adaptive windows (start ``floor(i*H/OH)``, end
    ``ceil((i+1)*H/OH)``); indices are int64 ``h*W + w`` within each plane, as max_pool2d's,
    so ``max_pool2d_backward`` scatters the gradient."""
    xa = nd(x)
    OH, OW = _adaptive_max_size(xa, output_size)
    _float_only(xa, "adaptive_max_pool2d")
    shape = xa.shape[:-2] + (OH, OW)
    out = np.empty(shape, xa.dtype)
    idx = np.empty(shape, np.int64)
    if out.size:
        _max.adaptive_max_pool2d(_as_planes(xa), out.reshape(-1, OH, OW), idx.reshape(-1, OH, OW))
    return wrap(out), wrap(idx)

"""Differentiable neural-network ops: convolution, pooling, normalisation, softmax, losses.

Each forward computes on the inputs' arrays and hands the result to ``record`` with a node
named as torch's grad_fn. These nodes compute their backward directly on arrays (one fused
pass instead of a chain of Tensor ops), so they are ``once_differentiable``.
"""
import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ember_tensor import Array
from ember_tensor import nn as K

from ..autograd.node import Node, record
from .._tensor import Tensor

__all__ = [
    "conv2d", "max_pool2d_with_indices", "avg_pool2d", "adaptive_avg_pool2d", "batch_norm",
    "layer_norm", "softmax", "log_softmax", "nll_loss", "dropout", "embedding",
    "embedding_renorm_", "mse_loss", "binary_cross_entropy_with_logits", "constant_pad_nd",
    "one_hot", "leaky_relu", "gelu", "div_scalar",
]


def _a(t):
    """The ndarray of a Tensor (None passes)."""
    return None if t is None else t._data._np


def _t(a):
    return None if a is None else Tensor._make(Array(a))


def _pair(v, name):
    if isinstance(v, (tuple, list)):
        v = tuple(int(x) for x in v)
        return v * 2 if len(v) == 1 else v
    return (int(v), int(v))


def _bump(t):
    t._version_counter[0] += 1


class _FusedNode(Node):
    once_differentiable = True


# ---- convolution -------------------------------------------------------------------------
class ConvolutionBackward0(_FusedNode):
    def backward(self, grad):
        x, w = self.saved_tensors
        mask = (self.needs_input_grad[0], self.needs_input_grad[1],
                len(self.needs_input_grad) > 2 and self.needs_input_grad[2])
        gx, gw, gb = K.conv2d_backward(grad._data, x._data, w._data, self.stride, self.padding,
                                       self.dilation, self.groups, output_mask=mask)
        wrap = (lambda a: None if a is None else Tensor._make(a))
        return wrap(gx), wrap(gw), wrap(gb)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    stride, dilation = _pair(stride, "stride"), _pair(dilation, "dilation")
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            k = weight.shape[2:]
            total = [d * (kk - 1) for d, kk in zip(dilation, k)]
            left = [t // 2 for t in total]
            if any(t % 2 for t in total):
                # even effective kernel: torch pads the extra row/column at the end
                extra = []
                for t, lf in zip(reversed(total), reversed(left)):
                    extra += [0, t - 2 * lf]
                input = constant_pad_nd(input, tuple(extra), 0.0)
            padding = tuple(left)
        else:
            raise RuntimeError(
                f"Invalid padding string: '{padding}'" if padding else "Invalid padding string"
            )
    padding = _pair(padding, "padding")
    if input.dim() == 3 and weight.dim() == 4:
        # torch convolves an unbatched image as a batch of one, then squeezes (SqueezeBackward1)
        return conv2d(input.unsqueeze(0), weight, bias, stride, padding, dilation,
                      groups).squeeze(0)
    out = K.conv2d(input._data, weight._data, None if bias is None else bias._data, stride,
                   padding, dilation, groups)
    return record(ConvolutionBackward0, out, (input, weight, bias), save=(input, weight),
                  stride=stride, padding=padding, dilation=dilation, groups=groups)


# ---- pooling -----------------------------------------------------------------------------
def _pool_out(size, k, s, p, d, ceil):
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
    if ceil and (out - 1) * s >= size + p:
        out -= 1
    return out


def _pool_geometry(x, kernel_size, stride, padding, dilation, ceil_mode, name):
    k, s = _pair(kernel_size, "kernel_size"), _pair(stride, "stride")
    p, d = _pair(padding, "padding"), _pair(dilation, "dilation")
    if x.ndim not in (3, 4) or x.size == 0:
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    for pi, ki, di in zip(p, k, d):
        if pi > (di * (ki - 1) + 1) // 2:
            raise RuntimeError(
                "pad should be at most half of effective kernel size, but got "
                f"pad={pi}, kernel_size={ki} and dilation={di}")
    H, W = x.shape[-2:]
    oh = _pool_out(H, k[0], s[0], p[0], d[0], ceil_mode)
    ow = _pool_out(W, k[1], s[1], p[1], d[1], ceil_mode)
    if oh < 1 or ow < 1:
        c = x.shape[-3]
        raise RuntimeError(f"Given input size: ({c}x{H}x{W}). Calculated output size: "
                           f"({c}x{oh}x{ow}). Output size is too small")
    return k, s, p, d, oh, ow


def _windows(xp, k, s, d, oh, ow):
    """(N, C, oh, ow, kh, kw) strided view of the padded input: no copy."""
    sn, sc, sh, sw = xp.strides
    return as_strided(xp, (xp.shape[0], xp.shape[1], oh, ow, k[0], k[1]),
                      (sn, sc, sh * s[0], sw * s[1], sh * d[0], sw * d[1]), writeable=False)


def _padded(x, p, k, s, d, oh, ow, fill):
    """x with ``p`` border plus whatever extra rows/cols ceil_mode windows reach."""
    N, C, H, W = x.shape
    need_h = (oh - 1) * s[0] + d[0] * (k[0] - 1) + 1
    need_w = (ow - 1) * s[1] + d[1] * (k[1] - 1) + 1
    ph = max(need_h, H + 2 * p[0])
    pw = max(need_w, W + 2 * p[1])
    if ph == H and pw == W:
        return np.ascontiguousarray(x)
    xp = np.full((N, C, ph, pw), fill, dtype=x.dtype)
    xp[:, :, p[0]:p[0] + H, p[1]:p[1] + W] = x
    return xp


class MaxPool2DWithIndicesBackward0(_FusedNode):
    def backward(self, grad, grad_indices=None):
        g = _a(grad)
        idx = self.indices
        shape = self.in_shape
        HW = shape[-1] * shape[-2]
        nc = idx.size // max(1, idx.shape[-1] * idx.shape[-2])
        flat = (idx.reshape(nc, -1) + (np.arange(nc) * HW)[:, None]).ravel()
        gi = np.bincount(flat, weights=g.reshape(-1), minlength=nc * HW)
        return (_t(gi.astype(g.dtype, copy=False).reshape(shape)),)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False):
    x = _a(input)
    stride = kernel_size if stride is None else stride
    k, s, p, d, oh, ow = _pool_geometry(x, kernel_size, stride, padding, dilation, ceil_mode,
                                        "max_pool2d")
    x4 = x[None] if x.ndim == 3 else x
    N, C, H, W = x4.shape
    lowest = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    xp = _padded(x4, p, k, s, d, oh, ow, lowest)
    win = _windows(xp, k, s, d, oh, ow).reshape(N, C, oh, ow, k[0] * k[1])
    arg = win.argmax(axis=-1)
    out = np.take_along_axis(win, arg[..., None], axis=-1)[..., 0]
    # window position -> flat index into the unpadded H*W plane, as torch reports it
    ih = (np.arange(oh) * s[0] - p[0])[:, None] + (arg // k[1]) * d[0]
    iw = (np.arange(ow) * s[1] - p[1])[None, :] + (arg % k[1]) * d[1]
    idx = (ih * W + iw).astype(np.int64)
    if x.ndim == 3:
        out, idx = out[0], idx[0]
    out = np.ascontiguousarray(out)
    idx_arr = Array(np.ascontiguousarray(idx))
    out_arr = Array(out)
    return record(MaxPool2DWithIndicesBackward0, (out_arr, idx_arr), (input,),
                  non_differentiable=(idx_arr,), indices=idx_arr._np, in_shape=x.shape)


class AvgPool2DBackward0(_FusedNode):
    def backward(self, grad):
        g = _a(grad)
        k, s, p = self.k, self.s, self.p
        g4 = g[None] if g.ndim == 3 else g
        gs = g4 / self.divisor
        gp = np.zeros(self.padded_shape, dtype=g.dtype)
        oh, ow = g4.shape[-2:]
        for i in range(k[0]):
            for j in range(k[1]):
                gp[:, :, i:i + s[0] * oh:s[0], j:j + s[1] * ow:s[1]] += gs
        H, W = self.in_shape[-2:]
        gi = gp[:, :, p[0]:p[0] + H, p[1]:p[1] + W]
        return (_t(np.ascontiguousarray(gi.reshape(self.in_shape))),)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    x = _a(input)
    if x.ndim < 3:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-x.ndim}, {x.ndim - 1}], but got -3)")
    stride = kernel_size if stride is None else stride
    k, s, p, d, oh, ow = _pool_geometry(x, kernel_size, stride, padding, 1, ceil_mode,
                                        "avg_pool2d")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    x4 = x[None] if x.ndim == 3 else x
    N, C, H, W = x4.shape
    xp = _padded(x4, p, k, s, d, oh, ow, 0)
    total = _windows(xp, k, s, d, oh, ow).sum(axis=(-1, -2))
    if divisor_override is not None:
        divisor = np.array(divisor_override, dtype=x.dtype)
    else:
        h0 = np.arange(oh) * s[0] - p[0]
        w0 = np.arange(ow) * s[1] - p[1]
        h1 = np.minimum(h0 + k[0], H + p[0])
        w1 = np.minimum(w0 + k[1], W + p[1])
        if not count_include_pad:
            h0, w0 = np.maximum(h0, 0), np.maximum(w0, 0)
            h1, w1 = np.minimum(h1, H), np.minimum(w1, W)
        divisor = ((h1 - h0)[:, None] * (w1 - w0)[None, :]).astype(x.dtype)
    out = (total / divisor).astype(x.dtype, copy=False)
    if x.ndim == 3:
        out = out[0]
    return record(AvgPool2DBackward0, Array(np.ascontiguousarray(out)), (input,),
                  k=k, s=s, p=p, divisor=divisor, padded_shape=xp.shape, in_shape=x.shape)


class AdaptiveAvgPool2DBackward0(_FusedNode):
    def backward(self, grad):
        g = _a(grad)
        gi = np.zeros(self.in_shape, dtype=g.dtype)
        for i, (h0, h1) in enumerate(self.rows):
            for j, (w0, w1) in enumerate(self.cols):
                gi[..., h0:h1, w0:w1] += (g[..., i, j] / ((h1 - h0) * (w1 - w0)))[..., None,
                                                                                    None]
        return (_t(gi),)


def _adaptive_ranges(size, out):
    return [((i * size) // out, -((-(i + 1) * size) // out)) for i in range(out)]


def adaptive_avg_pool2d(input, output_size):
    x = _a(input)
    if x.ndim not in (3, 4):
        raise RuntimeError(
            f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got {list(x.shape)}")
    if isinstance(output_size, (tuple, list)):
        oh, ow = (output_size * 2) if len(output_size) == 1 else output_size
    else:
        oh = ow = output_size
    H, W = x.shape[-2:]
    oh = H if oh is None else int(oh)
    ow = W if ow is None else int(ow)
    if (oh, ow) == (1, 1):
        return input.mean((-2, -1), keepdim=True)  # torch does the same: MeanBackward1
    rows, cols = _adaptive_ranges(H, oh), _adaptive_ranges(W, ow)
    out = np.empty(x.shape[:-2] + (oh, ow), dtype=x.dtype)
    for i, (h0, h1) in enumerate(rows):
        for j, (w0, w1) in enumerate(cols):
            out[..., i, j] = x[..., h0:h1, w0:w1].mean(axis=(-1, -2))
    return record(AdaptiveAvgPool2DBackward0, Array(out), (input,), rows=rows, cols=cols,
                  in_shape=x.shape)


# ---- normalisation -----------------------------------------------------------------------
class NativeBatchNormBackward0(_FusedNode):
    def backward(self, grad):
        x, w = self.saved_tensors
        g, xa = _a(grad), _a(x)
        axes, bshape = self.axes, self.bshape
        mean, invstd = self.mean, self.invstd
        xhat = (xa - mean.reshape(bshape)) * invstd.reshape(bshape)
        need_x, need_w, need_b = self.needs_input_grad
        sum_g = g.sum(axis=axes)
        sum_gx = (g * xhat).sum(axis=axes)
        scale = invstd if w is None else invstd * _a(w)
        gx = None
        if need_x:
            if self.training:
                m = xa.size // xa.shape[1]
                gx = (g - (sum_g / m).reshape(bshape) - xhat * (sum_gx / m).reshape(bshape)) \
                    * scale.reshape(bshape)
            else:
                gx = g * scale.reshape(bshape)
            gx = gx.astype(xa.dtype, copy=False)
        gw = sum_gx.astype(xa.dtype) if need_w else None
        gb = sum_g.astype(xa.dtype) if need_b else None
        return _t(gx), _t(gw), _t(gb)


def _check_channel_param(name, t, c):
    if t is not None and t.numel() != c:
        raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    x = _a(input)
    if x.ndim < 2:
        raise ValueError(f"Expected 2D or 3D input (got {x.ndim}D input)")
    c = x.shape[1]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        _check_channel_param(name, t, c)
    axes = (0,) + tuple(range(2, x.ndim))
    bshape = (1, c) + (1,) * (x.ndim - 2)
    if training:
        mean = x.mean(axis=axes)
        var = x.var(axis=axes)
        n = x.size // c
        if running_mean is not None:
            rm = _a(running_mean)
            rm *= 1 - momentum
            rm += momentum * mean
            _bump(running_mean)
        if running_var is not None:
            rv = _a(running_var)
            rv *= 1 - momentum
            rv += momentum * var * (n / max(n - 1, 1))
            _bump(running_var)
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
        mean, var = _a(running_mean), _a(running_var)
    invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype)
    mean = mean.astype(x.dtype, copy=False)
    y = (x - mean.reshape(bshape)) * invstd.reshape(bshape)
    if weight is not None:
        y *= _a(weight).reshape(bshape)
    if bias is not None:
        y += _a(bias).reshape(bshape)
    return record(NativeBatchNormBackward0, Array(y.astype(x.dtype, copy=False)),
                  (input, weight, bias), save=(input, weight), axes=axes, bshape=bshape,
                  mean=mean.copy(), invstd=invstd, training=training)


class NativeLayerNormBackward0(_FusedNode):
    def backward(self, grad):
        x, w = self.saved_tensors
        g, xa = _a(grad), _a(x)
        axes = self.axes
        xhat = (xa - self.mean) * self.invstd
        need_x, need_w, need_b = self.needs_input_grad
        lead = tuple(range(xa.ndim - len(axes)))
        gw = (g * xhat).sum(axis=lead).astype(xa.dtype) if need_w else None
        gb = g.sum(axis=lead).astype(xa.dtype) if need_b else None
        gx = None
        if need_x:
            gy = g * _a(w) if w is not None else g
            m = 1
            for a in axes:
                m *= xa.shape[a]
            gx = (gy - gy.mean(axis=axes, keepdims=True)
                  - xhat * (gy * xhat).mean(axis=axes, keepdims=True)) * self.invstd
            gx = gx.astype(xa.dtype, copy=False)
        return _t(gx), _t(gw), _t(gb)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    x = _a(input)
    shape = tuple(int(s) for s in normalized_shape)
    k = len(shape)
    if k == 0 or x.ndim < k or tuple(x.shape[-k:]) != shape:
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(str(s) for s in shape)}], but got input of size"
            f"{list(x.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(
                f"Expected {name} to be of same shape as normalized_shape, but got {name} of "
                f"shape {list(t.shape)} and normalized_shape = {list(shape)}")
    axes = tuple(range(x.ndim - k, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    invstd = (1.0 / np.sqrt(x.var(axis=axes, keepdims=True) + eps)).astype(x.dtype)
    y = (x - mean) * invstd
    if weight is not None:
        y *= _a(weight)
    if bias is not None:
        y += _a(bias)
    return record(NativeLayerNormBackward0, Array(y.astype(x.dtype, copy=False)),
                  (input, weight, bias), save=(input, weight), axes=axes, mean=mean,
                  invstd=invstd)


# ---- softmax -----------------------------------------------------------------------------
def _dim(dim, ndim):
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim % n


class SoftmaxBackward0(_FusedNode):
    def backward(self, grad):
        (y,) = self.saved_tensors
        g, ya = _a(grad), _a(y)
        return (_t(ya * (g - (g * ya).sum(axis=self.dim, keepdims=True))),)


class LogSoftmaxBackward0(_FusedNode):
    def backward(self, grad):
        (y,) = self.saved_tensors
        g, ya = _a(grad), _a(y)
        return (_t(g - np.exp(ya) * g.sum(axis=self.dim, keepdims=True)),)


def _float_input(x, op):
    if x.dtype.kind != "f":
        raise RuntimeError(f'"{op}_lastdim_kernel_impl" not implemented for '
                           f"'{_SCALAR.get(x.dtype.name, x.dtype.name)}'")


_SCALAR = {"int64": "Long", "int32": "Int", "bool": "Bool", "uint8": "Byte", "int16": "Short",
           "int8": "Char"}


def softmax(input, dim):
    x = _a(input)
    _float_input(x, "softmax")
    d = _dim(dim, x.ndim) if x.ndim else None
    shifted = x - x.max(axis=d, keepdims=True)
    e = np.exp(shifted)
    y = Array(e / e.sum(axis=d, keepdims=True))
    return record(SoftmaxBackward0, y, (input,), save=(y,), dim=d)


def log_softmax(input, dim):
    x = _a(input)
    _float_input(x, "log_softmax")
    d = _dim(dim, x.ndim) if x.ndim else None
    shifted = x - x.max(axis=d, keepdims=True)
    y = Array(shifted - np.log(np.exp(shifted).sum(axis=d, keepdims=True)))
    return record(LogSoftmaxBackward0, y, (input,), save=(y,), dim=d)


# ---- losses ------------------------------------------------------------------------------
class NllLossBackward0(_FusedNode):
    def backward(self, grad, *_):
        g = _a(grad)
        gx = np.zeros(self.in_shape, dtype=g.dtype)
        t, valid, w = self.target, self.valid, self.weights
        if self.reduction == "none":
            scale = -g * w
        else:
            scale = np.broadcast_to(-g * w / self.denom, t.shape) if self.reduction == "mean" \
                else np.broadcast_to(-g * w, t.shape)
        scale = np.where(valid, scale, 0).astype(g.dtype)
        safe = np.where(valid, t, 0)
        # class axis is 1 (0 for an unbatched input): put it last to scatter along it
        cls_axis = 0 if len(self.in_shape) == 1 else 1
        gx_m = np.moveaxis(gx, cls_axis, -1)
        np.put_along_axis(gx_m, safe[..., None], scale[..., None], axis=-1)
        return (_t(np.ascontiguousarray(np.moveaxis(gx_m, -1, cls_axis))), None, None)


class NllLoss2DBackward0(NllLossBackward0):
    pass


def nll_loss(input, target, weight=None, reduction="mean", ignore_index=-100):
    x, t = _a(input), _a(target)
    if t.dtype.kind not in "iu" or t.dtype == np.bool_:
        raise RuntimeError(
            "expected target dtype to be Long or Byte, but got "
            f"{_SCALAR.get(t.dtype.name, 'Float' if t.dtype == np.float32 else 'Double')}")
    if x.ndim < 1:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    if x.ndim >= 2 and x.shape[0] != t.shape[0] if t.ndim else x.ndim >= 2:
        raise ValueError(f"Expected input batch_size ({x.shape[0]}) to match target "
                         f"batch_size ({t.shape[0] if t.ndim else 0}).")
    cls_axis = 0 if x.ndim == 1 else 1
    C = x.shape[cls_axis]
    expected_t = x.shape[:cls_axis] + x.shape[cls_axis + 1:]
    if tuple(t.shape) != tuple(expected_t):
        raise RuntimeError(f"Expected target size {list(expected_t)}, got {list(t.shape)}")
    if weight is not None and weight.numel() != C:
        raise RuntimeError(f"weight tensor should be defined either for all {C} classes or no "
                           f"classes but got weight tensor of shape: {list(weight.shape)}")
    t = t.astype(np.int64)
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= C))
    if bad.any():
        raise IndexError(f"Target {int(t[bad].flat[0])} is out of bounds.")
    safe = np.where(valid, t, 0)
    xm = np.moveaxis(x, cls_axis, -1)
    picked = np.take_along_axis(xm, safe[..., None], axis=-1)[..., 0]
    wt = np.ones(C, dtype=x.dtype) if weight is None else _a(weight).astype(x.dtype)
    w = np.where(valid, wt[safe], 0).astype(x.dtype)
    losses = -picked * w
    denom = None
    if reduction == "none":
        out = losses.astype(x.dtype)
    elif reduction == "sum":
        out = np.array(losses.sum(), dtype=x.dtype)
    else:
        denom = w.sum()
        out = np.array(losses.sum() / denom if denom != 0 else np.nan, dtype=x.dtype)
    node = NllLoss2DBackward0 if x.ndim >= 3 else NllLossBackward0
    return record(node, Array(out), (input, target, weight), target=t, valid=valid,
                  weights=w, reduction=reduction, denom=denom, in_shape=x.shape)


class MseLossBackward0(_FusedNode):
    def backward(self, grad):
        x, y = self.saved_tensors
        diff = _a(x) - _a(y)
        scale = 2.0 / diff.size if self.reduction == "mean" else 2.0
        g = (_a(grad) * scale * diff).astype(diff.dtype, copy=False)
        return _t(g), _t(-g)


def _reduced(loss, reduction, dtype):
    if reduction == "mean":
        return np.array(loss.mean(), dtype=dtype)
    if reduction == "sum":
        return np.array(loss.sum(), dtype=dtype)
    return loss.astype(dtype, copy=False)


def mse_loss(input, target, reduction="mean"):
    x, y = _a(input), _a(target)
    try:
        diff = x - y
    except ValueError:
        raise RuntimeError(_broadcast_msg(x.shape, y.shape)) from None
    dtype = np.result_type(x.dtype, y.dtype)
    return record(MseLossBackward0, Array(_reduced(diff * diff, reduction, dtype)),
                  (input, target), save=(input, target), reduction=reduction)


def _broadcast_msg(a, b):
    for i in range(1, max(len(a), len(b)) + 1):
        sa = a[-i] if i <= len(a) else 1
        sb = b[-i] if i <= len(b) else 1
        if sa != sb and sa != 1 and sb != 1:
            return (f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) at "
                    f"non-singleton dimension {max(len(a), len(b)) - i}")
    return "shapes cannot be broadcast"


def _softplus_neg(x):
    """log(1 + exp(-x)) without overflow."""
    return np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))


class BinaryCrossEntropyWithLogitsBackward0(_FusedNode):
    def backward(self, grad):
        x, t, w, pw = self.saved_tensors
        xa, ta = _a(x), _a(t)
        g = _a(grad)
        if self.reduction == "mean":
            g = g / xa.size
        sig = 1.0 / (1.0 + np.exp(-xa))
        if pw is None:
            gx = sig - ta
            gt = -xa
        else:
            pwa = _a(pw)
            gx = (1 - ta) - ((pwa - 1) * ta + 1) * (1 - sig)
            gt = -xa + (pwa - 1) * _softplus_neg(xa)
        if w is not None:
            gx, gt = gx * _a(w), gt * _a(w)
        dtype = xa.dtype
        return (_t((g * gx).astype(dtype, copy=False)),
                _t((g * gt).astype(dtype, copy=False)), None, None)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None,
                                     reduction="mean"):
    x, t = _a(input), _a(target)
    sp = _softplus_neg(x)
    if pos_weight is None:
        loss = (1 - t) * x + sp
    else:
        loss = (1 - t) * x + ((_a(pos_weight) - 1) * t + 1) * sp
    if weight is not None:
        loss = loss * _a(weight)
    return record(BinaryCrossEntropyWithLogitsBackward0,
                  Array(_reduced(loss, reduction, x.dtype)),
                  (input, target, weight, pos_weight),
                  save=(input, target, weight, pos_weight), reduction=reduction)


# ---- dropout / embedding -----------------------------------------------------------------
def dropout(input, p, inplace=False):
    from ember_tensor._random import random_uniform_like

    x = _a(input)
    keep = random_uniform_like(x.shape, dtype=np.float64) >= p
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    mask = Tensor._make(Array((keep * scale).astype(x.dtype)))
    return input.mul_(mask) if inplace else input * mask


class EmbeddingBackward0(_FusedNode):
    def backward(self, grad):
        g = _a(grad)
        idx = self.indices.reshape(-1)
        gw = np.zeros(self.weight_shape, dtype=g.dtype)
        g2 = g.reshape(-1, self.weight_shape[1])
        if self.scale_grad_by_freq:
            counts = np.bincount(idx, minlength=self.weight_shape[0])
            g2 = g2 / counts[idx][:, None]
        np.add.at(gw, idx, g2)
        if self.padding_idx >= 0:
            gw[self.padding_idx] = 0
        return (_t(gw), None)


def embedding(input, weight, padding_idx=-1, scale_grad_by_freq=False):
    idx = _a(input)
    if idx.dtype not in (np.int64, np.int32):
        name = {"float32": "FloatTensor", "float64": "DoubleTensor", "bool": "BoolTensor",
                "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor"}
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got torch.{name.get(idx.dtype.name, 'Tensor')} instead "
            "(while checking arguments for embedding)")
    w = _a(weight)
    if idx.size and (idx.min() < 0 or idx.max() >= w.shape[0]):
        raise IndexError("index out of range in self")
    out = w[idx]
    return record(EmbeddingBackward0, Array(out), (weight, input), indices=idx.astype(np.int64),
                  weight_shape=w.shape, padding_idx=padding_idx,
                  scale_grad_by_freq=scale_grad_by_freq)


def embedding_renorm_(weight, input, max_norm, norm_type):
    w = _a(weight)
    rows = np.unique(_a(input))
    norms = np.linalg.norm(w[rows], ord=norm_type, axis=1)
    over = norms > max_norm
    w[rows[over]] *= (max_norm / (norms[over] + 1e-7))[:, None].astype(w.dtype)
    _bump(weight)
    return weight


class DivBackward1(Node):
    """Division by a Python number, as torch's C++ losses do it (``DivBackward1``)."""

    def backward(self, grad):
        return (grad / self.other,)


def div_scalar(input, other):
    return record(DivBackward1, Array(np.asarray(_a(input) / other, dtype=_a(input).dtype)), (input,),
                  other=other)


# ---- padding / one_hot -------------------------------------------------------------------
class ConstantPadNdBackward0(Node):
    def backward(self, grad):
        return (constant_pad_nd(grad, tuple(-p for p in self.pad), 0.0),)


def constant_pad_nd(input, pad, value=0.0):
    x = _a(input)
    nd = len(pad) // 2
    out_shape = list(x.shape)
    src = [slice(None)] * x.ndim
    dst = [slice(None)] * x.ndim
    for i in range(nd):
        axis = x.ndim - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        size = x.shape[axis]
        new = size + lo + hi
        if new < 0:
            raise RuntimeError(
                f"The input size {size}, plus negative padding {lo} and {hi} resulted in a "
                f"negative output size, which is invalid. Check dimension {axis} of your input.")
        out_shape[axis] = new
        src[axis] = slice(max(-lo, 0), size - max(-hi, 0))
        dst[axis] = slice(max(lo, 0), max(lo, 0) + max(0, size - max(-lo, 0) - max(-hi, 0)))
    out = np.full(out_shape, value, dtype=x.dtype)
    out[tuple(dst)] = x[tuple(src)]
    return record(ConstantPadNdBackward0, Array(out), (input,), pad=tuple(pad))


def one_hot(tensor, num_classes=-1):
    x = _a(tensor)
    if x.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if x.size and x.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        if x.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(x.max()) + 1
    elif x.size and x.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = np.zeros(x.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, x[..., None], 1, axis=-1)
    return Tensor._make(Array(out))


# ---- activations without a Tensor method -------------------------------------------------
class LeakyReluBackward0(_FusedNode):
    def backward(self, grad):
        (x,) = self.saved_tensors
        return (_t(np.where(_a(x) > 0, _a(grad), _a(grad) * self.slope).astype(
            _a(grad).dtype, copy=False)),)


class LeakyReluBackward1(LeakyReluBackward0):
    pass


def leaky_relu(input, negative_slope=0.01, inplace=False):
    x = _a(input)
    if inplace:
        from ..autograd.node import check_inplace

        check_inplace(input)
        np.multiply(x, negative_slope, out=x, where=x < 0)
        return record(LeakyReluBackward1, input, (input,), save=(input,), slope=negative_slope)
    out = np.where(x > 0, x, x * negative_slope).astype(x.dtype, copy=False)
    return record(LeakyReluBackward0, Array(out), (input,), save=(input,), slope=negative_slope)


_erf = np.frompyfunc(math.erf, 1, 1)


def _gelu_parts(x, approximate):
    if approximate == "tanh":
        c = math.sqrt(2.0 / math.pi)
        inner = c * (x + 0.044715 * x ** 3)
        th = np.tanh(inner)
        y = 0.5 * x * (1 + th)
        dy = 0.5 * (1 + th) + 0.5 * x * (1 - th ** 2) * c * (1 + 3 * 0.044715 * x ** 2)
        return y, dy
    cdf = 0.5 * (1.0 + _erf(x.astype(np.float64) / math.sqrt(2.0)).astype(np.float64))
    pdf = np.exp(-0.5 * x.astype(np.float64) ** 2) / math.sqrt(2 * math.pi)
    return x * cdf, cdf + x * pdf


class GeluBackward0(_FusedNode):
    def backward(self, grad):
        (x,) = self.saved_tensors
        xa = _a(x)
        _, dy = _gelu_parts(xa, self.approximate)
        return (_t((_a(grad) * dy).astype(xa.dtype, copy=False)),)


def gelu(input, approximate="none"):
    x = _a(input)
    y, _ = _gelu_parts(x, approximate)
    return record(GeluBackward0, Array(np.asarray(y).astype(x.dtype, copy=False)), (input,),
                  save=(input,), approximate=approximate)

"""Differentiable neural-network ops: convolution, pooling, normalisation, softmax, losses.

Each forward runs ember_tensor's kernels (``nn``, ``elementwise``, ``reduction``) on the
inputs' arrays and hands the result to ``record`` with a node named as torch's grad_fn. These
nodes compute their backward with the matching backward kernels (one fused pass instead of a
chain of Tensor ops). Under ``create_graph=True`` they record that backward as a node of its
own (``nn_double_backward``, ``nn_conv``, ``nn_pool``), so gradients of gradients work as in
torch. NumPy appears here only to move memory (padding copies, index bookkeeping), never for
the math.
"""
import numpy as np

from ember_tensor import Array
from ember_tensor import _dtype as D
from ember_tensor import elementwise as E
from ember_tensor import inplace as _inplace
from ember_tensor import nn as K
from ember_tensor._kernels.fast_path import unary_inplace as _unary_inplace
from ember_tensor.nn import pooling as K_pool
from ember_tensor import reduction as R

from .. import _grad_mode as grad_mode
from .._core.node import Node, check_inplace, record
from .._tensor import Tensor
from . import nn_double_backward as DB
from . import nn_pool as P
from .arithmetic import MulBackward0
from .inplace import recorded_in_place
from .nn_conv import convolution
from .nn_double_backward import building_graph, div_scalar
from .nn_loss import binary_cross_entropy_with_logits, mse_loss, nll_loss
from .unary import ReluBackward0

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
    """An Array (or None) as a Tensor that needs no grad."""
    return None if a is None else Tensor._make(a)


def _pair(v, name):
    if type(v) is tuple and len(v) == 2 and type(v[0]) is int and type(v[1]) is int:
        return v  # as nn.Conv2d stores them: nothing to normalise on every call
    if isinstance(v, (tuple, list)):
        v = tuple(int(x) for x in v)
        return v * 2 if len(v) == 1 else v
    return (int(v), int(v))


def _bump(t):
    t._version_counter[0] += 1


# ---- convolution -------------------------------------------------------------------------
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
    return convolution(input, weight, bias, (stride, padding, dilation, groups))


# ---- activations -------------------------------------------------------------------------
def relu_(input):
    """``F.relu(x, inplace=True)``, as ResNet calls it after every BatchNorm.

    With no graph to record, the kernel rectifies the tensor's memory directly; the generic
    in-place path computes out of place and copies back, which at 16x64x112x112 cost 9 ms
    against the kernel's 1.3 ms.
    """
    input._check_inplace()
    if grad_mode._state.grad_enabled and input._requires_grad:
        arr = input._data._np
        if (input._base is None and not input._views and arr.flags.writeable
                and arr.dtype.kind == "f"):
            # the kernel rectifies in place and the node saves that memory as its output:
            # no out-of-place result copied back (inplace.recorded_in_place)
            return recorded_in_place(input, _relu_memory, ReluBackward0)
        return input.relu_()
    _relu_memory(input._data)
    input._version_counter[0] += 1
    return input


def _relu_memory(a):
    """Rectify Array ``a`` in place: a contiguous writeable float32/float64 array by the
    relu loop in C (``fast_path.unary_inplace``; the general in-place form's Python frames
    cost more than the loop at 1x64x16x16), anything else by ``ember_tensor.inplace``."""
    if not _unary_inplace("relu", a):
        _inplace.relu_(a)


# ---- pooling -----------------------------------------------------------------------------
def _pool_out(size, k, s, p, d, ceil):
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
    if ceil and (out - 1) * s >= size + p:
        out -= 1
    return out


def _pool_geometry(x, kernel_size, stride, padding, dilation, ceil_mode, name):
    """torch's argument checks for 2-D pooling, in the words F.max_pool2d/avg_pool2d use."""
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


def _plain_int_pair(v, low):
    if type(v) is int:
        return v >= low
    return type(v) is tuple and len(v) == 2 and type(v[0]) is int and type(v[1]) is int \
        and v[0] >= low and v[1] >= low


def _plain_window(kernel_size, stride, padding, dilation):
    """Arguments as MaxPool2d keeps them (ints or pairs of ints; positive kernel and stride,
    pads from 0), which ember_tensor's full normalising would pass unchanged: the checked
    geometry may go straight to the kernel (``pooling.max_pool2d_plain``)."""
    return (_plain_int_pair(kernel_size, 1) and _plain_int_pair(stride, 1)
            and _plain_int_pair(padding, 0) and _plain_int_pair(dilation, 1))


class MaxPool2DWithIndicesBackward0(Node):
    def backward(self, grad, grad_indices=None):
        return (P.max_pool2d_backward(grad, self.in_shape, self.indices),)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False):
    x = _a(input)
    stride = kernel_size if stride is None else stride
    k, s, p, d, oh, ow = _pool_geometry(x, kernel_size, stride, padding, dilation, ceil_mode,
                                        "max_pool2d")
    res = None
    if d == (1, 1) and _plain_window(kernel_size, stride, padding, dilation):
        res = K_pool.max_pool2d_plain(input._data, k, s, p, (oh, ow))
    if res is None:
        res = K.max_pool2d_with_indices(input._data, k, s, p, d, ceil_mode)
    out_arr, idx_arr = res
    return record(MaxPool2DWithIndicesBackward0, (out_arr, idx_arr), (input,),
                  non_differentiable=(idx_arr,), indices=idx_arr, in_shape=x.shape)


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
    args = (k, s, p, bool(ceil_mode), bool(count_include_pad), divisor_override)
    return P.avg_pool2d(input, args)


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
        if x.size and x.dtype in (np.float32, np.float64):
            return P.global_avg_pool2d(input)  # the mean's values and node, one fused kernel
        return input.mean((-2, -1), keepdim=True)  # torch does the same: MeanBackward1
    return P.adaptive_avg_pool2d(input, (oh, ow))


# ---- normalisation -----------------------------------------------------------------------
def _data(t):
    return None if t is None else t._data


class NativeBatchNormBackward0(Node):
    def backward(self, grad):
        x, w = self.saved_tensors
        if building_graph():
            return DB.batch_norm_backward(grad, x, w, self.mean, self.invstd, self.training,
                                          self.eps, self.needs_input_grad)
        gx, gw, gb = K.batch_norm_backward(
            grad._data, x._data, _data(w), self.mean, self.invstd, self.training,
            output_mask=self.needs_input_grad)
        return _t(gx), _t(gw), _t(gb)


def _check_channel_param(name, t, c):
    if t is not None and t.numel() != c:
        raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")


def _channel_params_fit(c, *tensors):
    """True when every given tensor holds ``c`` elements: one cheap test per call, so that
    the named checks (and their messages) run only when one does not."""
    try:
        for t in tensors:
            if t is not None and t._data._np.size != c:
                return False
    except AttributeError:  # not a Tensor: the named checks report it
        return False
    return True


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    x = _a(input)
    if x.ndim < 2:
        raise ValueError(f"Expected 2D or 3D input (got {x.ndim}D input)")
    c = x.shape[1]
    if not _channel_params_fit(c, weight, bias, running_mean, running_var):
        for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                        ("running_var", running_var)):
            _check_channel_param(name, t, c)
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
    # the kernel updates the running statistics in place (training only)
    y, mean, invstd = K.batch_norm(
        input._data, None if weight is None else weight._data,
        None if bias is None else bias._data,
        None if running_mean is None else running_mean._data,
        None if running_var is None else running_var._data, bool(training), momentum, eps)
    if training:
        if running_mean is not None:
            running_mean._version_counter[0] += 1
        if running_var is not None:
            running_var._version_counter[0] += 1
    return record(NativeBatchNormBackward0, y, (input, weight, bias), save=(input, weight),
                  mean=mean, invstd=invstd, training=bool(training), eps=eps)


class NativeLayerNormBackward0(Node):
    def backward(self, grad):
        x, w, b = self.saved_tensors
        if building_graph():
            return DB.layer_norm_backward(grad, x, w, b, self.shape, self.mean, self.rstd,
                                          self.eps, self.needs_input_grad)
        return tuple(_t(a) for a in K.layer_norm_backward(
            grad._data, x._data, self.shape, self.mean, self.rstd, _data(w), _data(b),
            output_mask=self.needs_input_grad))


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
    y, mean, rstd = K.layer_norm(input._data, shape, _data(weight), _data(bias), eps)
    # bias is saved only so the kernel knows whether a bias gradient exists (it never reads it)
    return record(NativeLayerNormBackward0, y, (input, weight, bias),
                  save=(input, weight, bias), shape=shape, mean=mean, rstd=rstd, eps=eps)


# ---- softmax -----------------------------------------------------------------------------
def _dim(dim, ndim):
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim % n


class SoftmaxBackward0(Node):
    def backward(self, grad):
        (y,) = self.saved_tensors
        if building_graph():
            return (DB.softmax_backward(grad, y, self.dim),)
        return (_t(K.softmax_backward(grad._data, y._data, self.dim)),)


class LogSoftmaxBackward0(Node):
    def backward(self, grad):
        (y,) = self.saved_tensors
        if building_graph():
            return (DB.log_softmax_backward(grad, y, self.dim),)
        return (_t(K.log_softmax_backward(grad._data, y._data, self.dim)),)


# dtype name -> torch's ScalarType name, read from the dtype objects; ember/nn/functional.py
# still looks names up here (a file another change owns today: it can read dtype.torch_name)
_SCALAR = {d.name: d.torch_name for d in (D.float32, D.float64, D.float16, D.int64, D.int32,
                                          D.int16, D.int8, D.uint8, D.bool)}


def softmax(input, dim):
    d = _dim(dim, input._data._np.ndim)
    y = K.softmax(input._data, d)
    return record(SoftmaxBackward0, y, (input,), save=(y,), dim=d)


def log_softmax(input, dim):
    d = _dim(dim, input._data._np.ndim)
    y = K.log_softmax(input._data, d)
    return record(LogSoftmaxBackward0, y, (input,), save=(y,), dim=d)


# ---- dropout / embedding -----------------------------------------------------------------
def dropout(input, p, inplace=False):
    out, mask = K.dropout(input._data, p, True)
    mask_t = Tensor._make(mask)
    if inplace:
        return input.mul_(mask_t)
    # the kernel has already multiplied: record it as torch's composite does (x * mask)
    return record(MulBackward0, out, (input, mask_t), save=(None, mask_t), other=None)


class EmbeddingBackward0(Node):
    def backward(self, grad):
        if building_graph():
            return (DB.embedding_backward(grad, self.indices, self.weight_shape[0],
                                          self.padding_idx, self.scale_grad_by_freq), None)
        g = grad._data
        if self.scale_grad_by_freq:
            # the kernel has no scale_grad_by_freq: divide each row by its index's count first
            idx = self.indices._np
            counts = np.bincount(idx.reshape(-1), minlength=self.weight_shape[0])
            per_row = Array(counts[idx][..., None].astype(g._np.dtype))
            g = E.div(g, per_row)
        pad = self.padding_idx if self.padding_idx >= 0 else None
        return (_t(K.embedding_backward(g, self.indices, self.weight_shape[0], pad)), None)


def embedding(input, weight, padding_idx=-1, scale_grad_by_freq=False):
    out = K.embedding(weight._data, input._data)
    return record(EmbeddingBackward0, out, (weight, input), indices=input._data,
                  weight_shape=tuple(weight.shape), padding_idx=padding_idx,
                  scale_grad_by_freq=scale_grad_by_freq)


def embedding_renorm_(weight, input, max_norm, norm_type):
    w = _a(weight)
    rows = np.unique(_a(input))
    norms = R.norm(Array(w[rows]), norm_type, dim=1)
    over = E.gt(norms, max_norm)._np
    if over.any():
        sel = rows[over]
        scale = E.mul(E.reciprocal(E.add(Array(norms._np[over]), 1e-7)), max_norm)
        w[sel] = E.mul(Array(w[sel]), Array(scale._np[:, None]))._np
    _bump(weight)
    return weight


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
class LeakyReluBackward0(Node):
    def backward(self, grad):
        (x,) = self.saved_tensors
        if building_graph():
            return (DB.leaky_relu_backward(grad, x, self.slope),)
        return (_t(E.leaky_relu_backward(grad._data, x._data, self.slope)),)


class LeakyReluBackward1(LeakyReluBackward0):
    pass


def leaky_relu(input, negative_slope=0.01, inplace=False):
    if inplace:
        check_inplace(input)
        E.leaky_relu(input._data, negative_slope, out=input._data)
        return record(LeakyReluBackward1, input, (input,), save=(input,), slope=negative_slope)
    out = E.leaky_relu(input._data, negative_slope)
    return record(LeakyReluBackward0, out, (input,), save=(input,), slope=negative_slope)


class GeluBackward0(Node):
    def backward(self, grad):
        (x,) = self.saved_tensors
        if building_graph():
            return (DB.gelu_backward(grad, x, self.approximate),)
        return (_t(E.gelu_backward(grad._data, x._data, self.approximate)),)


def gelu(input, approximate="none"):
    return record(GeluBackward0, E.gelu(input._data, approximate), (input,), save=(input,),
                  approximate=approximate)

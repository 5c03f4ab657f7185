"""``ember.nn.functional``: torch.nn.functional's stateless ops, same names, defaults, errors.

Ops with a fused kernel and backward (conv, pooling, norms, softmax, losses) live in
``ember._ops.nn``; the rest are compositions of Tensor ops, so autograd names their grad_fn
exactly as torch's composite implementations do (``l1_loss`` ends in ``MeanBackward0``...).
"""
import math
import numbers
import warnings
from typing import Optional

from ember_tensor import bool as _bool

from .._ops import nn as _nn
from .._ops import nn_pointwise as _pw
from .._ops import nn_activation as _act
from .._ops import nn_grid as _grid
from .._ops import nn_pool as _pool
from .._ops import nn_resample as _resample
from .._ops import nn_shuffle as _shuffle
from .._ops.arithmetic import div as _div_no_out
from .._ops.linalg import addmm as _addmm
from .._ops.out_forms import with_out as _with_out
from .._tensor import Tensor

# ember.div with its out= form, as ember/_namespace.py makes it (tools/generate_ops.py imports
# ember with that module emptied, so nothing below ember/__init__ may import it)
_div = _with_out(_div_no_out, "div", False)

__all__ = [
    "linear", "conv2d", "relu", "relu_", "leaky_relu", "leaky_relu_", "gelu", "sigmoid", "tanh",
    "softmax", "log_softmax", "max_pool2d", "max_pool2d_with_indices", "avg_pool2d",
    "adaptive_avg_pool2d", "batch_norm", "layer_norm", "dropout", "embedding",
    "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "binary_cross_entropy_with_logits",
    "pad", "one_hot", "flatten", "silu", "hardtanh", "relu6", "binary_cross_entropy",
    "smooth_l1_loss", "huber_loss", "elu", "elu_", "softplus", "normalize",
    "adaptive_max_pool2d", "adaptive_max_pool2d_with_indices", "hardswish", "hardsigmoid",
    "relu6_", "hardtanh_", "silu_", "interpolate", "channel_shuffle",
    "grid_sample", "affine_grid",
]


def _legacy_reduction(size_average, reduce):
    return "mean" if reduce and size_average else "sum" if reduce else "none"


def _check_tensor(x, fn, arg="input", pos=1):
    if not isinstance(x, Tensor):
        raise TypeError(
            f"{fn}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}"
        )


# ---- linear / conv -----------------------------------------------------------------------
def linear(input, weight, bias=None):
    """``input @ weight.T + bias``; 2-D input goes through ``addmm`` (one GEMM, as torch)."""
    _check_tensor(input, "linear")
    _check_tensor(weight, "linear", "weight", 2)
    if input.dim() == 2:
        if bias is None:
            return input.matmul(weight.t())
        return _addmm(bias, input, weight.t())
    if bias is None or input.dim() == 0 or weight.dim() != 2:
        # torch's no-bias path is a plain matmul (SqueezeBackward4 / UnsafeViewBackward0)
        return _linear_fallback(input, weight, bias)
    batch = tuple(input.shape[:-1])
    flat = input.reshape(-1, input.shape[-1])
    out = _addmm(bias, flat, weight.t())
    return out.view(*batch, weight.shape[0])


def _linear_fallback(input, weight, bias):
    out = input.matmul(weight.t())
    return out if bias is None else out + bias


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    if not (isinstance(input, Tensor) and isinstance(weight, Tensor)):
        _check_tensor(input, "conv2d")
        _check_tensor(weight, "conv2d", "weight", 2)
    return _nn.conv2d(input, weight, bias, stride, padding, dilation, groups)


# ---- activations -------------------------------------------------------------------------
def relu(input, inplace=False):
    return _nn.relu_(input) if inplace else input.relu()


def relu_(input):
    return _nn.relu_(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _nn.leaky_relu(input, negative_slope, inplace)


def leaky_relu_(input, negative_slope=0.01):
    return _nn.leaky_relu(input, negative_slope, True)


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return _nn.gelu(input, approximate)


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    return _act.silu(input, inplace)


def silu_(input: Tensor) -> Tensor:
    return _act.silu(input, True)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _act.hardtanh(input, min_val, max_val, inplace)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return hardtanh(input, min_val, max_val, True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    return hardtanh(input, 0.0, 6.0, inplace)


def relu6_(input: Tensor) -> Tensor:
    return hardtanh(input, 0.0, 6.0, True)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    return _act.hardswish(input, inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    return _act.hardsigmoid(input, inplace)


def _softmax_dim(ndim):
    warnings.warn(
        "Implicit dimension choice for softmax has been deprecated. Change the call to include "
        "dim=X as an argument.", stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim(input.dim())
    if dtype is not None:
        input = input.to(dtype)
    return _nn.softmax(input, dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim(input.dim())
    if dtype is not None:
        input = input.to(dtype)
    return _nn.log_softmax(input, dim)


# ---- pooling -----------------------------------------------------------------------------
def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        stride = kernel_size
    return _nn.max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    out, idx = max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return (out, idx) if return_indices else out


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        stride = kernel_size
    return _nn.avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                          divisor_override)


def adaptive_avg_pool2d(input, output_size):
    return _nn.adaptive_avg_pool2d(input, output_size)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size, return_indices: bool = True):
    return _pool.adaptive_max_pool2d(input, output_size)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    out, idx = _pool.adaptive_max_pool2d(input, output_size)
    return (out, idx) if return_indices else out


# ---- resampling --------------------------------------------------------------------------
interpolate = _resample.interpolate
channel_shuffle = _shuffle.channel_shuffle
grid_sample = _grid.grid_sample
affine_grid = _grid.affine_grid


# ---- normalisation -----------------------------------------------------------------------
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    if training:
        # the array's shape tuple: a Size would be built per call only for the message
        size = input._data._np.shape
        if size[0] * math.prod(size[2:]) == 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size "
                f"{input.shape}"
            )
    return _nn.batch_norm(input, running_mean, running_var, weight, bias, training, momentum,
                          eps)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    if isinstance(normalized_shape, numbers.Integral):
        raise TypeError("layer_norm(): argument 'normalized_shape' (position 2) must be tuple "
                        f"of ints, not {type(normalized_shape).__name__}")
    return _nn.layer_norm(input, tuple(normalized_shape), weight, bias, eps)


# ---- dropout / embedding -----------------------------------------------------------------
def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    return _nn.dropout(input, p, inplace)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    if padding_idx is not None:
        if padding_idx > 0:
            if padding_idx >= weight.size(0):
                raise AssertionError("Padding_idx must be within num_embeddings")
        elif padding_idx < 0:
            if padding_idx < -weight.size(0):
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx = weight.size(0) + padding_idx
    else:
        padding_idx = -1
    if max_norm is not None:
        _nn.embedding_renorm_(weight, input, max_norm, norm_type)
    return _nn.embedding(input, weight, padding_idx, scale_grad_by_freq)


# ---- losses ------------------------------------------------------------------------------
def _reduction(size_average, reduce, reduction):
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    warnings.warn("size_average and reduce args will be deprecated, please use "
                  f"reduction='{_legacy_reduction(size_average, reduce)}' "
                  "instead.", stacklevel=3)
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _check_reduction(reduction):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _reduce(x, reduction):
    if reduction == "mean":
        return x.mean()
    if reduction == "sum":
        return x.sum()
    return x


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    return _nn.nll_loss(input, target, weight, reduction, ignore_index)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(
            f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}"
        )
    class_dim = 0 if input.dim() == 1 else 1
    logp = log_softmax(input, class_dim)
    if input.shape == target.shape:
        # same shapes mean class probabilities, as torch decides it (not by the dtype)
        if not target.is_floating_point():
            raise RuntimeError("Expected floating point type for target with class "
                               f"probabilities, got {_nn._SCALAR[str(target.dtype)[6:]]}")
        return _cross_entropy_probs(logp, target, weight, reduction, label_smoothing, class_dim)
    loss = nll_loss(logp, target, weight, None, ignore_index, None, reduction)
    if label_smoothing == 0.0:
        return loss
    return _smooth_index_loss(logp, target, weight, ignore_index, reduction, label_smoothing,
                              class_dim, loss)


def _weight_shape(weight, logp, class_dim):
    shape = [1] * logp.dim()
    shape[class_dim] = weight.shape[0]
    return weight.view(*shape)


def _cross_entropy_probs(logp, target, weight, reduction, smoothing, class_dim):
    n_classes = logp.shape[class_dim]
    if smoothing > 0:
        target = target * (1 - smoothing) + smoothing / n_classes
    prod = logp * target
    if weight is not None:
        prod = prod * _weight_shape(weight, logp, class_dim)
    loss = -prod.sum(class_dim)
    if reduction == "mean":
        n = logp.numel() // n_classes if logp.dim() > 1 else 1
        return _nn.div_scalar(loss.sum(), n)
    return _reduce(loss, reduction)


def _smooth_index_loss(logp, target, weight, ignore_index, reduction, smoothing, class_dim,
                       nll):
    n_classes = logp.shape[class_dim]
    ignore = (target == ignore_index)
    smooth = logp if weight is None else logp * _weight_shape(weight, logp, class_dim)
    smooth = -smooth.sum(class_dim)
    smooth = smooth.masked_fill(ignore, 0.0)
    if reduction == "mean":
        if weight is not None:
            safe = target.masked_fill(ignore, 0)
            denom = weight[safe.flatten()].view(*safe.shape).masked_fill(ignore, 0.0).sum()
            smooth = smooth.sum() / denom
        else:
            smooth = smooth.sum() / (ignore.numel() - ignore.sum()).item()
    elif reduction == "sum":
        smooth = smooth.sum()
    return (1 - smoothing) * nll + smooth * (smoothing / n_classes)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if target.shape != input.shape:
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.", stacklevel=2,
        )
    return _nn.mse_loss(input, target, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if target.shape != input.shape:
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.", stacklevel=2,
        )
    return _reduce((input - target).abs(), reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if target.shape != input.shape:
        raise ValueError(
            f"Target size ({target.shape}) must be the same as input size ({input.shape})"
        )
    _check_bce_target(input, target)
    return _nn.binary_cross_entropy_with_logits(input, target, weight, pos_weight, reduction)


def _check_bce_target(input: Tensor, target: Tensor) -> None:
    """torch writes the loss into a tensor of the target's dtype: an integer target (0/1
    labels left as Long) is refused, where silently promoting would let the code break
    only once it meets torch."""
    if target.dtype == _bool:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if not target.is_floating_point() and input.is_floating_point():
        raise RuntimeError(f"result type {_nn._SCALAR[str(input.dtype)[6:]]} can't be cast to "
                           f"the desired output type {_nn._SCALAR[str(target.dtype)[6:]]}")


def _size_warning(input: Tensor, target: Tensor) -> None:
    if target.shape != input.shape:
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.", stacklevel=3,
        )


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                         size_average: Optional[bool] = None, reduce: Optional[bool] = None,
                         reduction: str = "mean") -> Tensor:
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if target.shape != input.shape:
        raise ValueError(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}) is deprecated. Please ensure they have the same size.")
    if weight is not None:
        weight = weight.expand(_broadcast_to_target(target.shape, weight.shape))
        if weight.shape != input.shape:  # a weight of more dims than the loss
            raise RuntimeError(f"output with shape {list(input.shape)} doesn't match the "
                               f"broadcast shape {list(weight.shape)}")
    return _pw.binary_cross_entropy(input, target, weight, reduction)


def _broadcast_to_target(target, weight):
    """torch.broadcast_shapes(target, weight), with its words when they do not fit."""
    out = list(target)
    for i in range(1, len(weight) + 1):
        if i > len(out):
            out.insert(0, weight[-i])
        elif out[-i] == 1:
            out[-i] = weight[-i]
        elif weight[-i] not in (1, out[-i]):
            raise RuntimeError(
                f"Attempting to broadcast a dimension of length {weight[-i]} at {-i}! "
                f"Mismatching argument at index 1 had {weight}; but expected shape should be "
                f"broadcastable to {list(target)}")
    return out


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: Optional[bool] = None,
                   reduce: Optional[bool] = None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    _size_warning(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if beta == 0.0:  # torch's own switch: the quadratic piece vanishes
        return l1_loss(input, target, reduction=reduction)
    return _pw.smooth_l1_loss(input, target, reduction, beta)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Optional[Tensor] = None) -> Tensor:
    _size_warning(input, target)
    _check_reduction(reduction)
    if weight is None:
        return _pw.huber_loss(input, target, reduction, delta)
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    return _reduce(_pw.huber_loss(input, target, "none", delta) * weight, reduction)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    return _pw.elu(input, alpha, inplace)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return _pw.elu(input, alpha, True)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return _pw.softplus(input, beta, threshold)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Optional[Tensor] = None) -> Tensor:
    """``input / max(||input||_p, eps)`` along ``dim``, composed as torch composes it (so the
    result's grad_fn is ``DivBackward0`` there too)."""
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    if out is None:
        return input / denom
    return _div(input, denom, out=out)


# ---- shape helpers -----------------------------------------------------------------------
def pad(input, pad, mode="constant", value=None):
    if mode != "constant":
        raise NotImplementedError(f"Ember's pad supports mode='constant' only, got '{mode}'")
    if len(pad) % 2 != 0:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.dim():
        raise RuntimeError("Padding length should be less than or equal to two times the "
                           "input dimension but got padding length "
                           f"{len(pad)} and input of dimension {input.dim()}")
    return _nn.constant_pad_nd(input, tuple(int(p) for p in pad), 0.0 if value is None else value)


def one_hot(tensor, num_classes=-1):
    return _nn.one_hot(tensor, num_classes)


def flatten(input, start_dim=0, end_dim=-1):
    return input.flatten(start_dim, end_dim)


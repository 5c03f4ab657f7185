"""The backward of fused nn kernels as ops of their own, so ``create_graph=True`` works
through normalisation, softmax, losses, embedding and the activations with kernels.

A fused node (``NativeBatchNormBackward0``...) keeps its one-pass backward kernel for the
usual backward. When a graph of the gradient is being recorded (grad mode on inside the
engine, which is what ``create_graph=True`` means), it calls the function here instead: the
same kernel computes the gradient, recorded as a node named as torch's
(``NativeBatchNormBackwardBackward0``...). That node's backward is the vector-Jacobian
product of the gradient formula written with Tensor ops (``vjp``), or, where the gradient is
linear in the incoming gradient and nothing else, a Tensor-op expression of the adjoint.
Either way its own result is differentiable again, so third derivatives work too.

Conv and pooling, whose adjoints are their forward ops, live beside those (``nn_conv``,
``nn_pool``, ``nn_resample``).
"""
import math
from typing import Callable, Optional, Sequence, Tuple

import numpy as np

from ember_tensor import Array
from ember_tensor import elementwise as E
from ember_tensor import nn as K

from .. import _grad_mode as grad_mode
from .._core.engine import run_backward
from .._core.node import Node, record
from .._tensor import Tensor

__all__ = ["building_graph", "shape_only", "div_scalar", "vjp", "record_masked", "spread",
           "batch_norm_backward", "layer_norm_backward", "softmax_backward", "log_softmax_backward",
           "nll_loss_backward", "mse_loss_backward", "leaky_relu_backward", "gelu_backward",
           "embedding_backward"]

_Grads = Tuple[Optional[Tensor], ...]


def building_graph() -> bool:
    """True inside a backward run with ``create_graph=True``: the engine turns grad mode on
    exactly then, so a node's backward must record what it computes."""
    return grad_mode._state.grad_enabled


def shape_only(shape, dtype) -> np.ndarray:
    """Stand-in for an input whose backward kernel reads only its shape and dtype: the node
    need not keep the (large) input alive, and the stand-in costs no memory."""
    return np.broadcast_to(np.zeros((), dtype), shape)


def _const(a: Array) -> Tensor:
    return Tensor._make(a)


def vjp(formula: Callable[..., Sequence[Optional[Tensor]]], node: Node,
        inputs: Sequence[Optional[Tensor]], grads: Sequence[Optional[Tensor]]) -> _Grads:
    """Gradients of ``sum(grads[k] * formula(*inputs)[k])`` with respect to the inputs the
    node needs, one per input (None elsewhere).

    ``formula`` is the node's forward (a fused kernel) written with Tensor ops. It runs on
    stand-ins of the inputs, so the inputs count as independent (the node's local Jacobian)
    even when one depends on another in the graph. Under ``create_graph`` the stand-ins are
    views of the inputs, so the result stays a function of them and of ``grads``."""
    create = building_graph()
    needs = node.needs_input_grad
    with grad_mode.enable_grad():
        stand_ins = []
        for x, need in zip(inputs, needs):
            if x is None or not need:
                stand_ins.append(None if x is None else x.detach())
            elif create:
                stand_ins.append(x.view_as(x))
            else:
                stand_ins.append(x.detach().requires_grad_(True))
        outs = formula(*stand_ins)
        roots, root_grads = [], []
        for o, g in zip(outs, grads):
            if o is not None and g is not None and o._requires_grad:
                roots.append(o)
                root_grads.append(g)
        targets = [s for s, need in zip(stand_ins, needs) if need and s is not None]
        if not roots or not targets:
            return (None,) * len(inputs)
        # retain_graph: the walk passes the graph behind the stand-ins, which it must not free
        got = iter(run_backward(roots, root_grads, True, create, targets, accumulate=False))
    return tuple(next(got) if need and s is not None else None
                 for s, need in zip(stand_ins, needs))


def record_masked(node_cls, arrays: Sequence[Optional[Array]], inputs, save=(), **attrs):
    """``record`` for a backward kernel that leaves out the gradients nobody asked for: the
    node gets only the computed ones as outputs; the result has None in the others' place."""
    present = tuple(a for a in arrays if a is not None)
    outs = record(node_cls, present, inputs, save=save,
                  mask=tuple(a is not None for a in arrays), **attrs)
    it = iter(outs)
    return tuple(next(it) if a is not None else None for a in arrays)


def spread(mask: Sequence[bool], grads: Sequence[Optional[Tensor]]) -> _Grads:
    """The incoming gradients of a ``record_masked`` node, None where no output was made."""
    it = iter(grads)
    return tuple(next(it) if m else None for m in mask)


class DivBackward1(Node):
    """Division by a Python number, as torch's C++ losses and composite backwards do it."""

    def backward(self, grad):
        return (div_scalar(grad, self.other),)


def div_scalar(input: Tensor, other: float) -> Tensor:
    return record(DivBackward1, E.div(input._data, other), (input,), other=other)


def _channel_view(t: Tensor, ndim: int) -> Tensor:
    return t.reshape((1, -1) + (1,) * (ndim - 2))


# ---- batch norm and layer norm -----------------------------------------------------------
def _normalized_grad(gxhat: Tensor, xhat: Tensor, invstd: Tensor, axes) -> Tensor:
    """d/dx of a normalisation whose statistics are over ``axes``, given d/dxhat."""
    return invstd * (gxhat - gxhat.mean(axes, keepdim=True)
                     - xhat * (gxhat * xhat).mean(axes, keepdim=True))


def _standardize(x: Tensor, axes, eps: float):
    mean = x.mean(axes, keepdim=True)
    xc = x - mean
    invstd = ((xc * xc).mean(axes, keepdim=True) + eps).rsqrt()
    return xc * invstd, invstd


class NativeBatchNormBackwardBackward0(Node):
    def backward(self, *grads):
        g, x, w = self.saved_tensors
        return vjp(self.formula, self, (g, x, w), spread(self.mask, grads))

    def formula(self, g, x, w):
        nd = x.dim()
        axes = (0,) + tuple(range(2, nd))
        if self.training:
            xhat, invstd = _standardize(x, axes, self.eps)
        else:  # the running statistics are constants
            invstd = _channel_view(_const(self.invstd), nd)
            xhat = (x - _channel_view(_const(self.mean), nd)) * invstd
        gxhat = g if w is None else g * _channel_view(w, nd)
        gx = gw = gb = None
        if self.mask[0]:
            gx = _normalized_grad(gxhat, xhat, invstd, axes) if self.training else gxhat * invstd
        if self.mask[1]:
            gw = (g * xhat).sum(axes)
        if self.mask[2]:
            gb = g.sum(axes)
        return gx, gw, gb


def batch_norm_backward(grad, x, w, mean, invstd, training, eps, mask) -> _Grads:
    """``(grad_input, grad_weight, grad_bias)`` of batch_norm, recorded for create_graph."""
    arrays = K.batch_norm_backward(grad._data, x._data, None if w is None else w._data, mean,
                                   invstd, training, output_mask=mask)
    return record_masked(NativeBatchNormBackwardBackward0, arrays, (grad, x, w),
                         save=(grad, x, w), mean=mean, invstd=invstd, training=training,
                         eps=eps)


class NativeLayerNormBackwardBackward0(Node):
    def backward(self, *grads):
        g, x, w = self.saved_tensors
        return vjp(self.formula, self, (g, x, w), spread(self.mask, grads))

    def formula(self, g, x, w):
        nd, k = x.dim(), len(self.shape)
        axes = tuple(range(nd - k, nd))
        batch = tuple(range(nd - k))
        xhat, rstd = _standardize(x, axes, self.eps)
        gxhat = g if w is None else g * w
        gx = _normalized_grad(gxhat, xhat, rstd, axes) if self.mask[0] else None
        gw = (g * xhat).sum(batch) if self.mask[1] else None
        gb = g.sum(batch) if self.mask[2] else None
        return gx, gw, gb


def layer_norm_backward(grad, x, w, b, shape, mean, rstd, eps, mask) -> _Grads:
    """``(grad_input, grad_weight, grad_bias)`` of layer_norm, recorded for create_graph."""
    wd, bd = (None if t is None else t._data for t in (w, b))
    arrays = K.layer_norm_backward(grad._data, x._data, shape, mean, rstd, wd, bd,
                                   output_mask=mask)
    return record_masked(NativeLayerNormBackwardBackward0, arrays, (grad, x, w),
                         save=(grad, x, w), shape=shape, eps=eps)


# ---- softmax -----------------------------------------------------------------------------
class SoftmaxBackwardDataBackward0(Node):
    """Inputs: the incoming gradient and softmax's output (whose own node leads to x)."""

    def backward(self, gg):
        g, y = self.saved_tensors
        return vjp(self.formula, self, (g, y), (gg,))

    def formula(self, g, y):
        return (y * (g - (g * y).sum(self.dim, keepdim=True)),)


class LogSoftmaxBackwardDataBackward0(Node):
    def backward(self, gg):
        g, y = self.saved_tensors
        return vjp(self.formula, self, (g, y), (gg,))

    def formula(self, g, y):
        return (g - y.exp() * g.sum(self.dim, keepdim=True),)


def softmax_backward(grad: Tensor, y: Tensor, dim: int) -> Tensor:
    return record(SoftmaxBackwardDataBackward0, K.softmax_backward(grad._data, y._data, dim),
                  (grad, y), save=(grad, y), dim=dim)


def log_softmax_backward(grad: Tensor, y: Tensor, dim: int) -> Tensor:
    return record(LogSoftmaxBackwardDataBackward0,
                  K.log_softmax_backward(grad._data, y._data, dim), (grad, y), save=(grad, y),
                  dim=dim)


# ---- losses ------------------------------------------------------------------------------
class NllLossBackwardBackward0(Node):
    """nll_loss's gradient is linear in the incoming gradient alone (the input's values do
    not enter), so the adjoint is the loss itself applied to the gradient's gradient:
    ``-weight[t] * gg[t]`` per target, summed and divided as the loss was."""

    def backward(self, gg):
        cls_axis = 0 if len(self.in_shape) == 1 else 1
        picked = gg.gather(cls_axis, _const(self.safe_target).unsqueeze(cls_axis))
        out = picked.squeeze(cls_axis) * _const(self.factor)
        return (out if self.reduction == "none" else out.sum(),)


class NllLoss2DBackwardBackward0(NllLossBackwardBackward0):
    pass


def nll_loss_backward(node_cls, grad: Tensor, in_shape, target: Array, weight, reduction,
                      ignore_index, total_weight) -> Tensor:
    """nll_loss's gradient (``node_cls`` names the 1-D/2-D or spatial form)."""
    dtype = grad._data._np.dtype
    gx = K.nll_loss_backward(grad._data, shape_only(in_shape, dtype),
                             target, weight, reduction, ignore_index, total_weight)
    t = target._np.astype(np.int64)
    keep = t != ignore_index
    safe = np.where(keep, t, 0)
    # per target: -weight[t] (0 where ignored), divided by the total weight for "mean"
    w = np.ones(1 if not in_shape else in_shape[0 if len(in_shape) == 1 else 1], dtype)
    if weight is not None:
        w = weight._np
    factor = E.mul(Array(np.where(keep, w[safe], 0).astype(dtype)), -1.0)
    if reduction == "mean":
        factor = E.div(factor, total_weight)
    return record(node_cls, gx, (grad,), safe_target=Array(safe), factor=factor,
                  reduction=reduction, in_shape=in_shape)


class MseLossBackwardBackward0(Node):
    def backward(self, *grads):
        g, x, y = self.saved_tensors
        return vjp(self.formula, self, (g, x, y), spread(self.mask, grads))

    def formula(self, g, x, y):
        gx = (x - y) * self.scale * g
        return gx if self.mask[0] else None, -gx if self.mask[1] else None


def mse_loss_backward(grad, x, y, reduction, mask) -> _Grads:
    diff = E.sub(x._data, y._data)
    scale = 2.0 / diff._np.size if reduction == "mean" else 2.0
    gx = E.mul(E.mul(diff, scale), grad._data)
    arrays = (gx if mask[0] else None, E.neg(gx) if mask[1] else None)
    return record_masked(MseLossBackwardBackward0, arrays, (grad, x, y), save=(grad, x, y),
                         scale=scale)


# ---- activations -------------------------------------------------------------------------
class LeakyReluBackwardBackward0(Node):
    """Linear in the gradient with a slope that is piecewise constant in x: the adjoint is
    the same op on the gradient's gradient, and x gets no gradient (zero a.e., as torch)."""

    def backward(self, gg):
        (x,) = self.saved_tensors
        return leaky_relu_backward(gg, x, self.slope), None


def leaky_relu_backward(grad: Tensor, x: Tensor, slope: float) -> Tensor:
    return record(LeakyReluBackwardBackward0, E.leaky_relu_backward(grad._data, x._data, slope),
                  (grad, x), save=(x,), slope=slope)


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_TANH_CUBIC = 0.044715


class GeluBackwardBackward0(Node):
    def backward(self, gg):
        g, x = self.saved_tensors
        return vjp(self.formula, self, (g, x), (gg,))

    def formula(self, g, x):
        if self.approximate == "tanh":
            th = ((x + _TANH_CUBIC * x * x * x) * _SQRT_2_OVER_PI).tanh()
            slope = (1 + 3 * _TANH_CUBIC * x * x) * _SQRT_2_OVER_PI
            return (g * (0.5 * (1 + th) + 0.5 * x * (1 - th * th) * slope),)
        cdf = 0.5 * (1 + (x * _SQRT_HALF).erf())
        pdf = (x * x * -0.5).exp() * _INV_SQRT_2PI
        return (g * (cdf + x * pdf),)


def gelu_backward(grad: Tensor, x: Tensor, approximate: str) -> Tensor:
    return record(GeluBackwardBackward0, E.gelu_backward(grad._data, x._data, approximate),
                  (grad, x), save=(grad, x), approximate=approximate)


# ---- embedding ---------------------------------------------------------------------------
class EmbeddingDenseBackwardBackward0(Node):
    """The weight's gradient sums rows of the incoming gradient, so the adjoint picks rows
    of the gradient's gradient (zero for the padding index, scaled as the sum was)."""

    def backward(self, gg):
        idx = _const(self.indices)
        rows = gg.index_select(0, idx.reshape(-1)).reshape(self.grad_shape)
        return (rows if self.row_scale is None else rows * _const(self.row_scale),)


def embedding_backward(grad: Tensor, indices: Array, num_weights: int, padding_idx: int,
                       scale_grad_by_freq: bool) -> Tensor:
    """The embedding weight's gradient: rows of ``grad`` summed per index."""
    g = grad._data
    dtype = g._np.dtype
    idx = indices._np
    per_row = None  # what each row of grad is divided by (its index's count)
    if scale_grad_by_freq:
        counts = np.bincount(idx.reshape(-1), minlength=num_weights)
        per_row = Array(counts[idx][..., None].astype(dtype))
        g = E.div(g, per_row)
    pad = padding_idx if padding_idx >= 0 else None
    gw = K.embedding_backward(g, indices, num_weights, pad)
    row_scale = None
    if per_row is not None or pad is not None:
        scale = np.ones(idx.shape + (1,), dtype)
        if per_row is not None:
            scale = scale / per_row._np
        if pad is not None:
            scale = scale * (idx != pad)[..., None]
        row_scale = Array(scale.astype(dtype))
    return record(EmbeddingDenseBackwardBackward0, gw, (grad,), indices=indices,
                  grad_shape=tuple(g._np.shape), row_scale=row_scale)

"""The losses with kernels of their own: nll_loss (and so cross_entropy), mse_loss and
binary_cross_entropy_with_logits, with torch's checks in torch's order.

The forward is ember_tensor's kernels; each node's usual backward is one fused pass. Under
``create_graph=True`` nll and MSE record their backward as torch's
``...BackwardBackward0`` nodes (``nn_double_backward``), and BCE-with-logits computes it with
Tensor ops, as torch's composite backward does.
"""
import numpy as np

from ember_tensor import Array
from ember_tensor import _dtype as D
from ember_tensor import elementwise as E
from ember_tensor import nn as K
from ember_tensor import reduction as R

from .._core.node import Node, record
from .._tensor import Tensor
from . import nn_double_backward as DB
from .nn_double_backward import building_graph, div_scalar

__all__ = ["nll_loss", "mse_loss", "binary_cross_entropy_with_logits"]


def _a(t):
    """The ndarray of a Tensor (None passes)."""
    return None if t is None else t._data._np


def _t(a):
    """An Array (or None) as a Tensor that needs no grad."""
    return None if a is None else Tensor._make(a)


# ---- losses ------------------------------------------------------------------------------
class NllLossBackward0(Node):
    double_backward = DB.NllLossBackwardBackward0

    def backward(self, grad, *_):
        if building_graph():
            return (DB.nll_loss_backward(self.double_backward, grad, self.in_shape, self.target,
                                         self.weight, self.reduction, self.ignore_index,
                                         self.total_weight), None, None)
        gx = K.nll_loss_backward(grad._data, DB.shape_only(self.in_shape, grad._data._np.dtype),
                                 self.target, self.weight, self.reduction, self.ignore_index,
                                 self.total_weight)
        return (_t(gx), None, None)


class NllLoss2DBackward0(NllLossBackward0):
    double_backward = DB.NllLoss2DBackwardBackward0


def _check_nll_target_dtype(t):
    if t.dtype not in (np.int64, np.uint8):
        raise RuntimeError("expected target dtype to be Long or Byte, but got "
                           f"{D.from_numpy_dtype(t.dtype).torch_name}")


def _check_nll(x, t, weight):
    """torch's checks in torch's order (nll_loss_nd, then the 1-D/2-D or spatial kernel):
    the order decides which message a doubly wrong call gets."""
    if x.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {x.ndim})")
    if x.ndim != 1 and x.shape[0] != (t.shape[0] if t.ndim else 0):
        raise ValueError(f"Expected input batch_size ({x.shape[0]}) to match target "
                         f"batch_size ({t.shape[0] if t.ndim else 0}).")
    cls_axis = 0 if x.ndim == 1 else 1
    C = x.shape[cls_axis]
    if x.ndim <= 2:
        if t.ndim > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    elif x.ndim != 4:
        expected_t = x.shape[:1] + x.shape[2:]
        if tuple(t.shape) != tuple(expected_t):
            raise RuntimeError(f"Expected target size {list(expected_t)}, got {list(t.shape)}")
    if weight is not None and weight.numel() != C:
        raise RuntimeError(f"weight tensor should be defined either for all {C} classes or no "
                           f"classes but got weight tensor of shape: {list(weight.shape)}")
    # torch has kernels for Long and Byte targets only; int32 class indices are refused,
    # not widened, so code written on Ember runs on torch
    _check_nll_target_dtype(t)
    if x.ndim == 1 and t.ndim == 1 and t.shape[0] != 1:
        raise ValueError("For 1D input, 1D target must have size 1, but got target size: "
                         f"{t.shape[0]}")
    if x.ndim == 4 and tuple(t.shape) != x.shape[:1] + x.shape[2:]:
        raise RuntimeError(f"size mismatch (got input: {list(x.shape)} , target: "
                           f"{list(t.shape)}")
    if x.ndim >= 3 and t.dtype == np.uint8:  # torch's spatial kernel takes Long only
        raise RuntimeError("expected scalar type Long but found Byte")


def nll_loss(input, target, weight=None, reduction="mean", ignore_index=-100):
    x, t = _a(input), _a(target)
    _check_nll(x, t, weight)
    if x.ndim == 1 and t.ndim == 1:
        t = t.reshape(())  # torch takes a one-element target for a 1-D input as its 0-d one
    ta = Array(t) if t.ndim != target.ndim else target._data
    wa = None if weight is None else weight._data
    if wa is not None and wa._np.dtype != x.dtype:
        wa = Array(wa._np.astype(x.dtype))
    out, total = K.nll_loss(input._data, ta, wa, reduction, ignore_index)
    node = NllLoss2DBackward0 if x.ndim >= 3 else NllLossBackward0
    return record(node, out, (input, target, weight), target=ta, weight=wa,
                  reduction=reduction, ignore_index=ignore_index, total_weight=total,
                  in_shape=x.shape)


def _reduced(loss, reduction):
    if reduction == "mean":
        return R.mean(loss)
    if reduction == "sum":
        return R.sum(loss)
    return loss


class MseLossBackward0(Node):
    def backward(self, grad):
        x, y = self.saved_tensors
        if building_graph():
            return DB.mse_loss_backward(grad, x, y, self.reduction, self.needs_input_grad)
        diff = E.sub(x._data, y._data)
        scale = 2.0 / diff._np.size if self.reduction == "mean" else 2.0
        g = E.mul(E.mul(diff, scale), grad._data)
        return _t(g), _t(E.neg(g))


def mse_loss(input, target, reduction="mean"):
    x, y = _a(input), _a(target)
    dtype = D.promote_types(input._data.dtype, target._data.dtype)
    if not dtype.is_floating_point:
        raise NotImplementedError(f"\"mse_cpu\" not implemented for '{dtype.torch_name}'")
    try:
        np.broadcast_shapes(x.shape, y.shape)
    except ValueError:
        raise RuntimeError(_broadcast_msg(x.shape, y.shape)) from None
    diff = E.sub(input._data, target._data)
    return record(MseLossBackward0, _reduced(E.mul(diff, diff), reduction),
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
    """log(1 + exp(-x)) without overflow: max(-x, 0) + log1p(exp(-|x|))."""
    return E.add(E.clamp(E.neg(x), min=0.0), E.log1p(E.exp(E.neg(E.abs(x)))))


class BinaryCrossEntropyWithLogitsBackward0(Node):
    def backward(self, grad):
        x, t, w, pw = self.saved_tensors
        if building_graph():
            return self.composite(grad, x, t, w, pw)
        xa, ta = x._data, t._data
        g = grad._data
        if self.reduction == "mean":
            g = E.div(g, xa._np.size)
        need_x, need_t = self.needs_input_grad[:2]
        gx = gt = None
        if pw is None:
            if need_x:
                gx = E.sub(E.sigmoid(xa), ta)
            if need_t:
                gt = E.neg(xa)
        else:
            pwa = pw._data
            if need_x:
                # (1 - t) - ((pw - 1) t + 1)(1 - sigmoid(x))
                lw = E.add(E.mul(E.sub(pwa, 1), ta), 1)
                gx = E.sub(E.rsub(ta, 1), E.mul(lw, E.rsub(E.sigmoid(xa), 1)))
            if need_t:
                gt = E.sub(E.mul(E.sub(pwa, 1), _softplus_neg(xa)), xa)
        if w is not None:
            gx = None if gx is None else E.mul(gx, w._data)
            gt = None if gt is None else E.mul(gt, w._data)
        return (None if gx is None else _t(E.mul(g, gx)),
                None if gt is None else _t(E.mul(g, gt)), None, None)

    def composite(self, grad, x, t, w, pw):
        """The same gradients as Tensor ops, so they differentiate again (torch computes this
        backward as a composite, ending in the mean's ``DivBackward1``)."""
        need_x, need_t = self.needs_input_grad[:2]
        gx = gt = None
        if pw is None:
            if need_x:
                gx = x.sigmoid() - t
            if need_t:
                gt = -x
        else:
            if need_x:
                gx = (1 - t) - ((pw - 1) * t + 1) * (1 - x.sigmoid())
            if need_t:
                gt = (pw - 1) * ((-x).clamp_min(0) + (-x.abs()).exp().log1p()) - x
        result = []
        for d in (gx, gt):
            if d is not None:
                d = d * grad if w is None else d * w * grad
                if self.reduction == "mean":
                    d = div_scalar(d, d.numel())
            result.append(d)
        return result[0], result[1], None, None


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None,
                                     reduction="mean"):
    x, t = input._data, target._data
    sp = _softplus_neg(x)
    lin = E.mul(E.rsub(t, 1), x)  # (1 - t) * x
    if pos_weight is None:
        loss = E.add(lin, sp)
    else:
        lw = E.add(E.mul(E.sub(pos_weight._data, 1), t), 1)
        loss = E.add(lin, E.mul(lw, sp))
    if weight is not None:
        loss = E.mul(loss, weight._data)
    return record(BinaryCrossEntropyWithLogitsBackward0, _reduced(loss, reduction),
                  (input, target, weight, pos_weight),
                  save=(input, target, weight, pos_weight), reduction=reduction)

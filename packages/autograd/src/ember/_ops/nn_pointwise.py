"""Pointwise losses and activations without a kernel of their own: binary cross-entropy,
smooth L1, Huber, ELU and softplus.

Each forward is torch's formula on Tensors with no graph, recorded as one node named as
torch's grad_fn (``BinaryCrossEntropyBackward0``, ``EluBackward0``, ...) so a printed loss
reads as torch's. The backwards are written with Tensor ops, so they differentiate again
(``create_graph=True``, ``gradgradcheck``).
"""
from typing import Optional

from ember_tensor import elementwise as E

from .. import _grad_mode as grad_mode
from .._core.node import Node, check_inplace, record
from .._tensor import Tensor
from .selection import where

__all__ = ["binary_cross_entropy", "smooth_l1_loss", "huber_loss", "elu", "softplus"]


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _grad_out(node: Node, grad: Tensor) -> Tensor:
    """The incoming gradient per element of the unreduced loss (the mean's 1/n apart)."""
    return grad if node.reduction == "none" else grad.expand(node.shape)


def _norm(node: Node) -> float:
    return 1.0 / node.numel if node.reduction == "mean" else 1.0


def _record(node_cls, loss: Tensor, reduction: str, inputs, save, **attrs) -> Tensor:
    return record(node_cls, _reduce(loss, reduction)._data, inputs, save=save,
                  reduction=reduction, shape=tuple(loss.shape), numel=loss.numel(), **attrs)


# ---- binary cross-entropy ----------------------------------------------------------------
def _clamped_logs(x: Tensor):
    # torch clamps each log at -100, so a prediction of exactly 0 or 1 costs 100, not inf
    return x.log().clamp_min(-100.0), (-x).log1p().clamp_min(-100.0)


class BinaryCrossEntropyBackward0(Node):
    """torch's order: the elementwise gradient times grad, then the weight, then 1/n."""

    def backward(self, grad):
        x, t, w = self.saved_tensors
        g = _grad_out(self, grad)
        gx = gt = None
        if self.needs_input_grad[0]:
            # torch's EPSILON keeps the denominator away from 0 at x = 0 or 1
            gx = self._finish((x - t) / ((1 - x) * x).clamp_min(1e-12) * g, w)
        if self.needs_input_grad[1]:
            gt = self._finish(-(x / (1 - x)).log() * g, w)  # -logit(x), unclamped as torch's
        return gx, gt, None

    def _finish(self, g, w):
        g = g if w is None else g * w
        return g / self.numel if self.reduction == "mean" else g


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Optional[Tensor],
                         reduction: str) -> Tensor:
    if target.dtype != input.dtype:
        raise RuntimeError(f"Found dtype {_name(target)} but expected {_name(input)}")
    with grad_mode.no_grad():
        if ((input < 0) | (input > 1)).any().item():
            raise RuntimeError("all elements of input should be between 0 and 1")
        log_x, log_1mx = _clamped_logs(input)
        loss = (target - 1) * log_1mx - target * log_x  # torch's form, for its roundings
        if weight is not None:
            loss = loss * weight
    return _record(BinaryCrossEntropyBackward0, loss, reduction, (input, target, weight),
                   (input, target, weight))


def _name(t: Tensor) -> str:
    return t.dtype.torch_name


# ---- smooth L1 and Huber -----------------------------------------------------------------
def _piecewise_grad(node, grad, d, edge, outer):
    """``outer`` outside ``[-edge, edge]`` and ``d`` (scaled) inside, times grad: the
    smooth L1 and Huber backward. torch computes the target's gradient with the arguments
    swapped (``d = t - x``), not as the negation, so zeros keep torch's sign."""
    n = _norm(node)
    g = _grad_out(node, grad)
    inner = n * d * g / edge if node.name() == "SmoothL1LossBackward0" else n * d * g
    return where(d <= -edge, -n * g * outer, where(d >= edge, n * g * outer, inner))


class SmoothL1LossBackward0(Node):
    def backward(self, grad):
        x, t = self.saved_tensors
        b = self.beta
        return (_piecewise_grad(self, grad, x - t, b, 1.0) if self.needs_input_grad[0] else None,
                _piecewise_grad(self, grad, t - x, b, 1.0) if self.needs_input_grad[1] else None)


def smooth_l1_loss(input: Tensor, target: Tensor, reduction: str, beta: float) -> Tensor:
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    with grad_mode.no_grad():
        d = input - target
        z = d.abs()
        loss = where(z < beta, 0.5 * d * d / beta, z - 0.5 * beta)
    return _record(SmoothL1LossBackward0, loss, reduction, (input, target), (input, target),
                   beta=beta)


class HuberLossBackward0(Node):
    def backward(self, grad):
        x, t = self.saved_tensors
        h = self.delta
        return (_piecewise_grad(self, grad, x - t, h, h) if self.needs_input_grad[0] else None,
                _piecewise_grad(self, grad, t - x, h, h) if self.needs_input_grad[1] else None)


def huber_loss(input: Tensor, target: Tensor, reduction: str, delta: float) -> Tensor:
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    with grad_mode.no_grad():
        d = input - target
        z = d.abs()
        loss = where(z < delta, 0.5 * d * d, delta * (z - 0.5 * delta))
    return _record(HuberLossBackward0, loss, reduction, (input, target), (input, target),
                   delta=delta)


# ---- activations -------------------------------------------------------------------------
def _float_only(x: Tensor, kernel: str) -> None:
    if not x.is_floating_point():
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_name(x)}\'')


class EluBackward0(Node):
    def backward(self, grad):
        (x,) = self.saved_tensors
        return (where(x > 0, grad, grad * self.alpha * x.exp()),)


class EluBackward1(Node):
    """In-place ELU keeps only its result: below 0, d/dx = alpha * exp(x) = out + alpha."""

    def backward(self, grad):
        (out,) = self.saved_tensors
        return (where(out > 0, grad, grad * (out + self.alpha)),)


def elu(input: Tensor, alpha: float, inplace: bool) -> Tensor:
    _float_only(input, "elu_cpu")
    if inplace:
        check_inplace(input)
    with grad_mode.no_grad():
        out = where(input > 0, input, alpha * input.expm1())
    if not inplace:
        return record(EluBackward0, out._data, (input,), save=(input,), alpha=alpha)
    with grad_mode.no_grad():
        E.copy_(input._data, out._data)  # record bumps the version
    return record(EluBackward1, input, (input,), save=(input,), alpha=alpha)


class SoftplusBackward0(Node):
    def backward(self, grad):
        (x,) = self.saved_tensors
        bx = x * self.beta
        z = bx.exp()
        return (where(bx > self.threshold, grad, grad * z / (z + 1)),)


def softplus(input: Tensor, beta: float, threshold: float) -> Tensor:
    _float_only(input, "softplus_cpu")
    with grad_mode.no_grad():
        bx = input * beta
        # above the threshold softplus is x to working precision (and exp would overflow)
        out = where(bx > threshold, input, bx.exp().log1p() / beta)
    return record(SoftplusBackward0, out._data, (input,), save=(input,), beta=beta,
                  threshold=threshold)

"""Negative log-likelihood loss on log-probabilities, ``(N, C)``, ``(C,)`` or
``(N, C, d1, ...)``, with class weights, ``ignore_index`` and torch's reductions."""
import operator

import numpy as np

from .._kernels import nll_loss as _k
from ._util import kernel_array, nd, scalar_name, size_str, wrap

_REDUCTIONS = ("none", "mean", "sum")


def _check(lp, t, w, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if t.dtype not in (np.int64, np.uint8):
        raise RuntimeError(
            f"expected target dtype to be Long or Byte, but got {scalar_name(t.dtype)}")
    if lp.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {lp.ndim})")
    if lp.ndim == 1:
        if t.ndim != 0:
            raise RuntimeError(
                f"1D target tensor expects a 0D target tensor, but got {size_str(t.shape)}")
    else:
        if lp.shape[0] != (t.shape[0] if t.ndim else 1) or t.ndim == 0:
            raise ValueError(
                f"Expected input batch_size ({lp.shape[0]}) to match target batch_size "
                f"({t.shape[0] if t.ndim else 0}).")
        expect = (lp.shape[0],) + lp.shape[2:]
        if tuple(t.shape) != expect:
            if lp.ndim == 4:
                raise RuntimeError(
                    f"size mismatch (got input: {size_str(lp.shape)} , target: "
                    f"{size_str(t.shape)}")
            raise RuntimeError(
                f"Expected target size {size_str(expect)}, got {size_str(t.shape)}")
    C = lp.shape[1] if lp.ndim > 1 else lp.shape[0]
    if w is not None and w.size != C:
        raise RuntimeError(
            f"weight tensor should be defined either for all {C} classes or no classes but "
            f"got weight tensor of shape: {size_str(w.shape)}")
    if lp.dtype not in (np.float32, np.float64):
        raise NotImplementedError(
            f'"nll_loss_forward_reduce_cuda_kernel_2d_index" not implemented for '
            f"'{scalar_name(lp.dtype)}'")
    return C


def _layout(lp, t):
    """(N, C, L) log-probs and contiguous int64 (N, L) targets for every accepted rank."""
    if lp.ndim == 1:
        lp3, t2 = lp.reshape(1, -1, 1), t.reshape(1, 1)
    else:
        N, C = lp.shape[:2]
        lp3, t2 = lp.reshape(N, C, -1), t.reshape(N, -1)
    return lp3, kernel_array(t2, dtype=np.int64)


def _weight(w):
    return None if w is None else kernel_array(w.reshape(-1), dtype=np.float64)


def nll_loss(log_probs, target, weight=None, reduction="mean", ignore_index=-100):
    """torch.nn.functional.nll_loss: ``(loss, total_weight)``."""
    lp, t, w = nd(log_probs), nd(target), nd(weight)
    _check(lp, t, w, reduction)
    ignore_index = operator.index(ignore_index)
    lp3, t2 = _layout(lp, t)
    dt = lp.dtype
    per_element = np.empty(t2.shape, dt) if reduction == "none" else None
    total, weight_sum = _k.nll_forward(lp3, t2, _weight(w), ignore_index, per_element)
    if reduction == "none":
        out = per_element.reshape(t.shape)
    elif reduction == "sum":
        out = np.array(total, dt)
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.array(np.float64(total) / np.float64(weight_sum), dt)
    return wrap(out), wrap(np.array(weight_sum, dt))


def nll_loss_backward(grad_out, log_probs, target, weight=None, reduction="mean",
                      ignore_index=-100, total_weight=None):
    """Gradient of nll_loss with respect to ``log_probs`` (read for its shape and dtype
    only)."""
    go, lp, t, w = nd(grad_out), nd(log_probs), nd(target), nd(weight)
    _check(lp, t, w, reduction)
    ignore_index = operator.index(ignore_index)
    lp3, t2 = _layout(lp, t)
    wv = _weight(w)
    gi = np.zeros(lp3.shape, lp.dtype)
    if reduction == "none":
        if go.shape != t.shape:
            raise RuntimeError(
                f"Expected a tensor of size {size_str(t.shape)} for grad_output, but got "
                f"{size_str(go.shape)}")
        g2 = kernel_array(go.reshape(t2.shape), dtype=lp.dtype)
        _k.nll_backward(gi, t2, wv, ignore_index, g2)
    else:
        if go.size != 1:
            raise RuntimeError(
                f"Expected a single element grad_output tensor, but got: {size_str(go.shape)}")
        g = np.float64(go.reshape(()))
        if reduction == "mean":
            if total_weight is not None:
                tw = np.float64(nd(total_weight).reshape(()))
            else:
                tw = np.float64(_k.nll_forward(lp3, t2, wv, ignore_index)[1])
            with np.errstate(invalid="ignore", divide="ignore"):
                g = g / tw
        _k.nll_backward(gi, t2, wv, ignore_index, None, float(g))
    return wrap(gi.reshape(lp.shape))

"""Negative log-likelihood loss on log-probabilities, ``(N, C)``, ``(C,)`` or
``(N, C, d1, ...)``, with class weights, ``ignore_index`` and torch's reductions."""
import operator

import numpy as np

from ._util import nd, scalar_name, size_str, wrap

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
    """(N, C, L) log-probs and (N, L) targets for every accepted input rank."""
    if lp.ndim == 1:
        return lp.reshape(1, -1, 1), t.reshape(1, 1)
    N, C = lp.shape[:2]
    return lp.reshape(N, C, -1), t.reshape(N, -1)


def _targets(t3, C, ignore_index):
    t3 = t3.astype(np.int64, copy=False)
    keep = t3 != ignore_index
    bad = keep & ((t3 < 0) | (t3 >= C))
    if bad.any():
        raise IndexError(f"Target {t3[bad].flat[0]} is out of bounds.")
    return np.where(keep, t3, 0), keep


def nll_loss(log_probs, target, weight=None, reduction="mean", ignore_index=-100):
    """torch.nn.functional.nll_loss: ``(loss, total_weight)``."""
    lp, t, w = nd(log_probs), nd(target), nd(weight)
    C = _check(lp, t, w, reduction)
    ignore_index = operator.index(ignore_index)
    lp3, t2 = _layout(lp, t)
    safe, keep = _targets(t2, C, ignore_index)
    picked = np.take_along_axis(lp3, safe[:, None, :], axis=1)[:, 0, :].astype(np.float64)
    wt = (w.astype(np.float64)[safe] if w is not None else np.ones(safe.shape)) * keep
    losses = -picked * wt
    total = wt.sum()
    dt = lp.dtype
    if reduction == "none":
        out = losses.reshape(t.shape).astype(dt)
    elif reduction == "sum":
        out = np.array(losses.sum(), dt)
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.array(losses.sum() / total, dt)
    return wrap(out), wrap(np.array(total, dt))


def nll_loss_backward(grad_out, log_probs, target, weight=None, reduction="mean",
                      ignore_index=-100, total_weight=None):
    """Gradient of nll_loss with respect to ``log_probs``."""
    go, lp, t, w = nd(grad_out), nd(log_probs), nd(target), nd(weight)
    C = _check(lp, t, w, reduction)
    ignore_index = operator.index(ignore_index)
    lp3, t2 = _layout(lp, t)
    safe, keep = _targets(t2, C, ignore_index)
    wt = (w.astype(np.float64)[safe] if w is not None else np.ones(safe.shape)) * keep
    if reduction == "none":
        if go.shape != t.shape:
            raise RuntimeError(
                f"Expected a tensor of size {size_str(t.shape)} for grad_output, but got "
                f"{size_str(go.shape)}")
        scale = -wt * go.reshape(wt.shape).astype(np.float64)
    else:
        if go.size != 1:
            raise RuntimeError(
                f"Expected a single element grad_output tensor, but got: {size_str(go.shape)}")
        g = float(go.reshape(()))
        if reduction == "mean":
            tw = float(nd(total_weight).reshape(())) if total_weight is not None else wt.sum()
            g = g / tw if tw else g * np.nan
        scale = -wt * g
    gi = np.zeros(lp3.shape, lp.dtype)
    np.put_along_axis(gi, safe[:, None, :], scale[:, None, :].astype(lp.dtype), axis=1)
    # rows whose target was ignored picked class 0 as a placeholder: their scale is 0
    return wrap(gi.reshape(lp.shape))

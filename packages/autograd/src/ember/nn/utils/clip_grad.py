"""Gradient clipping: rescale (by total norm) or clamp (by value) every ``p.grad`` in place."""
import math
import warnings

import numpy as np
from ember_tensor import Array

from ..._tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_"]


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _norm(a, norm_type):
    a = a.reshape(-1)
    if norm_type == math.inf:
        return np.abs(a).max() if a.size else 0.0
    if norm_type == -math.inf:
        return np.abs(a).min() if a.size else math.inf
    if norm_type == 0:
        return float(np.count_nonzero(a))
    return (np.abs(a.astype(np.float64)) ** norm_type).sum() ** (1.0 / norm_type)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scale all gradients so their joint ``norm_type`` norm is at most ``max_norm``.

    Returns the total norm before clipping, as a 0-d tensor.
    """
    if not isinstance(parameters, Tensor):
        parameters = list(parameters)
        if not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.",
                          stacklevel=2)
    grads = _grads(parameters)
    norm_type = float(norm_type)
    max_norm = float(max_norm)
    if not grads:
        return Tensor._make(Array(np.array(0.0, dtype=np.float32)))
    dtype = grads[0]._data._np.dtype
    norms = np.array([_norm(g._data._np, norm_type) for g in grads], dtype=np.float64)
    total = float(_norm(norms, norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the gradients "
            "by the non-finite norm anyway, set `error_if_nonfinite=False`")
    # computed in the gradients' dtype as torch does, so the scaled values match bit for bit
    total_t = np.array(total, dtype=dtype)
    coef = np.minimum(np.array(max_norm, dtype=dtype) / (total_t + dtype.type(1e-6)),
                      dtype.type(1.0))
    for g in grads:
        g._data._np[...] *= coef
        g._version_counter[0] += 1
    return Tensor._make(Array(total_t))


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                   foreach=None):
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into ``[-clip_value, clip_value]``."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        np.clip(g._data._np, -clip_value, clip_value, out=g._data._np)
        g._version_counter[0] += 1

"""Dropout: zero each element with probability ``p`` and scale survivors by ``1/(1-p)``."""
import numpy as np

from .._random import random_uniform_like
from ._util import nd, wrap


def dropout(x, p=0.5, training=True, generator=None):
    """``(out, mask)``; ``mask`` holds 0 or ``1/(1-p)`` (None when nothing is dropped)."""
    p = float(p)
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    xa = nd(x)
    if not training or p == 0.0:
        return wrap(xa.copy()), None
    if xa.dtype not in (np.float32, np.float64, np.float16):
        raise RuntimeError("result type Float can't be cast to the desired output type "
                           + {np.dtype(np.int64): "Long"}.get(xa.dtype, str(xa.dtype)))
    if p == 1.0:
        mask = np.zeros(xa.shape, xa.dtype)
    else:
        u = random_uniform_like(xa.shape, generator,
                                np.float64 if xa.dtype == np.float64 else np.float32)
        mask = (u >= p).astype(xa.dtype)
        mask *= xa.dtype.type(1.0 / (1.0 - p))
    return wrap(xa * mask), wrap(mask)


def dropout_backward(grad, mask):
    """Gradient through dropout: the same mask, scale included."""
    g = nd(grad)
    if mask is None:
        return wrap(g.copy())
    return wrap(g * nd(mask))

"""nll_loss kernels: log-probabilities ``(N, C, L)`` (any strides), targets ``(N, L)`` int64.

Class weights come as a contiguous float64 vector of size C (None means all ones). Sums of
losses and weights accumulate in double.
"""
from cython.parallel cimport prange
from libc.stdint cimport int64_t

from .parallel cimport threads_for
from .types cimport for_dtype, real

import numpy as np

cdef Py_ssize_t first_bad_target(const int64_t* t, Py_ssize_t n, Py_ssize_t C,
                                 int64_t ignore_index) noexcept nogil:
    cdef Py_ssize_t k
    for k in range(n):
        if t[k] != ignore_index and (t[k] < 0 or t[k] >= C):
            return k
    return -1


cdef inline double _class_weight(int64_t c, const double* w,
                                 int64_t ignore_index) noexcept nogil:
    # 0 for an ignored target; otherwise c is a class (checked before any loop) and w NULL
    # weighs every class 1
    if c == ignore_index:
        return 0
    return w[c] if w != NULL else 1.0


cdef tuple _forward(const real[:, :, :] lp, const int64_t[:, ::1] t, const double[::1] weight,
                    int64_t ignore_index, real[:, ::1] out, bint per_element):
    cdef const double* w = &weight[0] if weight is not None else NULL  # None: all 1
    cdef Py_ssize_t N = t.shape[0], L = t.shape[1], p, n, j
    cdef int64_t c
    cdef double wt, loss, total = 0, weight_sum = 0
    cdef int nt = threads_for(2 * N * L, N * L)
    with nogil:
        for p in prange(N * L, schedule="static", num_threads=nt):
            n = p // L
            j = p % L
            c = t[n, j]
            wt = _class_weight(c, w, ignore_index)
            # a kept target of weight 0 still multiplies its log-probability (0 * -inf is nan)
            loss = 0 if c == ignore_index else -wt * lp[n, c, j]
            if per_element:
                out[n, j] = <real>loss
            total += loss
            weight_sum += wt
    return total, weight_sum


cdef _backward(real[:, :, ::1] gi, const int64_t[:, ::1] t, const double[::1] weight,
               int64_t ignore_index, const real[:, ::1] go, double scale):
    # gi is zero on entry; go is None for a reduced loss, whose gradient is `scale` everywhere
    cdef const double* w = &weight[0] if weight is not None else NULL  # None: all 1
    cdef Py_ssize_t N = t.shape[0], L = t.shape[1], p
    cdef int64_t c
    cdef double g
    cdef bint per_element = go is not None
    cdef int nt = threads_for(2 * N * L, N * L)
    with nogil:
        for p in prange(N * L, schedule="static", num_threads=nt):
            c = t[p // L, p % L]
            if c != ignore_index:
                g = go[p // L, p % L] if per_element else scale
                gi[p // L, c, p % L] = <real>(-_class_weight(c, w, ignore_index) * g)


# ---- checked entry points ----------------------------------------------------------------

def _check(lp, t, w):
    if not (isinstance(lp, np.ndarray) and lp.ndim == 3 and lp.dtype in (np.float32, np.float64)):
        raise RuntimeError("nll_loss: log-probabilities must be a float (N, C, L) array")
    if not (isinstance(t, np.ndarray) and t.dtype == np.int64 and t.flags.c_contiguous
            and t.shape == (lp.shape[0], lp.shape[2])):
        raise RuntimeError("nll_loss: targets must be contiguous int64 of shape (N, L)")
    if w is not None and (w.dtype != np.float64 or w.shape != (lp.shape[1],)
                          or not w.flags.c_contiguous):
        raise RuntimeError("nll_loss: weight must be contiguous float64 of size C")


def first_bad(t, Py_ssize_t C, int64_t ignore_index):
    """Flat position of the first target outside ``[0, C)`` (ignored ones aside), or -1."""
    if t.dtype != np.int64 or not t.flags.c_contiguous:
        raise RuntimeError("nll_loss: targets must be contiguous int64")
    cdef const int64_t[::1] flat = t.reshape(-1)
    cdef Py_ssize_t k = -1
    if flat.shape[0]:
        with nogil:
            k = first_bad_target(&flat[0], flat.shape[0], C, ignore_index)
    return k


def _valid_targets(t, Py_ssize_t C, int64_t ignore_index):
    k = first_bad(t, C, ignore_index)
    if k >= 0:
        raise IndexError(f"Target {t.reshape(-1)[k]} is out of bounds.")


def nll_forward(lp, t, w, int64_t ignore_index, out=None):
    """``(sum of losses, sum of weights)`` over all targets; with ``out`` ((N, L), lp's
    dtype, contiguous) also each element's loss."""
    _check(lp, t, w)
    _valid_targets(t, lp.shape[1], ignore_index)
    if out is not None and (out.dtype != lp.dtype or out.shape != t.shape
                            or not out.flags.c_contiguous):
        raise RuntimeError("nll_loss: out must be contiguous (N, L) of the input's dtype")
    if t.size == 0:
        return 0.0, 0.0
    scratch = out if out is not None else np.empty((1, 1), lp.dtype)
    return for_dtype(lp.dtype, _FORWARD, "nll_loss")(lp, t, w, ignore_index, scratch,
                                                     out is not None)


def nll_backward(gi, t, w, int64_t ignore_index, go=None, double scale=0.0):
    """Write ``-weight * grad`` at each kept target of ``gi`` ((N, C, L), contiguous, zero).
    ``go`` ((N, L), gi's dtype) gives per-element grads; else every element gets ``scale``."""
    _check(gi, t, w)
    if not gi.flags.c_contiguous:
        raise RuntimeError("nll_loss: grad_input must be contiguous")
    if go is not None and (go.dtype != gi.dtype or go.shape != t.shape
                           or not go.flags.c_contiguous):
        raise RuntimeError("nll_loss: grad_output must be contiguous (N, L) of gi's dtype")
    _valid_targets(t, gi.shape[1], ignore_index)
    if t.size == 0:
        return
    for_dtype(gi.dtype, _BACKWARD, "nll_loss")(gi, t, w, ignore_index, go, scale)


_FORWARD = (_forward[float], _forward[double])
_BACKWARD = (_backward[float], _backward[double])

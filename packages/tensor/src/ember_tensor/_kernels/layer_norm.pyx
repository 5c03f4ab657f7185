"""layer_norm forward and backward over contiguous ``(M, D)`` rows.

The backward's weight and bias gradients are sums over rows: each thread adds into its own
float64 row of a ``(threads, D)`` scratch, and the rows are added up afterwards, so threads
never share an accumulator.
"""
from cython.parallel cimport prange
from libc.math cimport sqrt

from .parallel cimport omp_get_thread_num, threads_for
from .reduce cimport row_sum, row_sqdev
from .simd cimport grad_row_sums
from .types cimport for_dtype, real

import numpy as np

cdef void layer_norm_row(const real* x, real* y, const double* w, const double* b,
                         Py_ssize_t D, double eps, double* mean, double* rstd) noexcept nogil:
    # two passes (mean, then squared deviations), as batch norm: E[x^2]-E[x]^2 cancels badly
    cdef Py_ssize_t j
    cdef double m = row_sum(x, D) / D
    cdef double r = 1.0 / sqrt(row_sqdev(x, D, m) / D + eps)
    mean[0] = m
    rstd[0] = r
    if w != NULL and b != NULL:
        for j in range(D):
            y[j] = <real>((x[j] - m) * r * w[j] + b[j])
    elif w != NULL:
        for j in range(D):
            y[j] = <real>((x[j] - m) * r * w[j])
    elif b != NULL:
        for j in range(D):
            y[j] = <real>((x[j] - m) * r + b[j])
    else:
        for j in range(D):
            y[j] = <real>((x[j] - m) * r)


cdef void _backward_row(const real* g, const real* x, real* gx, const double* w, double m,
                        double r, Py_ssize_t D, double* gw_acc, double* gb_acc) noexcept nogil:
    # gx = r * (gh - mean(gh) - xhat * mean(gh * xhat)), gh = g * w, xhat = (x - m) * r
    cdef Py_ssize_t j
    cdef double s1, s2, c1, c2
    if gx != NULL:
        s1 = s2 = 0
        grad_row_sums(g, x, w, D, m, &s1, &s2)
        c1 = s1 / D
        c2 = s2 * r * r / D
        if w != NULL:
            for j in range(D):
                gx[j] = <real>(r * (g[j] * w[j] - c1 - (x[j] - m) * c2))
        else:
            for j in range(D):
                gx[j] = <real>(r * (g[j] - c1 - (x[j] - m) * c2))
    if gw_acc != NULL:
        for j in range(D):
            gw_acc[j] += g[j] * ((x[j] - m) * r)
    if gb_acc != NULL:
        for j in range(D):
            gb_acc[j] += g[j]


cdef _fw(const real[:, ::1] x, real[:, ::1] y, w, b, double eps, double[::1] mean,
         double[::1] rstd):
    cdef Py_ssize_t M = x.shape[0], D = x.shape[1], i
    cdef const double* wp = _ptr(w)
    cdef const double* bp = _ptr(b)
    cdef int nt = threads_for(2 * M * D, M)
    with nogil:
        for i in prange(M, schedule="static", num_threads=nt):
            layer_norm_row(&x[i, 0], &y[i, 0], wp, bp, D, eps, &mean[i], &rstd[i])


cdef _bw(const real[:, ::1] g, const real[:, ::1] x, real[:, ::1] gx, w,
         const double[::1] mean, const double[::1] rstd, double[:, ::1] gw_parts,
         double[:, ::1] gb_parts, int nt):
    cdef Py_ssize_t M = x.shape[0], D = x.shape[1], i
    cdef const double* wp = _ptr(w)
    cdef int tid
    cdef bint want_x = gx is not None, want_w = gw_parts is not None
    cdef bint want_b = gb_parts is not None
    with nogil:
        for i in prange(M, schedule="static", num_threads=nt):
            tid = omp_get_thread_num()
            _backward_row(&g[i, 0], &x[i, 0], &gx[i, 0] if want_x else NULL, wp, mean[i],
                          rstd[i], D, &gw_parts[tid, 0] if want_w else NULL,
                          &gb_parts[tid, 0] if want_b else NULL)


# ---- checked entry points ----------------------------------------------------------------

def _rows(*arrays):
    first = arrays[0]
    for a in arrays:
        if a is None:
            continue
        if a.ndim != 2 or a.shape != first.shape or a.dtype != first.dtype:
            raise RuntimeError("layer_norm: arrays must be (M, D) of one shape and dtype")
        if not a.flags.c_contiguous:
            raise RuntimeError("layer_norm: arrays must be contiguous")
    if first.dtype not in (np.float32, np.float64):
        raise RuntimeError("layer_norm: float32/float64 only")
    return first.shape


def _vector(v, Py_ssize_t n, name):
    if v is not None and (v.dtype != np.float64 or v.shape != (n,) or not v.flags.c_contiguous):
        raise RuntimeError(f"layer_norm: {name} must be contiguous float64 of size {n}")


cdef const double* _ptr(const double[::1] v):
    return &v[0] if v is not None and v.shape[0] else NULL


def forward(x, y, w, b, double eps, mean, rstd):
    """Normalise each row of ``x`` into ``y``; fill per-row ``mean`` and ``rstd`` (float64).
    D must be > 0."""
    M, D = _rows(x, y)
    _vector(w, D, "weight")
    _vector(b, D, "bias")
    _vector(mean, M, "mean")
    _vector(rstd, M, "rstd")
    if M == 0:
        return
    if D == 0:
        raise RuntimeError("layer_norm: rows must not be empty")
    for_dtype(x.dtype, _FORWARD, "layer_norm")(x, y, w, b, eps, mean, rstd)


def backward(g, x, mean, rstd, w, gx, bint need_w, bint need_b):
    """Fill ``gx`` (or skip it when None); return the float64 weight and bias gradients of
    size D (None unless asked for)."""
    M, D = _rows(g, x, gx)
    _vector(w, D, "weight")
    _vector(mean, M, "mean")
    _vector(rstd, M, "rstd")
    if D == 0:
        raise RuntimeError("layer_norm: rows must not be empty")
    cdef int nt = threads_for(3 * M * D, M)
    gw_parts = np.zeros((nt, D)) if need_w else None
    gb_parts = np.zeros((nt, D)) if need_b else None
    if M:
        for_dtype(x.dtype, _BACKWARD, "layer_norm")(g, x, gx, w, mean, rstd, gw_parts,
                                                    gb_parts, nt)
    return (_sum_parts(gw_parts) if need_w else None,
            _sum_parts(gb_parts) if need_b else None)


def _sum_parts(double[:, ::1] parts):
    cdef Py_ssize_t t, j
    out = np.zeros(parts.shape[1])
    cdef double[::1] o = out
    for t in range(parts.shape[0]):
        for j in range(parts.shape[1]):
            o[j] += parts[t, j]
    return out


_FORWARD = (_fw[float], _fw[double])
_BACKWARD = (_bw[float], _bw[double])

"""Batch-norm kernels over contiguous ``(N, C, L)`` arrays (``L`` = product of spatial dims).

Per-channel vectors (mean, scale, shift, sums) are always float64, whatever ``real`` is.
"""
from cython.parallel cimport prange

from .parallel cimport omp_get_max_threads
from .types cimport real

import numpy as np

cdef enum:
    PARALLEL_MIN_WORK = 32768


cdef inline int _threads(Py_ssize_t tasks, Py_ssize_t work) noexcept nogil:
    if work < PARALLEL_MIN_WORK or tasks < 2:
        return 1
    return omp_get_max_threads()


cdef void _stats(const real* x, double* mean, double* var, Py_ssize_t N, Py_ssize_t C,
                 Py_ssize_t L, int nt) noexcept nogil:
    # two passes (mean, then squared deviations): one-pass E[x^2]-E[x]^2 cancels badly
    cdef Py_ssize_t c, n, l
    cdef double s, d, m
    cdef const real* row
    for c in prange(C, nogil=True, schedule="static", num_threads=nt):
        s = 0
        for n in range(N):
            row = x + (n * C + c) * L
            for l in range(L):
                s = s + row[l]
        m = s / (N * L)
        s = 0
        for n in range(N):
            row = x + (n * C + c) * L
            for l in range(L):
                d = row[l] - m
                s = s + d * d
        mean[c] = m
        var[c] = s / (N * L)


cdef void _affine(const real* x, real* out, const double* scale, const double* shift,
                  Py_ssize_t N, Py_ssize_t C, Py_ssize_t L, bint relu, int nt) noexcept nogil:
    cdef Py_ssize_t p, l
    cdef real a, b, v
    for p in prange(N * C, nogil=True, schedule="static", num_threads=nt):
        a = <real>scale[p % C]
        b = <real>shift[p % C]
        if relu:
            for l in range(L):
                v = x[p * L + l] * a + b
                out[p * L + l] = v if v > 0 else 0
        else:
            for l in range(L):
                out[p * L + l] = x[p * L + l] * a + b


cdef void _grad_sums(const real* go, const real* x, const double* mean, double* sum_go,
                     double* sum_go_xc, Py_ssize_t N, Py_ssize_t C, Py_ssize_t L,
                     int nt) noexcept nogil:
    # sum(go) and sum(go * (x - mean)) per channel
    cdef Py_ssize_t c, n, l, off
    cdef double s1, s2, m, g
    for c in prange(C, nogil=True, schedule="static", num_threads=nt):
        s1 = 0
        s2 = 0
        m = mean[c]
        for n in range(N):
            off = (n * C + c) * L
            for l in range(L):
                g = go[off + l]
                s1 = s1 + g
                s2 = s2 + g * (x[off + l] - m)
        sum_go[c] = s1
        sum_go_xc[c] = s2


cdef void _grad_input(const real* go, const real* x, real* gx, const double* k,
                      const double* mean, const double* c1, const double* c2, Py_ssize_t N,
                      Py_ssize_t C, Py_ssize_t L, int nt) noexcept nogil:
    # gx = k * (go - c1 - (x - mean) * c2)
    cdef Py_ssize_t p, l, c
    cdef double kk, m, a, b
    for p in prange(N * C, nogil=True, schedule="static", num_threads=nt):
        c = p % C
        kk = k[c]
        m = mean[c]
        a = c1[c]
        b = c2[c]
        for l in range(L):
            gx[p * L + l] = <real>(kk * (go[p * L + l] - a - (x[p * L + l] - m) * b))


# ---- checked entry points ---------------------------------------------------------------

def _blocks(*arrays):
    shape = arrays[0].shape
    dt = arrays[0].dtype
    for a in arrays:
        if a.ndim != 3 or a.shape != shape or not a.flags.c_contiguous:
            raise RuntimeError("norm: arrays must be contiguous (N, C, L) of one shape")
        if a.dtype != dt:
            raise RuntimeError("norm: arrays must share a dtype")
    if dt not in (np.float32, np.float64):
        raise RuntimeError("norm: float32/float64 only")
    return shape, dt == np.float32


def _vectors(C, *vecs):
    for v in vecs:
        if v.ndim != 1 or v.shape[0] != C or v.dtype != np.float64 or not v.flags.c_contiguous:
            raise RuntimeError(f"norm: per-channel vectors must be contiguous float64 of size {C}")


def channel_stats(x, mean, var):
    """Fill ``mean``/``var`` (biased) per channel of ``x`` (N, C, L); N*L must be > 0."""
    (N, C, L), f32 = _blocks(x)
    _vectors(C, mean, var)
    if C == 0:
        return
    if N * L == 0:
        raise RuntimeError("norm: statistics of an empty channel")
    nt = _threads(C, x.size)
    if f32:
        _st[float](x, mean, var, nt)
    else:
        _st[double](x, mean, var, nt)


cdef _st(real[:, :, ::1] x, double[::1] mean, double[::1] var, int nt):
    with nogil:
        _stats(&x[0, 0, 0], &mean[0], &var[0], x.shape[0], x.shape[1], x.shape[2], nt)


def affine(x, out, scale, shift, bint relu=False):
    """``out = x * scale[c] + shift[c]`` (then ReLU when asked); ``out`` may be ``x``."""
    (N, C, L), f32 = _blocks(x, out)
    _vectors(C, scale, shift)
    if x.size == 0:
        return
    nt = _threads(N * C, x.size)
    if f32:
        _af[float](x, out, scale, shift, relu, nt)
    else:
        _af[double](x, out, scale, shift, relu, nt)


cdef _af(real[:, :, ::1] x, real[:, :, ::1] out, double[::1] scale, double[::1] shift,
         bint relu, int nt):
    with nogil:
        _affine(&x[0, 0, 0], &out[0, 0, 0], &scale[0], &shift[0], x.shape[0], x.shape[1],
                x.shape[2], relu, nt)


def grad_sums(go, x, mean, sum_go, sum_go_xc):
    (N, C, L), f32 = _blocks(go, x)
    _vectors(C, mean, sum_go, sum_go_xc)
    if C == 0:
        return
    if x.size == 0:
        sum_go[:] = 0
        sum_go_xc[:] = 0
        return
    nt = _threads(C, x.size)
    if f32:
        _gs[float](go, x, mean, sum_go, sum_go_xc, nt)
    else:
        _gs[double](go, x, mean, sum_go, sum_go_xc, nt)


cdef _gs(real[:, :, ::1] go, real[:, :, ::1] x, double[::1] mean, double[::1] s1,
         double[::1] s2, int nt):
    with nogil:
        _grad_sums(&go[0, 0, 0], &x[0, 0, 0], &mean[0], &s1[0], &s2[0], x.shape[0],
                   x.shape[1], x.shape[2], nt)


def grad_input(go, x, gx, k, mean, c1, c2):
    """``gx = k[c] * (go - c1[c] - (x - mean[c]) * c2[c])``."""
    (N, C, L), f32 = _blocks(go, x, gx)
    _vectors(C, k, mean, c1, c2)
    if x.size == 0:
        return
    nt = _threads(N * C, x.size)
    if f32:
        _gi[float](go, x, gx, k, mean, c1, c2, nt)
    else:
        _gi[double](go, x, gx, k, mean, c1, c2, nt)


cdef _gi(real[:, :, ::1] go, real[:, :, ::1] x, real[:, :, ::1] gx, double[::1] k,
         double[::1] mean, double[::1] c1, double[::1] c2, int nt):
    with nogil:
        _grad_input(&go[0, 0, 0], &x[0, 0, 0], &gx[0, 0, 0], &k[0], &mean[0], &c1[0], &c2[0],
                    x.shape[0], x.shape[1], x.shape[2], nt)

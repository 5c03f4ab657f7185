"""Batch-norm kernels over contiguous ``(N, C, L)`` arrays (``L`` = product of spatial dims).

Per-channel vectors (mean, scale, shift, sums) are always float64, whatever ``real`` is.
Every pass is one sweep over memory with SIMD inner loops; threads take channels (statistics)
or ``(n, c)`` rows (elementwise passes) dynamically, so a thread the OS preempts on a busy
machine does not hold the others at the barrier.
"""
cimport numpy as cnp
from cython.parallel cimport prange
from libc.math cimport sqrt

from .parallel cimport threads_for
from .simd cimport axpb, axpbyc, grad_row_sums, simd_sqdev, simd_sum
from .types cimport for_dtype, real

import numpy as np

cnp.import_array()

cdef enum:
    # elements per statistics block: small enough that its second read hits L1
    BLOCK = 2048
    # elements a dynamically scheduled chunk of rows should hold at least
    CHUNK_WORK = 8192
    # rows shorter than this skip the block merge in channel_moments
    SHORT_ROW = 64


cdef inline Py_ssize_t _rows_per_chunk(Py_ssize_t L) noexcept nogil:
    if L >= CHUNK_WORK:
        return 1
    return CHUNK_WORK // (L if L > 0 else 1)


cdef void channel_moments(const real* x, Py_ssize_t N, Py_ssize_t stride, Py_ssize_t L,
                          double* mean, double* m2) noexcept nogil:
    # Chan et al.'s pairwise merge of block moments: as stable as two full passes, but the
    # second read of each block comes from L1 instead of memory.
    cdef Py_ssize_t n, l0, cnt
    cdef double tot = 0, mu = 0, acc = 0, bm, bm2, delta, newtot
    cdef const real* row
    for n in range(N):
        row = x + n * stride
        l0 = 0
        while l0 < L:
            cnt = L - l0 if L - l0 < BLOCK else BLOCK
            bm = simd_sum(row + l0, cnt) / cnt
            bm2 = simd_sqdev(row + l0, cnt, bm)
            newtot = tot + cnt
            delta = bm - mu
            mu = mu + delta * (cnt / newtot)
            acc = acc + bm2 + delta * delta * (tot * cnt / newtot)
            tot = newtot
            l0 = l0 + cnt
    mean[0] = mu
    m2[0] = acc


cdef void _stats(const real* x, double* mean, double* var, Py_ssize_t N, Py_ssize_t C,
                 Py_ssize_t L, int nt) noexcept nogil:
    cdef Py_ssize_t c
    if L < SHORT_ROW:
        _stats_short_rows(x, mean, var, N, C, L)
        return
    for c in prange(C, nogil=True, schedule="dynamic", num_threads=nt):
        channel_moments(x + c * L, N, C * L, L, &mean[c], &var[c])
        var[c] = var[c] / (N * L)


cdef void _stats_short_rows(const real* x, double* mean, double* var, Py_ssize_t N,
                            Py_ssize_t C, Py_ssize_t L) noexcept nogil:
    # Late layers' planes (2x2, 4x4): one channel at a time is a chain of dependent adds a
    # few elements long per row, so sweep the tensor in memory order with one accumulator
    # per channel instead. Two exact passes (mean, then squared deviations); the tensor is
    # small enough to be read twice from cache.
    cdef Py_ssize_t n, c, l
    cdef const real* row
    cdef double m, d
    for c in range(C):
        mean[c] = 0
        var[c] = 0
    for n in range(N):
        for c in range(C):
            row = x + (n * C + c) * L
            for l in range(L):
                mean[c] += row[l]
    for c in range(C):
        mean[c] /= N * L
    for n in range(N):
        for c in range(C):
            row = x + (n * C + c) * L
            m = mean[c]
            for l in range(L):
                d = row[l] - m
                var[c] += d * d
    for c in range(C):
        var[c] /= N * L


cdef void _affine(const real* x, real* out, const double* scale, const double* shift,
                  Py_ssize_t N, Py_ssize_t C, Py_ssize_t L, bint relu, int nt) noexcept nogil:
    cdef Py_ssize_t p
    cdef Py_ssize_t chunk = _rows_per_chunk(L)
    for p in prange(N * C, nogil=True, schedule="dynamic", chunksize=chunk, num_threads=nt):
        axpb(x + p * L, out + p * L, L, <real>scale[p % C], <real>shift[p % C], relu)


cdef void _channel_dots(const real* go, const real* x, Py_ssize_t N, Py_ssize_t stride,
                        Py_ssize_t L, double m, double* s1, double* s2) noexcept nogil:
    cdef Py_ssize_t n
    s1[0] = 0
    s2[0] = 0
    for n in range(N):
        grad_row_sums(go + n * stride, x + n * stride, NULL, L, m, s1, s2)


cdef void _grad_sums(const real* go, const real* x, const double* mean, double* sum_go,
                     double* sum_go_xc, Py_ssize_t N, Py_ssize_t C, Py_ssize_t L,
                     int nt) noexcept nogil:
    # sum(go) and sum(go * (x - mean)) per channel
    cdef Py_ssize_t c
    for c in prange(C, nogil=True, schedule="dynamic", num_threads=nt):
        _channel_dots(go + c * L, x + c * L, N, C * L, L, mean[c], &sum_go[c], &sum_go_xc[c])


cdef void _grad_input(const real* go, const real* x, real* gx, const double* a,
                      const double* b, const double* d, Py_ssize_t N, Py_ssize_t C,
                      Py_ssize_t L, int nt) noexcept nogil:
    # gx = a * go + b * x + d: the per-channel constants fold mean and the two sums, so the
    # sweep is one fused multiply-add pair per element in the storage type
    cdef Py_ssize_t p
    cdef Py_ssize_t chunk = _rows_per_chunk(L)
    for p in prange(N * C, nogil=True, schedule="dynamic", chunksize=chunk, num_threads=nt):
        axpbyc(go + p * L, x + p * L, gx + p * L, L, <real>a[p % C], <real>b[p % C],
               <real>d[p % C])


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
    return shape, dt


def _vectors(C, *vecs):
    for v in vecs:
        if v.ndim != 1 or v.shape[0] != C or v.dtype != np.float64 or not v.flags.c_contiguous:
            raise RuntimeError(f"norm: per-channel vectors must be contiguous float64 of size {C}")


def channel_stats(x, mean, var):
    """Fill ``mean``/``var`` (biased) per channel of ``x`` (N, C, L); N*L must be > 0."""
    (N, C, L), dt = _blocks(x)
    _vectors(C, mean, var)
    if C == 0:
        return
    if N * L == 0:
        raise RuntimeError("norm: statistics of an empty channel")
    nt = threads_for(x.size, C)
    for_dtype(dt, _STATS, "norm")(x, mean, var, nt)


cdef _st(real[:, :, ::1] x, double[::1] mean, double[::1] var, int nt):
    with nogil:
        _stats(&x[0, 0, 0], &mean[0], &var[0], x.shape[0], x.shape[1], x.shape[2], nt)


def affine(x, out, scale, shift, bint relu=False):
    """``out = x * scale[c] + shift[c]`` (then ReLU when asked); ``out`` may be ``x``."""
    (N, C, L), dt = _blocks(x, out)
    _vectors(C, scale, shift)
    if x.size == 0:
        return
    nt = threads_for(2 * x.size, N * C)
    for_dtype(dt, _AFFINE, "norm")(x, out, scale, shift, relu, nt)


cdef _af(real[:, :, ::1] x, real[:, :, ::1] out, double[::1] scale, double[::1] shift,
         bint relu, int nt):
    with nogil:
        _affine(&x[0, 0, 0], &out[0, 0, 0], &scale[0], &shift[0], x.shape[0], x.shape[1],
                x.shape[2], relu, nt)


def grad_sums(go, x, mean, sum_go, sum_go_xc):
    """Per channel: ``sum_go = sum(go)``, ``sum_go_xc = sum(go * (x - mean))``."""
    (N, C, L), dt = _blocks(go, x)
    _vectors(C, mean, sum_go, sum_go_xc)
    if C == 0:
        return
    if x.size == 0:
        sum_go[:] = 0
        sum_go_xc[:] = 0
        return
    nt = threads_for(2 * x.size, C)
    for_dtype(dt, _GRAD_SUMS, "norm")(go, x, mean, sum_go, sum_go_xc, nt)


cdef _gs(real[:, :, ::1] go, real[:, :, ::1] x, double[::1] mean, double[::1] s1,
         double[::1] s2, int nt):
    with nogil:
        _grad_sums(&go[0, 0, 0], &x[0, 0, 0], &mean[0], &s1[0], &s2[0], x.shape[0],
                   x.shape[1], x.shape[2], nt)


def grad_input(go, x, gx, k, mean, c1, c2):
    """``gx = k[c] * (go - c1[c] - (x - mean[c]) * c2[c])``; ``gx`` may alias ``go``."""
    (N, C, L), dt = _blocks(go, x, gx)
    _vectors(C, k, mean, c1, c2)
    if x.size == 0:
        return
    a = np.ascontiguousarray(k, dtype=np.float64)
    b = -k * c2
    d = k * (mean * c2 - c1)
    nt = threads_for(3 * x.size, N * C)
    for_dtype(dt, _GRAD_INPUT, "norm")(go, x, gx, a, b, d, nt)


cdef _gi(real[:, :, ::1] go, real[:, :, ::1] x, real[:, :, ::1] gx, double[::1] a,
         double[::1] b, double[::1] d, int nt):
    with nogil:
        _grad_input(&go[0, 0, 0], &x[0, 0, 0], &gx[0, 0, 0], &a[0], &b[0], &d[0],
                    x.shape[0], x.shape[1], x.shape[2], nt)


# ---- eval mode: per-channel coefficients in one call ---------------------------------------

cdef inline double _at(cnp.ndarray v, Py_ssize_t c, double default) noexcept:
    # element c of a contiguous float32/float64 vector (checked by _param), or the default
    if v is None:
        return default
    if cnp.PyArray_TYPE(v) == cnp.NPY_FLOAT32:
        return (<const float*>cnp.PyArray_DATA(v))[c]
    return (<const double*>cnp.PyArray_DATA(v))[c]


cdef _param(v, Py_ssize_t C, name):
    if v is None:
        return None
    if not isinstance(v, np.ndarray) or cnp.PyArray_SIZE(v) != C \
            or cnp.PyArray_TYPE(v) not in (cnp.NPY_FLOAT32, cnp.NPY_FLOAT64) \
            or not cnp.PyArray_IS_C_CONTIGUOUS(v):
        raise RuntimeError(f"norm: {name} must be a contiguous float32/float64 vector of {C}")
    return v


def eval_coefficients(running_mean, running_var, weight, bias, double eps,
                      cnp.ndarray[double, ndim=1] scale, cnp.ndarray[double, ndim=1] shift,
                      cnp.ndarray[double, ndim=1] invstd):
    """Eval batch norm's per-channel constants in double, in one call instead of a dozen NumPy
    ops on C-element vectors: ``invstd = 1 / sqrt(running_var + eps)``, ``scale = invstd *
    weight``, ``shift = bias - running_mean * scale`` (weight None means 1, bias None 0).
    The four inputs are contiguous float32/float64 vectors of the channel count."""
    cdef Py_ssize_t c, C = scale.shape[0]
    if shift.shape[0] != C or invstd.shape[0] != C:
        raise RuntimeError(f"norm: per-channel outputs must hold {C} values")
    cdef cnp.ndarray rm = _param(running_mean, C, "running_mean")
    cdef cnp.ndarray rv = _param(running_var, C, "running_var")
    cdef cnp.ndarray w = _param(weight, C, "weight")
    cdef cnp.ndarray b = _param(bias, C, "bias")
    if rm is None or rv is None:
        raise RuntimeError("norm: eval needs running_mean and running_var")
    for c in range(C):
        invstd[c] = 1.0 / sqrt(_at(rv, c, 1.0) + eps)
        scale[c] = invstd[c] * _at(w, c, 1.0)
        shift[c] = _at(b, c, 0.0) - _at(rm, c, 0.0) * scale[c]


_STATS = (_st[float], _st[double])
_AFFINE = (_af[float], _af[double])
_GRAD_SUMS = (_gs[float], _gs[double])
_GRAD_INPUT = (_gi[float], _gi[double])

"""Softmax and log-softmax kernels over contiguous ``(outer, D, inner)`` arrays.

Rows (``inner == 1``) are one task each; otherwise a task is a block of up to SOFTMAX_COLS
columns of one outer slice. Sums accumulate in double. float32 uses an inlined exp that the
compiler can vectorise (libm's expf is a call per element); float64 keeps libm's exp.
"""
from cython.parallel cimport prange
from libc.math cimport exp, log

from .parallel cimport omp_get_max_threads
from .reduce cimport row_sum
from .types cimport real

import numpy as np

cdef enum:
    PARALLEL_MIN_WORK = 32768


cdef extern from *:
    """
    #include <math.h>
    #include <stddef.h>
    #include <stdint.h>

    /* exp on float lanes, written without branches or calls so `omp simd` loops vectorise:
       Cody-Waite reduction x = n*ln2 + r, |r| <= ln2/2, a degree-7 polynomial for e^r, then
       2^n applied as two halves so results down in the subnormal range keep their scale.
       Relative error stays within about 2 ulp; NaN propagates, +inf gives inf, -inf gives 0. */
    static inline float ember_expf(float x) {
        union { float f; int32_t i; } s1, s2;
        float xc = x < -104.0f ? -104.0f : x;
        xc = xc > 88.7f ? 88.7f : xc;
        /* round to nearest by the 1.5*2^23 trick: floorf is a library call unless
           -ffast-math, and a call per lane stops vectorisation */
        float fn = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
        float r = xc - fn * 0.693359375f;
        r = r + fn * 2.12194440e-4f;
        float p = 1.9875691500e-4f;
        p = p * r + 1.3981999507e-3f;
        p = p * r + 8.3334519073e-3f;
        p = p * r + 4.1665795894e-2f;
        p = p * r + 1.6666665459e-1f;
        p = p * r + 5.0000001201e-1f;
        p = p * r * r + r + 1.0f;
        int32_t n = (int32_t)(fn == fn ? fn : 0.0f);
        int32_t n1 = n >> 1;
        s1.i = (n1 + 127) << 23;
        s2.i = (n - n1 + 127) << 23;
        float out = p * s1.f * s2.f;
        return x > 88.72283935546875f ? INFINITY : out;
    }

    static inline float ember_max_f32(const float* x, ptrdiff_t n) {
        float m = x[0];
        #pragma omp simd reduction(max:m)
        for (ptrdiff_t k = 1; k < n; k++) m = x[k] > m ? x[k] : m;
        return m;
    }

    static inline double ember_max_f64(const double* x, ptrdiff_t n) {
        double m = x[0];
        #pragma omp simd reduction(max:m)
        for (ptrdiff_t k = 1; k < n; k++) m = x[k] > m ? x[k] : m;
        return m;
    }

    /* y = exp(x - m). The sum is a separate pass: with a reduction in the same loop gcc
       keeps the exp scalar (and branchy). */
    static inline void ember_exp_sub_f32(const float* x, float* y, ptrdiff_t n, float m) {
        for (ptrdiff_t k = 0; k < n; k++) y[k] = ember_expf(x[k] - m);
    }

    static inline double ember_dot_f32(const float* a, const float* b, ptrdiff_t n) {
        double s = 0.0;
        #pragma omp simd reduction(+:s)
        for (ptrdiff_t k = 0; k < n; k++) s += (double)a[k] * (double)b[k];
        return s;
    }

    static inline double ember_dot_f64(const double* a, const double* b, ptrdiff_t n) {
        double s = 0.0;
        #pragma omp simd reduction(+:s)
        for (ptrdiff_t k = 0; k < n; k++) s += a[k] * b[k];
        return s;
    }

    /* gx = g - exp(y) * s: log_softmax's backward on one row */
    static inline void ember_lsm_bwd_f32(const float* g, const float* y, float* gx,
                                         ptrdiff_t n, float s) {
        #pragma omp simd
        for (ptrdiff_t k = 0; k < n; k++) gx[k] = g[k] - ember_expf(y[k]) * s;
    }

    /* one row of a column block: y = exp(x - m), s += y, column by column */
    static inline void ember_exp_cols_f32(const float* x, const float* m, float* y,
                                          double* s, ptrdiff_t n) {
        /* two loops: mixing the double accumulation into the exp loop keeps it scalar */
        for (ptrdiff_t c = 0; c < n; c++) y[c] = ember_expf(x[c] - m[c]);
        for (ptrdiff_t c = 0; c < n; c++) s[c] += y[c];
    }

    static inline void ember_lsm_bwd_cols_f32(const float* g, const float* y, float* gx,
                                              const float* s, ptrdiff_t n) {
        #pragma omp simd
        for (ptrdiff_t c = 0; c < n; c++) gx[c] = g[c] - ember_expf(y[c]) * s[c];
    }
    """
    float ember_expf(float x) nogil
    float ember_max_f32(const float* x, Py_ssize_t n) nogil
    double ember_max_f64(const double* x, Py_ssize_t n) nogil
    void ember_exp_sub_f32(const float* x, float* y, Py_ssize_t n, float m) nogil
    double ember_dot_f32(const float* a, const float* b, Py_ssize_t n) nogil
    double ember_dot_f64(const double* a, const double* b, Py_ssize_t n) nogil
    void ember_lsm_bwd_f32(const float* g, const float* y, float* gx, Py_ssize_t n,
                           float s) nogil
    void ember_exp_cols_f32(const float* x, const float* m, float* y, double* s,
                            Py_ssize_t n) nogil
    void ember_lsm_bwd_cols_f32(const float* g, const float* y, float* gx, const float* s,
                                Py_ssize_t n) nogil


cdef inline real _exp(real v) noexcept nogil:
    if real is float:
        return ember_expf(v)
    else:
        return exp(v)


# ---- rows --------------------------------------------------------------------------------

cdef void softmax_row(const real* x, real* y, Py_ssize_t D, bint take_log) noexcept nogil:
    # D >= 1. A row holding +inf (or only -inf) gives x - max = nan: all nan, as torch.
    cdef Py_ssize_t k
    cdef real m
    cdef double s
    cdef real c
    if real is float:
        m = ember_max_f32(x, D)
        ember_exp_sub_f32(x, y, D, m)
        s = row_sum(y, D)
    else:
        m = ember_max_f64(x, D)
        s = 0
        for k in range(D):
            y[k] = exp(x[k] - m)
            s += y[k]
    if take_log:
        c = <real>log(s)
        for k in range(D):
            y[k] = (x[k] - m) - c
    else:
        c = <real>(1.0 / s)
        for k in range(D):
            y[k] = y[k] * c


cdef void softmax_backward_row(const real* g, const real* y, real* gx, Py_ssize_t D,
                               bint take_log) noexcept nogil:
    # softmax: gx = y * (g - sum(g * y)); log_softmax: gx = g - exp(y) * sum(g)
    cdef Py_ssize_t k
    cdef real s
    if take_log:
        s = <real>row_sum(g, D)
        if real is float:
            ember_lsm_bwd_f32(g, y, gx, D, s)
        else:
            for k in range(D):
                gx[k] = g[k] - exp(y[k]) * s
    else:
        if real is float:
            s = <real>ember_dot_f32(g, y, D)
        else:
            s = ember_dot_f64(g, y, D)
        for k in range(D):
            gx[k] = y[k] * (g[k] - s)


# ---- column blocks (dim not innermost) ---------------------------------------------------

cdef void softmax_cols(const real* x, real* y, Py_ssize_t D, Py_ssize_t inner,
                       Py_ssize_t n, bint take_log) noexcept nogil:
    # x and y point at the block's first column in row 0; rows are `inner` apart; n columns
    cdef real m[SOFTMAX_COLS]
    cdef double s[SOFTMAX_COLS]
    cdef real c[SOFTMAX_COLS]
    cdef Py_ssize_t d, j
    cdef const real* xr
    cdef real* yr
    for j in range(n):
        m[j] = x[j]
        s[j] = 0
    for d in range(1, D):
        xr = x + d * inner
        for j in range(n):
            if xr[j] > m[j]:
                m[j] = xr[j]
    for d in range(D):
        xr = x + d * inner
        yr = y + d * inner
        if real is float:
            ember_exp_cols_f32(xr, m, yr, s, n)
        else:
            for j in range(n):
                yr[j] = exp(xr[j] - m[j])
                s[j] += yr[j]
    for j in range(n):
        c[j] = <real>log(s[j]) if take_log else <real>(1.0 / s[j])
    for d in range(D):
        xr = x + d * inner
        yr = y + d * inner
        if take_log:
            for j in range(n):
                yr[j] = (xr[j] - m[j]) - c[j]
        else:
            for j in range(n):
                yr[j] = yr[j] * c[j]


cdef void softmax_backward_cols(const real* g, const real* y, real* gx, Py_ssize_t D,
                                Py_ssize_t inner, Py_ssize_t n, bint take_log) noexcept nogil:
    cdef double s[SOFTMAX_COLS]
    cdef real c[SOFTMAX_COLS]
    cdef Py_ssize_t d, j, off
    for j in range(n):
        s[j] = 0
    for d in range(D):
        off = d * inner
        if take_log:
            for j in range(n):
                s[j] += g[off + j]
        else:
            for j in range(n):
                s[j] += <double>g[off + j] * y[off + j]
    for j in range(n):
        c[j] = <real>s[j]
    for d in range(D):
        off = d * inner
        if take_log:
            if real is float:
                ember_lsm_bwd_cols_f32(g + off, y + off, gx + off, c, n)
            else:
                for j in range(n):
                    gx[off + j] = g[off + j] - exp(y[off + j]) * c[j]
        else:
            for j in range(n):
                gx[off + j] = y[off + j] * (g[off + j] - c[j])


# ---- drivers -----------------------------------------------------------------------------

cdef int _threads(Py_ssize_t tasks, Py_ssize_t work) noexcept nogil:
    if work < PARALLEL_MIN_WORK or tasks < 2:
        return 1
    return omp_get_max_threads()


cdef void _forward(const real* x, real* y, Py_ssize_t outer, Py_ssize_t D,
                   Py_ssize_t inner, bint take_log) noexcept nogil:
    cdef Py_ssize_t nb, t, o, j0, n
    cdef int nt
    if inner == 1:
        nt = _threads(outer, outer * D)
        for t in prange(outer, nogil=True, schedule="static", num_threads=nt):
            softmax_row(x + t * D, y + t * D, D, take_log)
        return
    nb = (inner + SOFTMAX_COLS - 1) // SOFTMAX_COLS
    nt = _threads(outer * nb, outer * D * inner)
    for t in prange(outer * nb, nogil=True, schedule="static", num_threads=nt):
        o = t // nb
        j0 = (t % nb) * SOFTMAX_COLS
        n = inner - j0 if inner - j0 < SOFTMAX_COLS else SOFTMAX_COLS
        softmax_cols(x + o * D * inner + j0, y + o * D * inner + j0, D, inner, n, take_log)


cdef void _backward(const real* g, const real* y, real* gx, Py_ssize_t outer, Py_ssize_t D,
                    Py_ssize_t inner, bint take_log) noexcept nogil:
    cdef Py_ssize_t nb, t, o, j0, n, base
    cdef int nt
    if inner == 1:
        nt = _threads(outer, outer * D)
        for t in prange(outer, nogil=True, schedule="static", num_threads=nt):
            softmax_backward_row(g + t * D, y + t * D, gx + t * D, D, take_log)
        return
    nb = (inner + SOFTMAX_COLS - 1) // SOFTMAX_COLS
    nt = _threads(outer * nb, outer * D * inner)
    for t in prange(outer * nb, nogil=True, schedule="static", num_threads=nt):
        o = t // nb
        j0 = (t % nb) * SOFTMAX_COLS
        n = inner - j0 if inner - j0 < SOFTMAX_COLS else SOFTMAX_COLS
        base = o * D * inner + j0
        softmax_backward_cols(g + base, y + base, gx + base, D, inner, n, take_log)


cdef _fw(real[:, :, ::1] x, real[:, :, ::1] y, bint take_log):
    with nogil:
        _forward(&x[0, 0, 0], &y[0, 0, 0], x.shape[0], x.shape[1], x.shape[2], take_log)


cdef _bw(real[:, :, ::1] g, real[:, :, ::1] y, real[:, :, ::1] gx, bint take_log):
    with nogil:
        _backward(&g[0, 0, 0], &y[0, 0, 0], &gx[0, 0, 0], g.shape[0], g.shape[1], g.shape[2],
                  take_log)


# ---- checked entry points ----------------------------------------------------------------

def _check(*arrays):
    first = arrays[0]
    for a in arrays:
        if not isinstance(a, np.ndarray) or a.ndim != 3 or a.shape != first.shape:
            raise RuntimeError("softmax: arrays must be (outer, D, inner) of one shape")
        if a.dtype != first.dtype or not a.flags.c_contiguous:
            raise RuntimeError("softmax: arrays must be contiguous and share a dtype")
    if first.dtype not in (np.float32, np.float64):
        raise RuntimeError("softmax: float32/float64 only")
    return first.size == 0


def softmax_forward(x, y, bint take_log=False):
    """``y`` = softmax (or log_softmax) of ``x`` over axis 1; both ``(outer, D, inner)``."""
    if _check(x, y):
        return
    if x.dtype == np.float32:
        _fw[float](x, y, take_log)
    else:
        _fw[double](x, y, take_log)


def softmax_backward(g, y, gx, bint take_log=False):
    """``gx`` = gradient through softmax (or log_softmax) whose output was ``y``, axis 1."""
    if _check(g, y, gx):
        return
    if g.dtype == np.float32:
        _bw[float](g, y, gx, take_log)
    else:
        _bw[double](g, y, gx, take_log)

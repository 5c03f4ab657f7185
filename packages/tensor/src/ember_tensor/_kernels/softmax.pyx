"""Softmax and log-softmax kernels over contiguous ``(outer, D, inner)`` arrays.

Rows (``inner == 1``) are one task each; otherwise a task is a block of up to SOFTMAX_COLS
columns of one outer slice. Sums accumulate in double. float32 uses an inlined exp that the
compiler can vectorise (libm's expf is a call per element); float64 keeps libm's exp.
"""
cimport numpy as cnp
from cython.parallel cimport prange
from libc.math cimport exp, log

from .parallel cimport threads_for
from .reduce cimport TASK_WORK, row_sum
from .simd cimport (dot, ember_exp_cols_f32, ember_exp_sub_f32, ember_lsm_bwd_cols_f32,
                    ember_lsm_bwd_f32, row_max)
from .types cimport real

import numpy as np

cnp.import_array()

cdef enum:
    # Element reads and writes per element of x (row max, exp in and out, sum, scale in and
    # out; the backward is alike): the work threads_for weighs. Counting one per element kept
    # 64x1000 (64000 elements, ~25 us) on one thread while torch split it.
    SOFTMAX_TOUCHES = 6
    # Elements per dynamically scheduled chunk of rows (or column blocks). A 2-thread timing
    # choice: the lead A/Bs 16384 (reduce's TASK_WORK, the old value) against 4096.
    SOFTMAX_CHUNK = TASK_WORK

# ---- rows --------------------------------------------------------------------------------

cdef void softmax_row(const real* x, real* y, Py_ssize_t D, bint take_log) noexcept nogil:
    # D >= 1. A row holding +inf (or only -inf) gives x - max = nan: all nan, as torch.
    cdef Py_ssize_t k
    cdef real m
    cdef double s
    cdef real c
    m = row_max(x, D)
    if real is float:
        ember_exp_sub_f32(x, y, D, m)
        s = row_sum(y, D)
    else:
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
        s = <real>dot(g, y, D)
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

cdef void _run(const real* a, const real* y, real* out, Py_ssize_t outer, Py_ssize_t D,
               Py_ssize_t inner, bint take_log) noexcept nogil:
    # forward when y is NULL (a = x, out = y), else backward (a = g, out = gx)
    # Dynamic chunks of ~TASK_WORK elements, not a static split: the idle OpenMP thread sleeps
    # (OMP_WAIT_POLICY=PASSIVE) and starts late, and a static half would hold the caller's
    # thread at the barrier. Each task writes only its own rows, so results do not change.
    cdef Py_ssize_t nb, t, j0, n, base
    cdef Py_ssize_t chunk = SOFTMAX_CHUNK // D + 1
    cdef int nt
    if inner == 1:
        nt = threads_for(outer * D * SOFTMAX_TOUCHES, outer)
        for t in prange(outer, nogil=True, schedule="dynamic", chunksize=chunk, num_threads=nt):
            if y == NULL:
                softmax_row(a + t * D, out + t * D, D, take_log)
            else:
                softmax_backward_row(a + t * D, y + t * D, out + t * D, D, take_log)
        return
    nb = (inner + SOFTMAX_COLS - 1) // SOFTMAX_COLS
    nt = threads_for(outer * D * inner * SOFTMAX_TOUCHES, outer * nb)
    chunk = SOFTMAX_CHUNK // (D * (inner if inner < SOFTMAX_COLS else SOFTMAX_COLS)) + 1
    for t in prange(outer * nb, nogil=True, schedule="dynamic", chunksize=chunk,
                    num_threads=nt):
        j0 = (t % nb) * SOFTMAX_COLS
        n = inner - j0 if inner - j0 < SOFTMAX_COLS else SOFTMAX_COLS
        base = (t // nb) * D * inner + j0
        if y == NULL:
            softmax_cols(a + base, out + base, D, inner, n, take_log)
        else:
            softmax_backward_cols(a + base, y + base, out + base, D, inner, n, take_log)


# ---- checked entry points ----------------------------------------------------------------
# Checked through NumPy's C API and run on raw pointers: typed memoryviews and Python-level
# dtype/flags reads cost more than the kernel itself on a row of a thousand floats.

cdef bint _check(tuple arrays, int n_out) except -1:
    """Raise unless every array is a C-contiguous (outer, D, inner) float32/float64 ndarray of
    one shape and dtype and the last ``n_out`` (the outputs) are writable; True if empty."""
    cdef cnp.ndarray a, first
    cdef int k, d, typ
    for k in range(len(arrays)):
        if not isinstance(arrays[k], np.ndarray):
            raise RuntimeError("softmax: arrays must be (outer, D, inner) of one shape")
        a = arrays[k]
        if k == 0:
            first = a
        if cnp.PyArray_NDIM(a) != 3:
            raise RuntimeError("softmax: arrays must be (outer, D, inner) of one shape")
        for d in range(3):
            if cnp.PyArray_DIMS(a)[d] != cnp.PyArray_DIMS(first)[d]:
                raise RuntimeError("softmax: arrays must be (outer, D, inner) of one shape")
        if (cnp.PyArray_TYPE(a) != cnp.PyArray_TYPE(first)
                or not cnp.PyArray_IS_C_CONTIGUOUS(a)):
            raise RuntimeError("softmax: arrays must be contiguous and share a dtype")
        if k >= len(arrays) - n_out and not cnp.PyArray_ISWRITEABLE(a):
            raise RuntimeError("softmax: output array is read-only")
    typ = cnp.PyArray_TYPE(first)
    if typ != cnp.NPY_FLOAT32 and typ != cnp.NPY_FLOAT64:
        raise RuntimeError("softmax: float32/float64 only")
    return cnp.PyArray_SIZE(first) == 0


cdef inline void* _data(object a) noexcept:
    return cnp.PyArray_DATA(<cnp.ndarray>a)


def softmax_forward(x, y, bint take_log=False):
    """``y`` = softmax (or log_softmax) of ``x`` over axis 1; both ``(outer, D, inner)``."""
    if _check((x, y), 1):
        return
    cdef cnp.npy_intp* dims = cnp.PyArray_DIMS(<cnp.ndarray>x)
    cdef void* xp = _data(x)
    cdef void* yp = _data(y)
    if cnp.PyArray_TYPE(<cnp.ndarray>x) == cnp.NPY_FLOAT32:
        with nogil:
            _run(<const float*>xp, <const float*>NULL, <float*>yp, dims[0], dims[1], dims[2],
                 take_log)
    else:
        with nogil:
            _run(<const double*>xp, <const double*>NULL, <double*>yp, dims[0], dims[1],
                 dims[2], take_log)


def softmax_backward(g, y, gx, bint take_log=False):
    """``gx`` = gradient through softmax (or log_softmax) whose output was ``y``, axis 1."""
    if _check((g, y, gx), 1):
        return
    cdef cnp.npy_intp* dims = cnp.PyArray_DIMS(<cnp.ndarray>g)
    cdef void* gp = _data(g)
    cdef void* yp = _data(y)
    cdef void* gxp = _data(gx)
    if cnp.PyArray_TYPE(<cnp.ndarray>g) == cnp.NPY_FLOAT32:
        with nogil:
            _run(<const float*>gp, <const float*>yp, <float*>gxp, dims[0], dims[1], dims[2],
                 take_log)
    else:
        with nogil:
            _run(<const double*>gp, <const double*>yp, <double*>gxp, dims[0], dims[1],
                 dims[2], take_log)


# ---- the usual forward call, in one C call ------------------------------------------------
# At 64x1000 the kernel is ~15 us on two threads and nn.softmax's Python around it (_prep,
# _blocks' kernel_array and reshape, np.empty, the checked entry's tuple of arrays) ~3 us.

def forward_plain(x, Py_ssize_t dim, bint take_log=False):
    """Softmax (or log_softmax) of ``x`` over ``dim`` (already in ``[0, x.ndim)``) as a new
    array of ``x``'s shape, by the same loops as ``softmax_forward`` on its (outer, D, inner)
    blocks; None unless ``x`` is a non-empty C-contiguous, aligned, native float32/float64
    ndarray of at least one dim (the caller then takes the general form)."""
    cdef cnp.ndarray a, y
    cdef int typ, nd, d
    cdef Py_ssize_t outer = 1, D, inner = 1
    if type(x) is not np.ndarray:
        return None
    a = <cnp.ndarray>x
    typ = cnp.PyArray_TYPE(a)
    if ((typ != cnp.NPY_FLOAT32 and typ != cnp.NPY_FLOAT64) or not cnp.PyArray_ISCARRAY_RO(a)
            or not cnp.PyArray_ISNOTSWAPPED(a)):
        return None
    nd = cnp.PyArray_NDIM(a)
    if nd == 0 or dim < 0 or dim >= nd or cnp.PyArray_SIZE(a) == 0:
        return None
    cdef cnp.npy_intp* dims = cnp.PyArray_DIMS(a)
    for d in range(dim):
        outer *= dims[d]
    D = dims[dim]
    for d in range(dim + 1, nd):
        inner *= dims[d]
    y = cnp.PyArray_EMPTY(nd, dims, typ, 0)
    cdef void* xp = cnp.PyArray_DATA(a)
    cdef void* yp = cnp.PyArray_DATA(y)
    if typ == cnp.NPY_FLOAT32:
        with nogil:
            _run(<const float*>xp, <const float*>NULL, <float*>yp, outer, D, inner, take_log)
    else:
        with nogil:
            _run(<const double*>xp, <const double*>NULL, <double*>yp, outer, D, inner,
                 take_log)
    return y

"""im2col / col2im for NCHW convolutions.

Layout of ``cols`` for a chunk of ``nb`` images: shape ``(C*kh*kw, nb*OH*OW)``; row
``(c*kh + i)*kw + j`` holds input channel ``c`` seen through kernel tap ``(i, j)``, column
``b*OH*OW + oh*OW + ow`` is output pixel ``(oh, ow)`` of image ``b``. With this layout the
forward is ``weight2d @ cols`` and the chunk's columns of all images share one GEMM.
"""
from cython.parallel cimport prange

from .parallel cimport omp_get_max_threads
from .types cimport real

import numpy as np

# Below this many elements of work a parallel region costs more than it saves.
cdef enum:
    PARALLEL_MIN_WORK = 32768


cdef inline Py_ssize_t _ceil_div(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    # b > 0; a may be negative
    if a <= 0:
        return -((-a) // b)
    return (a + b - 1) // b


cdef inline void _valid_range(Py_ssize_t OW, Py_ssize_t W, Py_ssize_t j, Py_ssize_t sw,
                              Py_ssize_t pw, Py_ssize_t dw,
                              Py_ssize_t* lo, Py_ssize_t* hi) noexcept nogil:
    # output columns ow with 0 <= ow*sw - pw + j*dw < W form one interval [lo, hi)
    cdef Py_ssize_t off = j * dw - pw
    cdef Py_ssize_t a = _ceil_div(-off, sw)
    cdef Py_ssize_t b = (W - 1 - off)
    if b < 0:
        b = -1
    else:
        b = b // sw
    if a < 0:
        a = 0
    b += 1
    if b > OW:
        b = OW
    if b < a:
        b = a
    lo[0] = a
    hi[0] = b


cdef void im2col_plane(const real* plane, real* row, Py_ssize_t H, Py_ssize_t W,
                       Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t i, Py_ssize_t j,
                       Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw,
                       Py_ssize_t dh, Py_ssize_t dw) noexcept nogil:
    cdef Py_ssize_t oh, ow, ih, lo, hi, iw0
    cdef const real* src
    cdef real* dst
    _valid_range(OW, W, j, sw, pw, dw, &lo, &hi)
    iw0 = j * dw - pw
    # plain loops, not memset/memcpy: late ResNet layers have rows of 7 or 14 floats, where
    # a library call per row costs more than the copy
    for oh in range(OH):
        dst = row + oh * OW
        ih = oh * sh - ph + i * dh
        if ih < 0 or ih >= H or lo >= hi:
            for ow in range(OW):
                dst[ow] = 0
            continue
        src = plane + ih * W + iw0
        for ow in range(lo):
            dst[ow] = 0
        if sw == 1:
            for ow in range(lo, hi):
                dst[ow] = src[ow]
        else:
            for ow in range(lo, hi):
                dst[ow] = src[ow * sw]
        for ow in range(hi, OW):
            dst[ow] = 0


cdef void col2im_plane(const real* row, real* plane, Py_ssize_t H, Py_ssize_t W,
                       Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t i, Py_ssize_t j,
                       Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw,
                       Py_ssize_t dh, Py_ssize_t dw) noexcept nogil:
    cdef Py_ssize_t oh, ow, ih, lo, hi, iw0
    cdef const real* src
    cdef real* dst
    _valid_range(OW, W, j, sw, pw, dw, &lo, &hi)
    if lo >= hi:
        return
    iw0 = j * dw - pw
    for oh in range(OH):
        ih = oh * sh - ph + i * dh
        if ih < 0 or ih >= H:
            continue
        src = row + oh * OW
        dst = plane + ih * W + iw0
        for ow in range(lo, hi):
            dst[ow * sw] += src[ow]


cdef void _im2col(const real* x, real* cols, Py_ssize_t nb, Py_ssize_t C, Py_ssize_t H,
                  Py_ssize_t W, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw,
                  Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw,
                  Py_ssize_t OH, Py_ssize_t OW, int nthreads) noexcept nogil:
    cdef Py_ssize_t rows = C * kh * kw
    cdef Py_ssize_t P = OH * OW
    cdef Py_ssize_t ncols = nb * P
    cdef Py_ssize_t task, r, b, c, i, j
    # one task per (row, image): each writes a disjoint stretch of cols
    for task in prange(rows * nb, nogil=True, schedule="static", num_threads=nthreads):
        r = task // nb
        b = task - r * nb
        c = r // (kh * kw)
        i = (r // kw) % kh
        j = r % kw
        im2col_plane(x + (b * C + c) * H * W, cols + r * ncols + b * P,
                     H, W, OH, OW, i, j, sh, sw, ph, pw, dh, dw)


cdef void _col2im(const real* cols, real* gx, Py_ssize_t nb, Py_ssize_t C, Py_ssize_t H,
                  Py_ssize_t W, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw,
                  Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw,
                  Py_ssize_t OH, Py_ssize_t OW, int nthreads) noexcept nogil:
    cdef Py_ssize_t P = OH * OW
    cdef Py_ssize_t ncols = nb * P
    cdef Py_ssize_t task, b, c, i, j, r
    # one task per input plane: the taps of a plane all land in that plane only
    for task in prange(nb * C, nogil=True, schedule="static", num_threads=nthreads):
        b = task // C
        c = task - b * C
        for i in range(kh):
            for j in range(kw):
                r = (c * kh + i) * kw + j
                col2im_plane(cols + r * ncols + b * P, gx + task * H * W,
                             H, W, OH, OW, i, j, sh, sw, ph, pw, dh, dw)


cdef int _threads(Py_ssize_t work) noexcept nogil:
    if work < PARALLEL_MIN_WORK:
        return 1
    return omp_get_max_threads()


def _check(x, cols, geometry):
    kh, kw, sh, sw, ph, pw, dh, dw, OH, OW = geometry
    if x.ndim != 4 or cols.ndim != 2:
        raise RuntimeError("im2col: expected a 4-D input and a 2-D column buffer")
    if x.dtype != cols.dtype or x.dtype not in (np.float32, np.float64):
        raise RuntimeError("im2col: input and columns must share a float32/float64 dtype")
    if not (x.flags.c_contiguous and cols.flags.c_contiguous):
        raise RuntimeError("im2col: input and columns must be contiguous")
    if min(kh, kw, sh, sw, dh, dw) <= 0 or min(ph, pw, OH, OW) < 0:
        raise RuntimeError("im2col: invalid convolution geometry")
    nb, C, H, W = x.shape
    # every output pixel must come from a padded window that fits (so no tap reads beyond
    # the padded plane; taps that land in padding are zero-filled, not read)
    if OH and (OH - 1) * sh + (kh - 1) * dh + 1 > H + 2 * ph:
        raise RuntimeError("im2col: output height does not fit the padded input")
    if OW and (OW - 1) * sw + (kw - 1) * dw + 1 > W + 2 * pw:
        raise RuntimeError("im2col: output width does not fit the padded input")
    if cols.shape[0] != C * kh * kw or cols.shape[1] != nb * OH * OW:
        raise RuntimeError(
            f"im2col: column buffer of shape {tuple(cols.shape)} does not match "
            f"({C * kh * kw}, {nb * OH * OW})"
        )
    return nb, C, H, W


def im2col(x, cols, geometry):
    """Fill ``cols`` (``(C*kh*kw, nb*OH*OW)``) from ``x`` (``(nb, C, H, W)``, contiguous).

    ``geometry`` is ``(kh, kw, sh, sw, ph, pw, dh, dw, OH, OW)``.
    """
    nb, C, H, W = _check(x, cols, geometry)
    kh, kw, sh, sw, ph, pw, dh, dw, OH, OW = geometry
    if x.dtype == np.float32:
        _run_im2col[float](x, cols, nb, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW)
    else:
        _run_im2col[double](x, cols, nb, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW)


def col2im(cols, x, geometry):
    """Accumulate ``cols`` back into ``x`` (``(nb, C, H, W)``; not zeroed here)."""
    nb, C, H, W = _check(x, cols, geometry)
    kh, kw, sh, sw, ph, pw, dh, dw, OH, OW = geometry
    if x.dtype == np.float32:
        _run_col2im[float](cols, x, nb, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW)
    else:
        _run_col2im[double](cols, x, nb, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW)


cdef _run_im2col(real[:, :, :, ::1] x, real[:, ::1] cols, Py_ssize_t nb, Py_ssize_t C,
                 Py_ssize_t H, Py_ssize_t W, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh,
                 Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw,
                 Py_ssize_t OH, Py_ssize_t OW):
    if cols.shape[0] == 0 or cols.shape[1] == 0:
        return
    cdef int nt = _threads(cols.shape[0] * cols.shape[1])
    with nogil:
        _im2col(&x[0, 0, 0, 0], &cols[0, 0], nb, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw,
                OH, OW, nt)


cdef _run_col2im(real[:, ::1] cols, real[:, :, :, ::1] x, Py_ssize_t nb, Py_ssize_t C,
                 Py_ssize_t H, Py_ssize_t W, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh,
                 Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw,
                 Py_ssize_t OH, Py_ssize_t OW):
    if cols.shape[0] == 0 or cols.shape[1] == 0 or x.shape[0] * x.shape[1] == 0:
        return
    cdef int nt = _threads(cols.shape[0] * cols.shape[1])
    with nogil:
        _col2im(&cols[0, 0], &x[0, 0, 0, 0], nb, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw,
                OH, OW, nt)

"""im2col / col2im for NCHW convolutions.

Layout of ``cols`` for a chunk of ``nb`` images: shape ``(C*kh*kw, nb*OH*OW)``; row
``(c*kh + i)*kw + j`` holds input channel ``c`` seen through kernel tap ``(i, j)``, column
``b*OH*OW + oh*OW + ow`` is output pixel ``(oh, ow)`` of image ``b``. With this layout the
forward is ``weight2d @ cols`` and the chunk's columns of all images share one GEMM.

``im2col`` can also gather a band of output rows ``[oh0, oh1)`` only (``OH`` above becomes
``oh1 - oh0``): two threads then split one image's convolution by output rows, each
gathering and multiplying its own band.
"""
from cython.parallel cimport prange

from .parallel cimport threads_for
from libc.stdlib cimport free, malloc

from .types cimport for_dtype, real

import numpy as np


cdef extern from "im2col_s2.h" nogil:
    # float32 stride-2 rows with AVX-512 masks (the scalar loops elsewhere); same bits
    void i2c_gather_s2(const float* src, float* out, Py_ssize_t n)
    void i2c_scatter_add_s2(const float* src, float* dst, Py_ssize_t n)


cdef enum:
    # offset-table path for small output planes: the table (taps x pixels) stays in L1 and
    # is shared by every (channel, image) plane of the call
    TABLE_MAX_ENTRIES = 2048
    TABLE_MAX_OW = 8
    TABLE_MIN_PLANES = 4
    # zero-bordered scratch path for padded stride-1 kernels over small planes
    PADS_MIN_OW = 8
    PADS_MAX_OW = 32
    PADS_MAX_PLANE = 1024


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


cdef inline void _copy_row(const real* src, real* dst, Py_ssize_t lo, Py_ssize_t hi,
                           Py_ssize_t OW, Py_ssize_t sw) noexcept nogil:
    # dst[ow] = src[ow * sw] for ow in [lo, hi), 0 elsewhere (the taps in the padding). Plain
    # loops, not memset/memcpy: late ResNet rows are 7 or 14 floats long, where a library
    # call costs more than the copy
    cdef Py_ssize_t ow
    for ow in range(lo):
        dst[ow] = 0
    if sw == 1:
        for ow in range(lo, hi):
            dst[ow] = src[ow]
    elif sw == 2:
        # the stride-2 convs (ResNet's stem and downsampling 3x3s) get a constant stride; a
        # stride known only at run time stays a scalar loop (3x3 stride 2 on 64x56x56: 7.6
        # instructions a float). Their rows of 7-28 outputs are too short for the
        # vectoriser's body, so float32 goes by masked loads and a permute (im2col_s2.h)
        if real is float:
            i2c_gather_s2(src + 2 * lo, dst + lo, hi - lo)
        else:
            for ow in range(lo, hi):
                dst[ow] = src[2 * ow]
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
        if real is float and sw == 2:
            # the scalar loop's stride-2 read-modify-write never vectorised; the same
            # additions by masks (im2col_s2.h): 4x128x28x28 -> 14x14 at one thread 0.60 ->
            # 0.34 ms, 4x64x56x56 1.18 -> 0.51
            i2c_scatter_add_s2(src + lo, dst + 2 * lo, hi - lo)
            continue
        for ow in range(lo, hi):
            dst[ow * sw] += src[ow]


cdef void _tap_ranges(Py_ssize_t* lo, Py_ssize_t* hi, Py_ssize_t k, Py_ssize_t O,
                      Py_ssize_t L, Py_ssize_t s, Py_ssize_t p, Py_ssize_t d) noexcept nogil:
    # the valid output interval of each kernel tap along one axis; it does not depend on the
    # channel or image, so it is computed once per call instead of once per row
    cdef Py_ssize_t t
    for t in range(k):
        _valid_range(O, L, t, s, p, d, &lo[t], &hi[t])


cdef void _gather_table(Py_ssize_t* table, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t H,
                        Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t sh,
                        Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t dh,
                        Py_ssize_t dw) noexcept nogil:
    # table[tap*P + p] = offset in the input plane read by output pixel p through that tap,
    # or -1 where the tap lands in padding
    cdef Py_ssize_t i, j, oh, ow, ih, iw
    cdef Py_ssize_t* t = table
    for i in range(kh):
        for j in range(kw):
            for oh in range(OH):
                ih = oh * sh - ph + i * dh
                for ow in range(OW):
                    iw = ow * sw - pw + j * dw
                    if ih < 0 or ih >= H or iw < 0 or iw >= W:
                        t[0] = -1
                    else:
                        t[0] = ih * W + iw
                    t += 1


cdef void _im2col_rows(const real* plane, real* dst, Py_ssize_t ncols, Py_ssize_t kh,
                       Py_ssize_t kw, Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW,
                       Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw,
                       Py_ssize_t dh, Py_ssize_t dw, const Py_ssize_t* rlo,
                       const Py_ssize_t* rhi, const Py_ssize_t* clo,
                       const Py_ssize_t* chi, Py_ssize_t oh0) noexcept nogil:
    # every tap of one (channel, image) plane for output rows [oh0, OH); dst is the first
    # tap's row, taps are ncols apart
    cdef Py_ssize_t i, j, oh, ow, lo, hi, ih
    cdef real* out
    cdef real* row
    for i in range(kh):
        for j in range(kw):
            row = dst + (i * kw + j) * ncols
            lo = clo[j]
            hi = chi[j]
            for oh in range(oh0, OH):
                out = row + (oh - oh0) * OW
                if oh < rlo[i] or oh >= rhi[i] or lo >= hi:
                    for ow in range(OW):
                        out[ow] = 0
                    continue
                ih = oh * sh - ph + i * dh
                _copy_row(plane + ih * W + j * dw - pw, out, lo, hi, OW, sw)


cdef void _im2col_padded(const real* plane, real* pad, real* dst, Py_ssize_t ncols,
                         Py_ssize_t H, Py_ssize_t W, Py_ssize_t kh, Py_ssize_t kw,
                         Py_ssize_t OW, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph,
                         Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw, Py_ssize_t oh0,
                         Py_ssize_t oh1) noexcept nogil:
    # small planes: copy the plane once into a zero-bordered scratch ``pad`` ((H + 2ph) x
    # (W + 2pw)), then every tap row is a plain (or stride-2) run of the scratch, with no
    # per-pixel padding test
    cdef Py_ssize_t Wp = W + 2 * pw
    cdef Py_ssize_t Hp = H + 2 * ph
    cdef Py_ssize_t r, c, i, j, oh
    cdef real* out
    cdef const real* src
    for r in range(Hp):
        if r < ph or r >= ph + H:
            for c in range(Wp):
                pad[r * Wp + c] = 0
            continue
        for c in range(pw):
            pad[r * Wp + c] = 0
        for c in range(W):
            pad[r * Wp + pw + c] = plane[(r - ph) * W + c]
        for c in range(pw + W, Wp):
            pad[r * Wp + c] = 0
    for i in range(kh):
        for j in range(kw):
            out = dst + (i * kw + j) * ncols
            for oh in range(oh0, oh1):
                src = pad + (oh * sh + i * dh) * Wp + j * dw
                _copy_row(src, out, 0, OW, OW, sw)
                out += OW


cdef void _im2col(const real* x, real* cols, Py_ssize_t nb, Py_ssize_t C, Py_ssize_t H,
                  Py_ssize_t W, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw,
                  Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw,
                  Py_ssize_t OH, Py_ssize_t OW, const Py_ssize_t* table,
                  const Py_ssize_t* ranges, real* pads, Py_ssize_t oh0, Py_ssize_t oh1,
                  int nthreads) noexcept nogil:
    # output rows [oh0, oh1) of every plane; the table (when given) covers all OH rows;
    # pads (when given) is a zero-bordered scratch plane for each (channel, image) plane
    cdef Py_ssize_t T = kh * kw
    cdef Py_ssize_t P = (oh1 - oh0) * OW
    cdef Py_ssize_t ncols = nb * P
    cdef Py_ssize_t HW = H * W
    cdef Py_ssize_t task, b, c, t, p, k
    cdef const real* plane
    cdef real* dst
    cdef real* out
    cdef const Py_ssize_t* idx
    # one task per (channel, image) plane: it writes its own stretch of each of its T rows;
    # channel-major order keeps consecutive tasks writing consecutive stretches of a row
    for task in prange(C * nb, nogil=True, schedule="static", num_threads=nthreads):
        c = task // nb
        b = task - c * nb
        plane = x + (b * C + c) * HW
        dst = cols + c * T * ncols + b * P
        if pads != NULL:
            _im2col_padded(plane, pads + task * (H + 2 * ph) * (W + 2 * pw), dst, ncols, H, W,
                           kh, kw, OW, sh, sw, ph, pw, dh, dw, oh0, oh1)
        elif table != NULL:
            # small output planes: rows are a handful of pixels, so walk a precomputed
            # offset table rather than paying range logic per row
            for t in range(T):
                idx = table + t * OH * OW + oh0 * OW
                out = dst + t * ncols
                for p in range(P):
                    k = idx[p]
                    out[p] = plane[k] if k >= 0 else 0
        else:
            _im2col_rows(plane, dst, ncols, kh, kw, W, oh1, OW, sh, sw, ph, pw, dh, dw,
                         ranges, ranges + kh, ranges + 2 * kh, ranges + 2 * kh + kw, oh0)


cdef void _col2im(const real* cols, real* gx, Py_ssize_t nb, Py_ssize_t C, Py_ssize_t H,
                  Py_ssize_t W, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw,
                  Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw,
                  Py_ssize_t OH, Py_ssize_t OW, const Py_ssize_t* table,
                  int nthreads) noexcept nogil:
    cdef Py_ssize_t T = kh * kw
    cdef Py_ssize_t P = OH * OW
    cdef Py_ssize_t ncols = nb * P
    cdef Py_ssize_t HW = H * W
    cdef Py_ssize_t task, b, c, i, j, t, p, k
    cdef const real* src
    cdef const real* row
    cdef real* plane
    cdef const Py_ssize_t* idx
    # one task per input plane: the taps of a plane all land in that plane only; taps and
    # pixels are summed in the same order on both paths, so results do not depend on it
    for task in prange(nb * C, nogil=True, schedule="static", num_threads=nthreads):
        b = task // C
        c = task - b * C
        plane = gx + task * HW
        src = cols + c * T * ncols + b * P
        if table != NULL:
            for t in range(T):
                idx = table + t * P
                row = src + t * ncols
                for p in range(P):
                    k = idx[p]
                    if k >= 0:
                        plane[k] += row[p]
        else:
            for i in range(kh):
                for j in range(kw):
                    col2im_plane(src + (i * kw + j) * ncols, plane, H, W, OH, OW, i, j,
                                 sh, sw, ph, pw, dh, dw)


def _check(x, cols, geometry, rows=None):
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
    oh0, oh1 = (0, OH) if rows is None else (int(rows[0]), int(rows[1]))
    if not 0 <= oh0 <= oh1 <= OH:
        raise RuntimeError(f"im2col: output rows [{oh0}, {oh1}) outside [0, {OH})")
    if cols.shape[0] != C * kh * kw or cols.shape[1] != nb * (oh1 - oh0) * OW:
        raise RuntimeError(
            f"im2col: column buffer of shape {tuple(cols.shape)} does not match "
            f"({C * kh * kw}, {nb * (oh1 - oh0) * OW})"
        )
    return nb, C, H, W, oh0, oh1


def im2col(x, cols, geometry, rows=None, padded=None):
    """Fill ``cols`` (``(C*kh*kw, nb*OH*OW)``) from ``x`` (``(nb, C, H, W)``, contiguous).

    ``geometry`` is ``(kh, kw, sh, sw, ph, pw, dh, dw, OH, OW)``. With ``rows = (oh0, oh1)``
    only those output rows are gathered, into ``(C*kh*kw, nb*(oh1 - oh0)*OW)``.
    ``padded`` forces (True) or forbids (False) the zero-bordered scratch path; None lets
    the size rule choose. Every path writes the same values; tests and timings compare them.
    """
    nb, C, H, W, oh0, oh1 = _check(x, cols, geometry, rows)
    use = -1 if padded is None else int(bool(padded))
    for_dtype(x.dtype, _IM2COL, "im2col")(x, cols, nb, C, H, W, *geometry, oh0, oh1, use)


def col2im(cols, x, geometry):
    """Accumulate ``cols`` back into ``x`` (``(nb, C, H, W)``; not zeroed here)."""
    nb, C, H, W, _, _ = _check(x, cols, geometry)
    for_dtype(x.dtype, _COL2IM, "col2im")(cols, x, nb, C, H, W, *geometry)


cdef bint _pads_pay(Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t H, Py_ssize_t W, Py_ssize_t OW,
                    Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw) noexcept:
    # a padded stride-1 kernel over a small plane with rows of 8-32 outputs: copying the
    # plane into a zero-bordered scratch is a fraction of the kh*kw taps' copies and turns
    # each tap row into a plain run, without the table's per-pixel padding test or the row
    # path's range logic. Measured at 1 thread against the other paths (alternating, load
    # ~5): 128x8x8 0.64x, 256x14x14 0.71x; stride 2 or rows of 4-7 outputs lose (1.15-1.8x)
    return ((ph > 0 or pw > 0) and kh * kw > 1 and sh == 1 and sw == 1
            and PADS_MIN_OW <= OW <= PADS_MAX_OW
            and (H + 2 * ph) * (W + 2 * pw) <= PADS_MAX_PLANE)


cdef Py_ssize_t* _small_plane_table(Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t H,
                                    Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW,
                                    Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph,
                                    Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw,
                                    Py_ssize_t planes) except? NULL:
    # NULL means "use the row loops": the plane is large enough that per-row range logic is
    # amortised, or there are too few planes to repay building the table
    cdef Py_ssize_t n = kh * kw * OH * OW
    if n > TABLE_MAX_ENTRIES or OW > TABLE_MAX_OW or planes < TABLE_MIN_PLANES:
        return NULL
    cdef Py_ssize_t* table = <Py_ssize_t*> malloc(n * sizeof(Py_ssize_t))
    if table == NULL:
        raise MemoryError()
    _gather_table(table, kh, kw, H, W, OH, OW, sh, sw, ph, pw, dh, dw)
    return table


cdef _run_im2col(real[:, :, :, ::1] x, real[:, ::1] cols, Py_ssize_t nb, Py_ssize_t C,
                 Py_ssize_t H, Py_ssize_t W, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh,
                 Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw,
                 Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t oh0, Py_ssize_t oh1, int padded):
    if cols.shape[0] == 0 or cols.shape[1] == 0:
        return
    # cols is written once; the input is read through it
    cdef int nt = threads_for(2 * cols.shape[0] * cols.shape[1], nb * C)
    cdef Py_ssize_t* table = NULL
    cdef Py_ssize_t* ranges = NULL
    cdef real* pads = NULL
    if padded == 1 or (padded == -1 and _pads_pay(kh, kw, H, W, OW, sh, sw, ph, pw)):
        pads = <real*> malloc(nb * C * (H + 2 * ph) * (W + 2 * pw) * sizeof(real))
        if pads == NULL:
            raise MemoryError()
    else:
        table = _small_plane_table(kh, kw, H, W, OH, OW, sh, sw, ph, pw, dh, dw, nb * C)
    if pads == NULL and table == NULL:
        ranges = <Py_ssize_t*> malloc(2 * (kh + kw) * sizeof(Py_ssize_t))
        if ranges == NULL:
            raise MemoryError()
        _tap_ranges(ranges, ranges + kh, kh, OH, H, sh, ph, dh)
        _tap_ranges(ranges + 2 * kh, ranges + 2 * kh + kw, kw, OW, W, sw, pw, dw)
    with nogil:
        _im2col(&x[0, 0, 0, 0], &cols[0, 0], nb, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw,
                OH, OW, table, ranges, pads, oh0, oh1, nt)
    free(table)
    free(ranges)
    free(pads)


cdef _run_col2im(real[:, ::1] cols, real[:, :, :, ::1] x, Py_ssize_t nb, Py_ssize_t C,
                 Py_ssize_t H, Py_ssize_t W, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh,
                 Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw,
                 Py_ssize_t OH, Py_ssize_t OW):
    if cols.shape[0] == 0 or cols.shape[1] == 0 or x.shape[0] * x.shape[1] == 0:
        return
    cdef int nt = threads_for(2 * cols.shape[0] * cols.shape[1], nb * C)
    cdef Py_ssize_t* table = _small_plane_table(kh, kw, H, W, OH, OW, sh, sw, ph, pw, dh,
                                                dw, nb * C)
    with nogil:
        _col2im(&cols[0, 0], &x[0, 0, 0, 0], nb, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw,
                OH, OW, table, nt)
    free(table)


_IM2COL = (_run_im2col[float], _run_im2col[double])
_COL2IM = (_run_col2im[float], _run_col2im[double])

"""Depthwise 2-D convolution (groups == input channels) as direct loops, and its backwards.

im2col + GEMM is the wrong shape here: each group is a GEMM of one row by kh*kw columns,
so the work is all im2col copying and per-group call overhead. Instead each output plane is
a sum over the kh*kw taps of shifted, scaled input.

Every pass first copies the input plane into a per-thread scratch plane laid out as
zero-bordered column phases (``_phases``: input column ``v*sw + q`` of the padded plane is
column ``v`` of phase ``q``), so that any tap, whatever the stride and dilation, reads an
unstrided run of one phase with no bounds test (``_tap_offsets``: where each tap starts).
Over it:
- forward: the stride-1, undilated 3x3 and 5x5 kernels (MobileNet's, EfficientNet's) run
  ``depthwise.h``'s ``dw_rows`` (3x3: DW_ROWS_NR output rows across the whole width) and
  ``dw_roll`` (5x5: one register of columns down a band of ROLL_BAND_ROWS rows), the taps
  compile-time constants, weights in registers, one register of columns at a time. Other
  geometries: ROWS output rows by COLS output columns at a time through its generic vector
  block (a partial last block goes through a small buffer). Either way one running sum per
  output, taps in row-major order. The stride-1 3x3/5x5 kernels fill a plane past L1 a row
  block (or band) ahead of the sums (FILL_AHEAD_BYTES): the copy's reads from memory then
  overlap the arithmetic, and the rows are still in L1 when the sums read them;
- grad-input, stride 1: the same gather over the output gradient, kernel flipped and padding
  ``(k - 1) * d - p``; other strides: the forward's adjoint, each tap's gradient row added
  into the phases where the forward read it, then the phases copied back;
- grad-weight: each tap a dot product of the output gradient with its run, up to
  ``DW_DOT_TAPS`` taps per sweep in vector registers (``depthwise.h``).

Output channel ``oc`` reads input channel ``oc // mult`` (``mult`` = out/in channels, the
depth multiplier). Planes run in parallel: forward over (image, output channel), grad-input
over (image, input channel), grad-weight over output channels (each sums its images), so no
two threads write the same memory. The Python side (``ember_tensor.nn.depthwise``) checks
arguments in torch's words; the ``def`` functions re-check what memory safety depends on.
"""
from cython.parallel cimport prange
from libc.string cimport memcpy

from .parallel cimport omp_get_thread_num, threads_for
from .types cimport for_dtype, real

import numpy as np

cdef extern from "depthwise.h" nogil:
    # the gather's register blocks of nr = ROWS output rows or 1, and the weight gradient's
    # sums of up to DW_DOT_TAPS taps at once (see depthwise.h)
    enum: DW_DOT_TAPS
    void dw_gather_float(const float* x, const float* w, float* o, float b, bint add, int nr,
                         Py_ssize_t ni, Py_ssize_t kw, Py_ssize_t xrow, Py_ssize_t xtap,
                         const Py_ssize_t* joff, Py_ssize_t orow)
    void dw_gather_double(const double* x, const double* w, double* o, double b, bint add,
                          int nr, Py_ssize_t ni, Py_ssize_t kw, Py_ssize_t xrow,
                          Py_ssize_t xtap, const Py_ssize_t* joff, Py_ssize_t orow)
    void dw_dot_float(const float* g, const float* x, const Py_ssize_t* koff, float* s, int nt,
                      Py_ssize_t nr, Py_ssize_t n, Py_ssize_t grow, Py_ssize_t xrow)
    void dw_dot_double(const double* g, const double* x, const Py_ssize_t* koff, double* s,
                       int nt, Py_ssize_t nr, Py_ssize_t n, Py_ssize_t grow, Py_ssize_t xrow)
    # the stride-1, undilated 3x3 gather over nr <= DW_ROWS_NR rows, and the 5x5 one rolled
    # down nr rows (depthwise.h)
    enum: DW_ROWS_NR
    void dw_rows3x3_float(const float* x, const float* w, float* o, float b, bint add, int nr,
                          Py_ssize_t n, Py_ssize_t xrow, Py_ssize_t orow)
    void dw_rows3x3_double(const double* x, const double* w, double* o, double b, bint add,
                           int nr, Py_ssize_t n, Py_ssize_t xrow, Py_ssize_t orow)
    void dw_roll5x5_float(const float* x, const float* w, float* o, float b, bint add,
                          Py_ssize_t nr, Py_ssize_t n, Py_ssize_t xrow, Py_ssize_t orow)
    void dw_roll5x5_double(const double* x, const double* w, double* o, double b, bint add,
                           Py_ssize_t nr, Py_ssize_t n, Py_ssize_t xrow, Py_ssize_t orow)

cdef enum:
    # The stride-1 3x3/5x5 forward fills a scratch plane larger than this a row block ahead
    # of its sums, a smaller one (and every other geometry's) all before them. At 1 thread,
    # ahead was ~10% faster for 112x112 planes (52 KB, past L1) and ~5% slower for 28x28
    # (5 KB); the stride-2 phase copy was 10-20% slower ahead. A/B at 2 threads: 0 (always
    # ahead), 32768, and a huge value (never)
    FILL_AHEAD_BYTES = 32768


cdef enum:
    # The 5x5 kernel rolls down bands of this many output rows (depthwise.h's dw_roll), one
    # column block at a time: a band's input rows (4 more) must stay in L1 from one column
    # block to the next, and each band costs 4 rows of guarded steps. 28x28 planes (the
    # 5x5 layers of EfficientNet-B0's 28x28 stage) are one band
    ROLL_BAND_ROWS = 32


cdef enum:
    # One register block: ROWS x COLS running sums (float32: four AVX-512 registers, eight
    # AVX2 ones). Four rows hide a tap's multiply-add latency even where a row is one vector
    # wide; COLS is depthwise.h's DW_COLS.
    ROWS = 4
    COLS = 16
    LANES = ROWS * COLS


cdef inline void _block(const real* x, const real* w, real* o, real b, bint add,
                        Py_ssize_t nrow, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t xrow,
                        Py_ssize_t xtap, const Py_ssize_t* joff, Py_ssize_t orow) noexcept nogil:
    # depthwise.h's block of this dtype
    if real is float:
        dw_gather_float(x, w, o, b, add, <int>nrow, kh, kw, xrow, xtap, joff, orow)
    else:
        dw_gather_double(x, w, o, b, add, <int>nrow, kh, kw, xrow, xtap, joff, orow)


cdef inline void _cols(Py_ssize_t off, Py_ssize_t s, Py_ssize_t n, Py_ssize_t on,
                       Py_ssize_t* lo, Py_ssize_t* hi) noexcept nogil:
    # outputs o in [lo, hi) read input o*s + off inside [0, n)
    cdef Py_ssize_t a = 0, b
    if off < 0:
        a = (-off + s - 1) // s
    b = (n - off + s - 1) // s if n > off else 0
    if b > on:
        b = on
    if a > b:
        a = b
    lo[0] = a
    hi[0] = b


cdef Py_ssize_t phase_plane_size(Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t kh, Py_ssize_t kw,
                                 Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t dh, Py_ssize_t dw,
                                 Py_ssize_t* Hp, Py_ssize_t* Wq) noexcept nogil:
    # the scratch plane _phases fills: sw column phases of Hp rows by Wq columns, every
    # row and column a block (COLS wide, so up to COLS - 1 columns past OW) touches
    Hp[0] = (OH - 1) * sh + (kh - 1) * dh + 1
    Wq[0] = (OW + COLS - 1) // COLS * COLS + (kw - 1) * dw // sw
    return sw * Hp[0] * Wq[0]


cdef inline void _zero(real* p, Py_ssize_t n) noexcept nogil:
    # plain loops, not memset: the runs are short
    cdef Py_ssize_t v
    for v in range(n):
        p[v] = 0


cdef inline void _phase_rows(real* plane, real* pad, Py_ssize_t H, Py_ssize_t W,
                             Py_ssize_t Hp, Py_ssize_t Wq, const Py_ssize_t sw, Py_ssize_t ph,
                             Py_ssize_t pw, bint into_pad, Py_ssize_t r0,
                             Py_ssize_t r1) noexcept nogil:
    # _phases's copy; inlined where sw is a constant, the strided access vectorises
    cdef Py_ssize_t q, r, v, a, b
    cdef real* prow
    cdef real* xrow
    for q in range(sw):
        _cols(q - pw, sw, W, Wq, &a, &b)
        for r in range(max(ph, r0), min(H + ph, Hp, r1)):
            prow = pad + (q * Hp + r) * Wq
            xrow = plane + (r - ph) * W + q - pw
            if into_pad and sw == 1:
                # a call, not the loop below: gcc's vector loop with its alias test and
                # scalar tail took 1/6 of a 28x28 5x5 forward
                memcpy(prow + a, xrow + a, (b - a) * sizeof(real))
            elif into_pad:
                for v in range(a, b):
                    prow[v] = xrow[v * sw]
            else:
                for v in range(a, b):
                    xrow[v * sw] = prow[v]


cdef void _phases(real* plane, real* pad, Py_ssize_t H, Py_ssize_t W, Py_ssize_t Hp,
                  Py_ssize_t Wq, Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw,
                  bint into_pad, Py_ssize_t r0, Py_ssize_t r1) noexcept nogil:
    # into_pad: pad[(q*Hp + r)*Wq + v] = plane[r - ph, v*sw + q - pw] where that is inside
    # the H x W plane (negative ph/pw crop): input column v*sw + q of the zero-bordered plane
    # is column v of phase q. Writes the plane's part only: pad's border must already be
    # zero (_scratch's planes are, and the loops reading them never write). Otherwise the
    # transpose, plane = pad's part (elements no phase holds are left alone). Only pad's
    # rows r0 <= r < r1 (of each phase)
    if sw == 1:
        _phase_rows(plane, pad, H, W, Hp, Wq, 1, ph, pw, into_pad, r0, r1)
    elif sw == 2:
        _phase_rows(plane, pad, H, W, Hp, Wq, 2, ph, pw, into_pad, r0, r1)
    else:
        _phase_rows(plane, pad, H, W, Hp, Wq, sw, ph, pw, into_pad, r0, r1)


def _tap_offsets(args, Py_ssize_t OH, Py_ssize_t OW):
    """Where tap (i, j) starts in the scratch plane, at [i*kw + j]: phase (j*dw) % sw, row
    i*dh, column (j*dw) // sw (row 0's kw entries are the gather's column offsets). A loop,
    not NumPy arithmetic: on small planes that would cost as much as the convolution."""
    cdef Py_ssize_t kh, kw, sh, sw, dh, dw, Hp, Wq, i, j
    kh, kw, sh, sw, _ph, _pw, dh, dw = args
    phase_plane_size(OH, OW, kh, kw, sh, sw, dh, dw, &Hp, &Wq)
    offsets = np.empty(kh * kw, np.intp)
    cdef Py_ssize_t[::1] koff = offsets
    for i in range(kh):
        for j in range(kw):
            koff[i * kw + j] = i * dh * Wq + (j * dw) % sw * Hp * Wq + (j * dw) // sw
    return offsets


cdef inline void _rows(const real* x, const real* w, real* o, real b, bint add,
                       Py_ssize_t nr, Py_ssize_t n, Py_ssize_t kh, Py_ssize_t xrow,
                       Py_ssize_t orow) noexcept nogil:
    # depthwise.h's stride-1 gather of this dtype and kernel: 3x3 rows, or 5x5 rolled
    if real is float:
        if kh == 3:
            dw_rows3x3_float(x, w, o, b, add, <int>nr, n, xrow, orow)
        else:
            dw_roll5x5_float(x, w, o, b, add, nr, n, xrow, orow)
    else:
        if kh == 3:
            dw_rows3x3_double(x, w, o, b, add, <int>nr, n, xrow, orow)
        else:
            dw_roll5x5_double(x, w, o, b, add, nr, n, xrow, orow)


cdef void dw_plane_gather(const real* x, const real* w, real* out, real bias, bint add,
                          real* pad, const Py_ssize_t* koff, Py_ssize_t H, Py_ssize_t W,
                          Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t kh, Py_ssize_t kw,
                          Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw,
                          Py_ssize_t dh, Py_ssize_t dw) noexcept nogil:
    # out (+= when add) = bias + the taps of w over x, x laid out in pad first, or (ahead, a
    # large plane) a row block ahead of the rows summed: the copy's reads from memory then
    # overlap the sums, and the rows are still in L1 when read back
    cdef Py_ssize_t Hp, Wq, oh, ow, nrow, r, c, xrow, filled = 0, need
    cdef real tmp[LANES]
    cdef bint rows = (sh == 1 and sw == 1 and dh == 1 and dw == 1 and kh == kw
                      and (kh == 3 or kh == 5))
    cdef Py_ssize_t size = phase_plane_size(OH, OW, kh, kw, sh, sw, dh, dw, &Hp, &Wq)
    cdef bint ahead = rows and size * <Py_ssize_t>sizeof(real) > FILL_AHEAD_BYTES
    xrow = sh * Wq
    oh = 0
    while oh < OH:
        if rows:
            nrow = min(<Py_ssize_t>(DW_ROWS_NR if kh == 3 else ROLL_BAND_ROWS), OH - oh)
        else:
            nrow = ROWS if oh + ROWS <= OH else 1
        need = (oh + nrow - 1) * sh + (kh - 1) * dh + 1 if ahead else Hp
        if need > filled:
            _phases(<real*>x, pad, H, W, Hp, Wq, sw, ph, pw, True, filled, need)
            filled = need
        if rows:
            _rows(pad + oh * Wq, w, out + oh * OW, bias, add, nrow, OW, kh, Wq, OW)
            oh += nrow
            continue
        ow = 0
        while ow + COLS <= OW:
            _block(pad + oh * xrow + ow, w, out + oh * OW + ow, bias, add, nrow, kh, kw, xrow,
                   dh * Wq, koff, OW)
            ow += COLS
        if ow < OW:
            # the last columns through tmp, whose extra columns are computed and dropped
            for r in range(nrow):
                for c in range(COLS):
                    tmp[r * COLS + c] = out[(oh + r) * OW + ow + c] if add and ow + c < OW else 0
            _block(pad + oh * xrow + ow, w, tmp, bias, add, nrow, kh, kw, xrow, dh * Wq, koff,
                   COLS)
            for r in range(nrow):
                for c in range(OW - ow):
                    out[(oh + r) * OW + ow + c] = tmp[r * COLS + c]
        oh += nrow


cdef void dw_plane_grad_input(const real* go, const real* w, real* gx, bint add, real* pad,
                              const Py_ssize_t* koff, Py_ssize_t H, Py_ssize_t W,
                              Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t kh, Py_ssize_t kw,
                              Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw,
                              Py_ssize_t dh, Py_ssize_t dw) noexcept nogil:
    # any stride: the adjoint of dw_plane_gather, tap by tap. Each tap's row of go is added
    # (one unstrided axpy) into the scratch plane where the forward read it, pad laid out as
    # the forward's and zeroed first unless add (a later multiplier of the same input
    # channel); then pad's phases are copied back to gx, the transpose of _phases
    cdef Py_ssize_t Hp, Wq, k, oh, ow
    cdef Py_ssize_t size = phase_plane_size(OH, OW, kh, kw, sh, sw, dh, dw, &Hp, &Wq)
    cdef real t
    cdef real* prow
    cdef const real* grow
    if not add:
        _zero(pad, size)
    for k in range(kh * kw):
        t = w[k]
        for oh in range(OH):
            prow = pad + koff[k] + oh * sh * Wq
            grow = go + oh * OW
            for ow in range(OW):
                prow[ow] += t * grow[ow]
    _zero(gx, H * W)
    _phases(gx, pad, H, W, Hp, Wq, sw, ph, pw, False, 0, Hp)


cdef void dw_plane_grad_weight(const real* go, const real* x, real* gw, real* pad,
                               const Py_ssize_t* koff, Py_ssize_t H, Py_ssize_t W,
                               Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t kh, Py_ssize_t kw,
                               Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw,
                               Py_ssize_t dh, Py_ssize_t dw) noexcept nogil:
    # adds one image's contribution to the kh*kw weights of one output channel: x laid out
    # as the forward's, then each tap a dot product of go with a run of pad, up to
    # DW_DOT_TAPS taps per sweep over go (groups of near-equal size)
    cdef Py_ssize_t Hp, Wq, g, k0, k1, K = kh * kw
    cdef Py_ssize_t ng = (K + DW_DOT_TAPS - 1) // DW_DOT_TAPS
    phase_plane_size(OH, OW, kh, kw, sh, sw, dh, dw, &Hp, &Wq)
    _phases(<real*>x, pad, H, W, Hp, Wq, sw, ph, pw, True, 0, Hp)
    k0 = 0
    for g in range(ng):
        k1 = (g + 1) * K // ng
        if real is float:
            dw_dot_float(go, pad, koff + k0, gw + k0, <int>(k1 - k0), OH, OW, OW, sh * Wq)
        else:
            dw_dot_double(go, pad, koff + k0, gw + k0, <int>(k1 - k0), OH, OW, OW, sh * Wq)
        k0 = k1


cdef void _forward(const real* x, const real* w, const real* bias, real* out, Py_ssize_t N,
                   Py_ssize_t C, Py_ssize_t mult, Py_ssize_t H, Py_ssize_t W, Py_ssize_t OH,
                   Py_ssize_t OW, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw,
                   Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw,
                   real* pads, const Py_ssize_t* koff, int nt) noexcept nogil:
    # pads: one phase_plane_size scratch plane per thread
    cdef Py_ssize_t p, oc, n, CO = C * mult, Hp, Wq
    cdef Py_ssize_t size = phase_plane_size(OH, OW, kh, kw, sh, sw, dh, dw, &Hp, &Wq)
    for p in prange(N * CO, nogil=True, schedule="static", num_threads=nt):
        n = p // CO
        oc = p % CO
        dw_plane_gather(x + (n * C + oc // mult) * H * W, w + oc * kh * kw, out + p * OH * OW,
                        bias[oc] if bias != NULL else 0, False,
                        pads + omp_get_thread_num() * size, koff, H, W, OH, OW, kh, kw, sh,
                        sw, ph, pw, dh, dw)


cdef void _grad_input(const real* go, const real* w, real* gx, Py_ssize_t N, Py_ssize_t C,
                      Py_ssize_t mult, Py_ssize_t H, Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW,
                      Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw,
                      Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw,
                      real* pads, const Py_ssize_t* koff, Py_ssize_t size,
                      int nt) noexcept nogil:
    # stride 1: w is the flipped kernel and each plane a stride-1 gather from go, pads and
    # koff as the forward's for go; otherwise dw_plane_grad_input, pads and koff the
    # forward's own. size: one pads plane
    cdef Py_ssize_t p, c, n, m, oc
    cdef real* pad
    for p in prange(N * C, nogil=True, schedule="static", num_threads=nt):
        n = p // C
        c = p % C
        pad = pads + omp_get_thread_num() * size
        for m in range(mult):
            oc = c * mult + m
            if sh == 1 and sw == 1:
                dw_plane_gather(go + (n * C * mult + oc) * OH * OW, w + oc * kh * kw,
                                gx + p * H * W, 0, m > 0, pad, koff, OH, OW, H, W, kh, kw, 1,
                                1, (kh - 1) * dh - ph, (kw - 1) * dw - pw, dh, dw)
            else:
                dw_plane_grad_input(go + (n * C * mult + oc) * OH * OW, w + oc * kh * kw,
                                    gx + p * H * W, m > 0, pad, koff, H, W, OH, OW, kh, kw, sh,
                                    sw, ph, pw, dh, dw)


cdef void _grad_weight(const real* go, const real* x, real* gw, Py_ssize_t N, Py_ssize_t C,
                       Py_ssize_t mult, Py_ssize_t H, Py_ssize_t W, Py_ssize_t OH,
                       Py_ssize_t OW, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh,
                       Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t dh,
                       Py_ssize_t dw, real* pads, const Py_ssize_t* koff, int nt) noexcept nogil:
    # pads and koff as the forward's
    cdef Py_ssize_t oc, n, CO = C * mult, Hp, Wq
    cdef Py_ssize_t size = phase_plane_size(OH, OW, kh, kw, sh, sw, dh, dw, &Hp, &Wq)
    for oc in prange(CO, nogil=True, schedule="static", num_threads=nt):
        for n in range(N):
            dw_plane_grad_weight(go + (n * CO + oc) * OH * OW,
                                 x + (n * C + oc // mult) * H * W, gw + oc * kh * kw,
                                 pads + omp_get_thread_num() * size, koff, H, W, OH, OW, kh, kw,
                                 sh, sw, ph, pw, dh, dw)


# ---- checked entry points ---------------------------------------------------------------

def _check(x, w, out, args):
    """Shapes, dtypes and contiguity every loop relies on; returns (N, C, mult)."""
    kh, kw, sh, sw, ph, pw, dh, dw = args
    if min(kh, kw, sh, sw, dh, dw) <= 0 or min(ph, pw) < 0:
        raise RuntimeError("depthwise: invalid convolution geometry")
    for a in (x, w, out):
        if a.ndim != 4 or not a.flags.c_contiguous or a.dtype != x.dtype:
            raise RuntimeError("depthwise: arrays must be contiguous 4-D of one dtype")
    N, C, H, W = x.shape
    CO = w.shape[0]
    if C == 0 or CO % C or w.shape[1:] != (1, kh, kw):
        raise RuntimeError("depthwise: weight does not match the input channels")
    OH = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    OW = (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    if out.shape != (N, CO, OH, OW):
        raise RuntimeError("depthwise: output/grad_output has the wrong shape")
    return N, C, CO // C


def forward(x, w, bias, out, args):
    """``out`` = depthwise convolution of ``x`` (N, C, H, W) with ``w`` (C*mult, 1, kh, kw);
    ``args`` = (kh, kw, sh, sw, ph, pw, dh, dw); ``bias`` (C*mult,) or None."""
    _N, C, mult = _check(x, w, out, args)
    if bias is not None and (bias.shape != (C * mult,) or bias.dtype != x.dtype
                             or not bias.flags.c_contiguous):
        raise RuntimeError("depthwise: bias does not match the output channels")
    if out.size:
        for_dtype(x.dtype, _FORWARD, "depthwise")(x, w, bias, out, mult, args)


cdef _fwd(real[:, :, :, ::1] x, real[:, :, :, ::1] w, real[::1] bias, real[:, :, :, ::1] out,
          Py_ssize_t mult, args):
    cdef Py_ssize_t kh, kw, sh, sw, ph, pw, dh, dw
    kh, kw, sh, sw, ph, pw, dh, dw = args
    cdef const real* b = &bias[0] if bias is not None else NULL
    cdef int nt = threads_for(out.size * kh * kw, out.shape[0] * out.shape[1])
    cdef real[::1] pads
    cdef Py_ssize_t[::1] koff
    pads, koff = _scratch(nt, out.shape[2], out.shape[3], args, _DTYPE[real is double])
    with nogil:
        _forward(&x[0, 0, 0, 0], &w[0, 0, 0, 0], b, &out[0, 0, 0, 0], x.shape[0], x.shape[1],
                 mult, x.shape[2], x.shape[3], out.shape[2], out.shape[3], kh, kw, sh, sw, ph,
                 pw, dh, dw, &pads[0], &koff[0], nt)


def grad_input(go, w, gx, args):
    """``gx`` (N, C, H, W) = gradient of the input, from ``go``; ``gx`` is overwritten."""
    _N, _C, mult = _check(gx, w, go, args)
    if go.size:
        # the stride-1 gather runs the forward's loops with the kernel flipped
        gather = args[2] == args[3] == 1
        wk = np.ascontiguousarray(w[:, :, ::-1, ::-1]) if gather else w
        for_dtype(go.dtype, _GRAD_INPUT, "depthwise")(go, wk, gx, mult, args)


def _scratch(int nt, Py_ssize_t OH, Py_ssize_t OW, args, dtype):
    """One zeroed phase_plane_size scratch plane per thread a team of nt can number (a team
    of nt never numbers past), and the planes' _tap_offsets."""
    kh, kw, sh, sw, _ph, _pw, dh, dw = args
    cdef Py_ssize_t Hp, Wq
    size = phase_plane_size(OH, OW, kh, kw, sh, sw, dh, dw, &Hp, &Wq)
    return np.zeros(max(nt, 1) * size, dtype), _tap_offsets(args, OH, OW)


cdef _gi(real[:, :, :, ::1] go, real[:, :, :, ::1] w, real[:, :, :, ::1] gx, Py_ssize_t mult,
         args):
    cdef Py_ssize_t kh, kw, sh, sw, ph, pw, dh, dw
    kh, kw, sh, sw, ph, pw, dh, dw = args
    cdef int nt = threads_for(go.size * kh * kw, gx.shape[0] * gx.shape[1])
    cdef real[::1] pads
    cdef Py_ssize_t[::1] koff
    # stride 1: the gather's planes, go's, as the forward's of a go-sized input; otherwise
    # the forward's own
    if sh == 1 and sw == 1:
        pads, koff = _scratch(nt, gx.shape[2], gx.shape[3], args, _DTYPE[real is double])
    else:
        pads, koff = _scratch(nt, go.shape[2], go.shape[3], args, _DTYPE[real is double])
    cdef Py_ssize_t size = pads.shape[0] // max(nt, 1)
    with nogil:
        _grad_input(&go[0, 0, 0, 0], &w[0, 0, 0, 0], &gx[0, 0, 0, 0], gx.shape[0],
                    gx.shape[1], mult, gx.shape[2], gx.shape[3], go.shape[2], go.shape[3], kh,
                    kw, sh, sw, ph, pw, dh, dw, &pads[0], &koff[0], size, nt)


def grad_weight(go, x, gw, args):
    """``gw`` (C*mult, 1, kh, kw) = gradient of the weight; ``gw`` is overwritten."""
    _N, _C, mult = _check(x, gw, go, args)
    gw[...] = 0
    if go.size:
        for_dtype(go.dtype, _GRAD_WEIGHT, "depthwise")(go, x, gw, mult, args)


cdef _gw(real[:, :, :, ::1] go, real[:, :, :, ::1] x, real[:, :, :, ::1] gw, Py_ssize_t mult,
         args):
    cdef Py_ssize_t kh, kw, sh, sw, ph, pw, dh, dw
    kh, kw, sh, sw, ph, pw, dh, dw = args
    cdef int nt = threads_for(go.size * kh * kw, gw.shape[0])
    cdef real[::1] pads
    cdef Py_ssize_t[::1] koff
    pads, koff = _scratch(nt, go.shape[2], go.shape[3], args, _DTYPE[real is double])
    with nogil:
        _grad_weight(&go[0, 0, 0, 0], &x[0, 0, 0, 0], &gw[0, 0, 0, 0], x.shape[0], x.shape[1],
                     mult, x.shape[2], x.shape[3], go.shape[2], go.shape[3], kh, kw, sh, sw,
                     ph, pw, dh, dw, &pads[0], &koff[0], nt)


_DTYPE = (np.float32, np.float64)
_FORWARD = (_fwd[float], _fwd[double])
_GRAD_INPUT = (_gi[float], _gi[double])
_GRAD_WEIGHT = (_gw[float], _gw[double])

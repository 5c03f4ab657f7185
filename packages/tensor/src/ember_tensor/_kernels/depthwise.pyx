"""Depthwise 2-D convolution (groups == input channels) as direct loops, and its backwards.

im2col + GEMM is the wrong shape here: each group is a GEMM of one row by kh*kw columns,
so the work is all im2col copying and per-group call overhead. Instead each output plane is
a sum over the kh*kw taps of shifted, scaled input.

With stride 1 (and for the stride-1 gradient of the input, the same gather over the output
gradient with the kernel flipped and padding ``(k - 1) * d - p``) each output is summed over
all its taps in registers: the plane is first copied into a zero-bordered scratch plane, so
that every output is "interior" and needs no bounds test, then ROWS output rows by COLS
output columns at a time run through ``depthwise.h``'s vector block (one running sum per
output, taps in row-major order; a partial last block goes through a small buffer). Other
strides sweep one tap at a time: per tap and output row one axpy over the valid columns
(the forward), or the taps scattered back (grad-input). The weight gradient sums each tap
into a row of partial sums first.

Output channel ``oc`` reads input channel ``oc // mult`` (``mult`` = out/in channels, the
depth multiplier). Planes run in parallel: forward over (image, output channel), grad-input
over (image, input channel), grad-weight over output channels (each sums its images), so no
two threads write the same memory. The Python side (``ember_tensor.nn.depthwise``) checks
arguments in torch's words; the ``def`` functions re-check what memory safety depends on.
"""
from cython.parallel cimport prange

from .parallel cimport omp_get_thread_num, threads_for
from .types cimport for_dtype, real

import numpy as np

cdef extern from "depthwise.h" nogil:
    # the stride-1 register blocks, NR = ROWS output rows or 1 (see depthwise.h)
    void dw_gather4_float(const float* x, const float* w, float* o, float b, bint add,
                          Py_ssize_t ni, Py_ssize_t kw, Py_ssize_t xrow, Py_ssize_t xtap,
                          Py_ssize_t dw, Py_ssize_t orow)
    void dw_gather1_float(const float* x, const float* w, float* o, float b, bint add,
                          Py_ssize_t ni, Py_ssize_t kw, Py_ssize_t xrow, Py_ssize_t xtap,
                          Py_ssize_t dw, Py_ssize_t orow)
    void dw_gather4_double(const double* x, const double* w, double* o, double b, bint add,
                           Py_ssize_t ni, Py_ssize_t kw, Py_ssize_t xrow, Py_ssize_t xtap,
                           Py_ssize_t dw, Py_ssize_t orow)
    void dw_gather1_double(const double* x, const double* w, double* o, double b, bint add,
                           Py_ssize_t ni, Py_ssize_t kw, Py_ssize_t xrow, Py_ssize_t xtap,
                           Py_ssize_t dw, Py_ssize_t orow)

cdef enum:
    # One register block: ROWS x COLS running sums (float32: four AVX-512 registers, eight
    # AVX2 ones). Four rows hide a tap's multiply-add latency even where a row is one vector
    # wide; COLS is depthwise.h's DW_COLS.
    ROWS = 4
    COLS = 16
    LANES = ROWS * COLS


cdef inline void _block(const real* x, const real* w, real* o, real b, bint add,
                        Py_ssize_t nrow, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t xrow,
                        Py_ssize_t dh, Py_ssize_t dw, Py_ssize_t orow) noexcept nogil:
    # depthwise.h's block of this dtype and nrow (ROWS or 1)
    if real is float:
        if nrow == ROWS:
            dw_gather4_float(x, w, o, b, add, kh, kw, xrow, dh * xrow, dw, orow)
        else:
            dw_gather1_float(x, w, o, b, add, kh, kw, xrow, dh * xrow, dw, orow)
    elif nrow == ROWS:
        dw_gather4_double(x, w, o, b, add, kh, kw, xrow, dh * xrow, dw, orow)
    else:
        dw_gather1_double(x, w, o, b, add, kh, kw, xrow, dh * xrow, dw, orow)


cdef inline void _pad_plane(const real* x, real* pad, Py_ssize_t H, Py_ssize_t W,
                            Py_ssize_t Hp, Py_ssize_t Wp, Py_ssize_t ph,
                            Py_ssize_t pw) noexcept nogil:
    # pad[r, c] = x[r - ph, c - pw] inside x, else 0 (negative ph/pw crop instead)
    cdef Py_ssize_t r, c, ih, lo, hi
    lo = 0 if pw < 0 else (Wp if pw > Wp else pw)
    hi = W + pw
    hi = lo if hi < lo else (Wp if hi > Wp else hi)
    for r in range(Hp):
        ih = r - ph
        if ih < 0 or ih >= H:
            for c in range(Wp):
                pad[r * Wp + c] = 0
            continue
        for c in range(lo):
            pad[r * Wp + c] = 0
        for c in range(lo, hi):
            pad[r * Wp + c] = x[ih * W + c - pw]
        for c in range(hi, Wp):
            pad[r * Wp + c] = 0


cdef inline Py_ssize_t gather_pad_size(Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t kh,
                                       Py_ssize_t kw, Py_ssize_t dh, Py_ssize_t dw,
                                       Py_ssize_t* Wp) noexcept nogil:
    # the scratch plane dw_plane_gather reads: every row and column a block touches
    Wp[0] = (OW + COLS - 1) // COLS * COLS + (kw - 1) * dw
    return (OH + (kh - 1) * dh) * Wp[0]


cdef void dw_plane_gather(const real* x, const real* w, real* out, real bias, bint add,
                          real* pad, Py_ssize_t H, Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW,
                          Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t ph, Py_ssize_t pw,
                          Py_ssize_t dh, Py_ssize_t dw) noexcept nogil:
    # stride 1: out (+= when add) = bias + the taps of w over x, x first copied into pad
    cdef Py_ssize_t Wp, oh, ow, nrow, r, c
    cdef real tmp[LANES]
    gather_pad_size(OH, OW, kh, kw, dh, dw, &Wp)
    _pad_plane(x, pad, H, W, OH + (kh - 1) * dh, Wp, ph, pw)
    oh = 0
    while oh < OH:
        nrow = ROWS if oh + ROWS <= OH else 1
        ow = 0
        while ow + COLS <= OW:
            _block(pad + oh * Wp + ow, w, out + oh * OW + ow, bias, add, nrow, kh, kw, Wp, dh,
                   dw, OW)
            ow += COLS
        if ow < OW:
            # the last columns through tmp, whose extra columns are computed and dropped
            for r in range(nrow):
                for c in range(COLS):
                    tmp[r * COLS + c] = out[(oh + r) * OW + ow + c] if add and ow + c < OW else 0
            _block(pad + oh * Wp + ow, w, tmp, bias, add, nrow, kh, kw, Wp, dh, dw, COLS)
            for r in range(nrow):
                for c in range(OW - ow):
                    out[(oh + r) * OW + ow + c] = tmp[r * COLS + c]
        oh += nrow


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


cdef void dw_plane_forward(const real* x, const real* w, real* out, real bias, Py_ssize_t H,
                           Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t kh,
                           Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph,
                           Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw) noexcept nogil:
    cdef Py_ssize_t i, j, oh, ow, ih, off, a, b
    cdef real t
    cdef real* orow
    cdef const real* xrow
    for i in range(OH * OW):
        out[i] = bias
    for j in range(kw):
        off = j * dw - pw
        _cols(off, sw, W, OW, &a, &b)
        for i in range(kh):
            t = w[i * kw + j]
            for oh in range(OH):
                ih = oh * sh - ph + i * dh
                if ih < 0 or ih >= H:
                    continue
                orow = out + oh * OW
                xrow = x + ih * W + off
                if sw == 1:
                    for ow in range(a, b):
                        orow[ow] += t * xrow[ow]
                else:
                    for ow in range(a, b):
                        orow[ow] += t * xrow[ow * sw]


cdef void dw_plane_grad_input(const real* go, const real* w, real* gx, Py_ssize_t H,
                              Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t kh,
                              Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph,
                              Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw) noexcept nogil:
    # accumulates (gx is zeroed by the caller): the forward's taps, scattered back
    cdef Py_ssize_t i, j, oh, ow, ih, off, a, b
    cdef real t
    cdef const real* grow
    cdef real* xrow
    for j in range(kw):
        off = j * dw - pw
        _cols(off, sw, W, OW, &a, &b)
        for i in range(kh):
            t = w[i * kw + j]
            for oh in range(OH):
                ih = oh * sh - ph + i * dh
                if ih < 0 or ih >= H:
                    continue
                grow = go + oh * OW
                xrow = gx + ih * W + off
                if sw == 1:
                    for ow in range(a, b):
                        xrow[ow] += t * grow[ow]
                else:
                    for ow in range(a, b):
                        xrow[ow * sw] += t * grow[ow]


cdef void dw_plane_grad_weight(const real* go, const real* x, real* gw, Py_ssize_t H,
                               Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t kh,
                               Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph,
                               Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw,
                               real* part) noexcept nogil:
    # adds one image's contribution to the kh*kw weights of one output channel. A tap's sum
    # runs down the rows into ``part`` (OW partial sums: the forward's vectorisable axpy
    # shape; one running scalar cannot vectorise without reassociating), then across it
    cdef Py_ssize_t i, j, oh, ow, ih, off, a, b
    cdef real acc
    cdef const real* grow
    cdef const real* xrow
    for j in range(kw):
        off = j * dw - pw
        _cols(off, sw, W, OW, &a, &b)
        for i in range(kh):
            for ow in range(a, b):
                part[ow] = 0
            for oh in range(OH):
                ih = oh * sh - ph + i * dh
                if ih < 0 or ih >= H:
                    continue
                grow = go + oh * OW
                xrow = x + ih * W + off
                if sw == 1:
                    for ow in range(a, b):
                        part[ow] += grow[ow] * xrow[ow]
                else:
                    for ow in range(a, b):
                        part[ow] += grow[ow] * xrow[ow * sw]
            acc = 0
            for ow in range(a, b):
                acc = acc + part[ow]
            gw[i * kw + j] += acc


cdef void _forward(const real* x, const real* w, const real* bias, real* out, Py_ssize_t N,
                   Py_ssize_t C, Py_ssize_t mult, Py_ssize_t H, Py_ssize_t W, Py_ssize_t OH,
                   Py_ssize_t OW, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw,
                   Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw,
                   real* pads, int nt) noexcept nogil:
    # pads: one dw_plane_gather scratch plane per thread (stride 1 only)
    cdef Py_ssize_t p, oc, n, CO = C * mult, Wp
    cdef Py_ssize_t size = gather_pad_size(OH, OW, kh, kw, dh, dw, &Wp)
    for p in prange(N * CO, nogil=True, schedule="static", num_threads=nt):
        n = p // CO
        oc = p % CO
        if sh == 1 and sw == 1:
            dw_plane_gather(x + (n * C + oc // mult) * H * W, w + oc * kh * kw,
                            out + p * OH * OW, bias[oc] if bias != NULL else 0, False,
                            pads + omp_get_thread_num() * size, H, W, OH, OW, kh, kw, ph, pw,
                            dh, dw)
        else:
            dw_plane_forward(x + (n * C + oc // mult) * H * W, w + oc * kh * kw,
                             out + p * OH * OW, bias[oc] if bias != NULL else 0, H, W, OH, OW,
                             kh, kw, sh, sw, ph, pw, dh, dw)


cdef void _grad_input(const real* go, const real* w, real* gx, Py_ssize_t N, Py_ssize_t C,
                      Py_ssize_t mult, Py_ssize_t H, Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW,
                      Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw,
                      Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw,
                      real* pads, int nt) noexcept nogil:
    # stride 1: w is the flipped kernel and each plane a gather from go (gx need not be
    # zeroed; pads as the forward's, for go); otherwise the scatter, into a zeroed gx
    cdef Py_ssize_t p, c, n, m, oc, Wp, size = gather_pad_size(H, W, kh, kw, dh, dw, &Wp)
    for p in prange(N * C, nogil=True, schedule="static", num_threads=nt):
        n = p // C
        c = p % C
        for m in range(mult):
            oc = c * mult + m
            if sh == 1 and sw == 1:
                dw_plane_gather(go + (n * C * mult + oc) * OH * OW, w + oc * kh * kw,
                                gx + p * H * W, 0, m > 0, pads + omp_get_thread_num() * size,
                                OH, OW, H, W, kh, kw, (kh - 1) * dh - ph, (kw - 1) * dw - pw,
                                dh, dw)
            else:
                dw_plane_grad_input(go + (n * C * mult + oc) * OH * OW, w + oc * kh * kw,
                                    gx + p * H * W, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh,
                                    dw)


cdef void _grad_weight(const real* go, const real* x, real* gw, Py_ssize_t N, Py_ssize_t C,
                       Py_ssize_t mult, Py_ssize_t H, Py_ssize_t W, Py_ssize_t OH,
                       Py_ssize_t OW, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh,
                       Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t dh,
                       Py_ssize_t dw, real* parts, int nt) noexcept nogil:
    # parts: OW scratch values per thread
    cdef Py_ssize_t oc, n, CO = C * mult
    cdef real* part
    for oc in prange(CO, nogil=True, schedule="static", num_threads=nt):
        part = parts + omp_get_thread_num() * OW
        for n in range(N):
            dw_plane_grad_weight(go + (n * CO + oc) * OH * OW,
                                 x + (n * C + oc // mult) * H * W, gw + oc * kh * kw,
                                 H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw, part)


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
    cdef real[::1] pads = _pads(nt, out.shape[2], out.shape[3], args, _DTYPE[real is double])
    with nogil:
        _forward(&x[0, 0, 0, 0], &w[0, 0, 0, 0], b, &out[0, 0, 0, 0], x.shape[0], x.shape[1],
                 mult, x.shape[2], x.shape[3], out.shape[2], out.shape[3], kh, kw, sh, sw, ph,
                 pw, dh, dw, &pads[0], nt)


def grad_input(go, w, gx, args):
    """``gx`` (N, C, H, W) = gradient of the input, from ``go``; ``gx`` is overwritten."""
    _N, _C, mult = _check(gx, w, go, args)
    gather = args[2] == args[3] == 1 and go.size
    if not gather:
        gx[...] = 0
    if go.size:
        # the stride-1 gather runs the forward's loops with the kernel flipped
        wk = np.ascontiguousarray(w[:, :, ::-1, ::-1]) if gather else w
        for_dtype(go.dtype, _GRAD_INPUT, "depthwise")(go, wk, gx, mult, args)


def _pads(int nt, Py_ssize_t OH, Py_ssize_t OW, args, dtype):
    """One dw_plane_gather scratch plane per thread a team of nt can number (stride 1; one
    element otherwise, so the loops always get a valid pointer)."""
    kh, kw, sh, sw, _ph, _pw, dh, dw = args
    cdef Py_ssize_t Wp
    if sh != 1 or sw != 1:
        return np.empty(1, dtype)
    return np.empty(max(nt, 1) * gather_pad_size(OH, OW, kh, kw, dh, dw, &Wp), dtype)


cdef _gi(real[:, :, :, ::1] go, real[:, :, :, ::1] w, real[:, :, :, ::1] gx, Py_ssize_t mult,
         args):
    cdef Py_ssize_t kh, kw, sh, sw, ph, pw, dh, dw
    kh, kw, sh, sw, ph, pw, dh, dw = args
    cdef int nt = threads_for(go.size * kh * kw, gx.shape[0] * gx.shape[1])
    cdef real[::1] pads = _pads(nt, gx.shape[2], gx.shape[3], args, _DTYPE[real is double])
    with nogil:
        _grad_input(&go[0, 0, 0, 0], &w[0, 0, 0, 0], &gx[0, 0, 0, 0], gx.shape[0],
                    gx.shape[1], mult, gx.shape[2], gx.shape[3], go.shape[2], go.shape[3], kh,
                    kw, sh, sw, ph, pw, dh, dw, &pads[0], nt)


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
    # one row of partial sums per thread the team can have (a team of nt never numbers past)
    scratch = np.empty(max(nt, 1) * go.shape[3], np.float32 if real is float else np.float64)
    cdef real[::1] parts = scratch
    with nogil:
        _grad_weight(&go[0, 0, 0, 0], &x[0, 0, 0, 0], &gw[0, 0, 0, 0], x.shape[0], x.shape[1],
                     mult, x.shape[2], x.shape[3], go.shape[2], go.shape[3], kh, kw, sh, sw,
                     ph, pw, dh, dw, &parts[0], nt)


_DTYPE = (np.float32, np.float64)
_FORWARD = (_fwd[float], _fwd[double])
_GRAD_INPUT = (_gi[float], _gi[double])
_GRAD_WEIGHT = (_gw[float], _gw[double])

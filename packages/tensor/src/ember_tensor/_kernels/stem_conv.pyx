"""Direct 2-D convolution for inputs with few channels, and its weight gradient.

ResNet's stem (3 -> 64 channels, 7x7, stride 2, padding 3) as im2col + GEMM multiplies a
64 x 147 weight matrix by 147 x P columns: a K of 147 keeps OpenBLAS at ~75 GFLOP/s a
thread, and im2col first copies every input value 49 times. Here the taps are summed in
registers straight from the input (``stem_conv.h``):

- the input, a band of output rows at a time, is copied once into a zero-bordered scratch of
  column phases (``_fill_band``: padded column ``v*sw + q`` is phase ``q``'s column ``v``),
  so every tap of a strided kernel reads an unstrided run and no read needs a bounds test;
- forward: blocks of output channels times registers of consecutive output pixels, the
  weights broadcast, the bias the sums' start, results stored straight into NCHW;
- weight gradient: the output gradient of a band is transposed pixel-major, then blocks of
  taps times registers of output channels sum over the pixels, each pixel's input value
  broadcast: no horizontal sums, and the sums run over images, rows and columns in that
  order whatever the threads.

Threads (``threads`` from the caller, ``nn/stem_conv.py``): the forward's tasks are bands of
output rows, the weight gradient's groups of output channels; each task fills its own
scratch (a few KB of input), so no task waits for another. Every output and every
weight-gradient element is summed in one order fixed by the shapes (taps in order; pixels
in order, across bands through the sums in memory), so the bits are the same on any number
of threads.
"""
from cython.parallel cimport prange

from .parallel cimport omp_get_thread_num
from .types cimport for_dtype, real

import numpy as np

cdef extern from "stem_conv.h" nogil:
    enum: SC_FWD_CO
    enum: SC_FWD_PV
    enum: SC_GW_CV
    enum: SC_GW_TB
    enum: SC_LANES_FLOAT
    enum: SC_LANES_DOUBLE
    enum: SC_REG_BYTES
    void sc_transpose_float(const float* s, Py_ssize_t srow, Py_ssize_t nc, Py_ssize_t npix,
                            float* d, Py_ssize_t drow)
    void sc_transpose_double(const double* s, Py_ssize_t srow, Py_ssize_t nc, Py_ssize_t npix,
                             double* d, Py_ssize_t drow)
    void sc_fwd_float(const float* x, const Py_ssize_t* xofs, const float* w,
                      const Py_ssize_t* toff, Py_ssize_t nt, const float* bias, float* o,
                      Py_ssize_t orow, const Py_ssize_t* oofs, const Py_ssize_t* nval, int nco,
                      int npv)
    void sc_fwd_double(const double* x, const Py_ssize_t* xofs, const double* w,
                       const Py_ssize_t* toff, Py_ssize_t nt, const double* bias, double* o,
                       Py_ssize_t orow, const Py_ssize_t* oofs, const Py_ssize_t* nval,
                       int nco, int npv)
    void sc_gw_float(const float* g, Py_ssize_t grow, const float* x, Py_ssize_t xrow,
                     const Py_ssize_t* toff, Py_ssize_t nr, Py_ssize_t n, float* s,
                     Py_ssize_t srow, int cv)
    void sc_gw_double(const double* g, Py_ssize_t grow, const double* x, Py_ssize_t xrow,
                      const Py_ssize_t* toff, Py_ssize_t nr, Py_ssize_t n, double* s,
                      Py_ssize_t srow, int cv)

# Whether this copy's kernels beat im2col + OpenBLAS (which picks its own AVX2/AVX-512
# kernels at run time whatever copy is loaded): with FMA, from AVX2 up. The baseline copy
# (SSE2, no FMA) ran the 16x3x64x64 stem 2x slower than im2col, so conv keeps im2col there.
FASTER_THAN_BLAS = SC_REG_BYTES >= 32

# The most a forward band's scratch holds: the rows a band of outputs reads, every channel,
# stay in cache while each block of output channels sweeps them (read at call time). At one
# thread 16 KB to 64 KB measured within 3% of each other, at 64 and at 224 px.
FWD_SCRATCH_BYTES = 32768
# The most a weight-gradient band's transposed output gradient holds (L2): past it the image
# is cut into bands of output rows (read at call time).
GW_BAND_BYTES = 524288


# ---- geometry and the scratch -----------------------------------------------------------

cdef Geom _geometry(const Py_ssize_t* xs, Py_ssize_t cout, const Py_ssize_t* outs, args,
                    Py_ssize_t lanes, Py_ssize_t rows):
    """One call's geometry from the input's and output's shapes; ``rows``: output rows per
    band (0: whole planes)."""
    cdef Geom g
    g.N, g.C, g.H, g.W = xs[0], xs[1], xs[2], xs[3]
    g.Cout = cout
    g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw = args
    g.OH, g.OW = outs[2], outs[3]
    g.T = g.C * g.kh * g.kw
    g.L = lanes
    # a row's last register reads up to its lanes past the last output column
    g.Wq = (g.OW + lanes - 1) // lanes * lanes + (g.kw - 1) * g.dw // g.sw
    g.Wrow = g.sw * g.Wq
    g.rows = g.OH if rows <= 0 or rows > g.OH else rows
    g.rin = (g.rows - 1) * g.sh + (g.kh - 1) * g.dh + 1
    g.plane = g.rin * g.Wrow
    return g


cdef inline void _fill_row(real* row, const real* xrow, const Geom* g,
                           const Py_ssize_t sw) noexcept nogil:
    # one padded row inside the image: row[q*Wq + v] = xrow[v*sw + q - pw] where that column
    # is in the image, else 0 (inlined where sw is a constant: the stride-2 reads vectorise)
    cdef Py_ssize_t q, v, a, b
    cdef real* prow
    for q in range(sw):
        # phase q's columns v with 0 <= v*sw + q - pw < W
        a = (g.pw - q + sw - 1) // sw if g.pw > q else 0
        b = (g.W + g.pw - q + sw - 1) // sw
        if b > g.Wq:
            b = g.Wq
        if a > b:
            a = b
        prow = row + q * g.Wq
        for v in range(a):
            prow[v] = 0
        for v in range(a, b):
            prow[v] = xrow[v * sw + q - g.pw]
        for v in range(b, g.Wq):
            prow[v] = 0


cdef void _fill_band(const real* x, real* s, const Geom* g, Py_ssize_t r0,
                     Py_ssize_t nrin) noexcept nogil:
    # s[c*plane + rr*Wrow + q*Wq + v] = x[c, r0 + rr - ph, v*sw + q - pw] inside the image,
    # else 0, for the band's padded rows r0 <= r0 + rr < r0 + nrin of one image
    cdef Py_ssize_t c, rr, v, ih
    cdef real* row
    cdef const real* xrow
    for c in range(g.C):
        for rr in range(nrin):
            row = s + c * g.plane + rr * g.Wrow
            ih = r0 + rr - g.ph
            if ih < 0 or ih >= g.H:
                for v in range(g.Wrow):
                    row[v] = 0
                continue
            xrow = x + (c * g.H + ih) * g.W
            if g.sw == 2:
                _fill_row(row, xrow, g, 2)
            elif g.sw == 1:
                _fill_row(row, xrow, g, 1)
            else:
                _fill_row(row, xrow, g, g.sw)


cdef void _tap_offsets(const Geom* g, Py_ssize_t* toff, Py_ssize_t ntaps) noexcept nogil:
    # where tap (c, i, j) starts in a band's scratch, in the weight's order; taps past T
    # (a last block's padding) read the scratch's start and are dropped
    cdef Py_ssize_t c, i, j, t = 0
    for c in range(g.C):
        for i in range(g.kh):
            for j in range(g.kw):
                toff[t] = (c * g.plane + i * g.dh * g.Wrow + (j * g.dw) % g.sw * g.Wq
                           + (j * g.dw) // g.sw)
                t += 1
    while t < ntaps:
        toff[t] = 0
        t += 1


# ---- forward ------------------------------------------------------------------------------

cdef void _pack_weights(const real* w, const real* bias, real* wp, real* bp,
                        const Geom* g) noexcept nogil:
    # wp[b, t, c] = w[b*CO + c, t], bp[b*CO + c] = bias (zeros past Cout): block b's
    # weights, tap by tap, the CO channels side by side for the broadcasts; each block a
    # tile transpose (a scalar loop cost ~5 us a call at the stem's 64 x 147)
    cdef Py_ssize_t nb = (g.Cout + SC_FWD_CO - 1) // SC_FWD_CO, b, t, c, co, nco
    for b in range(nb):
        nco = min(<Py_ssize_t>SC_FWD_CO, g.Cout - b * SC_FWD_CO)
        if nco < SC_FWD_CO:
            for t in range(g.T * SC_FWD_CO):
                wp[b * g.T * SC_FWD_CO + t] = 0
        if real is float:
            sc_transpose_float(w + b * SC_FWD_CO * g.T, g.T, nco, g.T,
                               wp + b * g.T * SC_FWD_CO, SC_FWD_CO)
        else:
            sc_transpose_double(w + b * SC_FWD_CO * g.T, g.T, nco, g.T,
                                wp + b * g.T * SC_FWD_CO, SC_FWD_CO)
        for c in range(SC_FWD_CO):
            co = b * SC_FWD_CO + c
            bp[b * SC_FWD_CO + c] = bias[co] if bias != NULL and co < g.Cout else 0


cdef void _forward_band(const real* x, const real* wp, const real* bp,
                        const Py_ssize_t* toff, real* out, real* s, Py_ssize_t* pix,
                        const Geom* g, Py_ssize_t oh0, Py_ssize_t oh1) noexcept nogil:
    # output rows [oh0, oh1) of one image: x its input, out its output, s and pix this
    # thread's scratch and pixel-register lists (rows * registers-per-row entries each)
    cdef Py_ssize_t ncv = (g.OW + g.L - 1) // g.L, cap = g.rows * ncv
    cdef Py_ssize_t npv = (oh1 - oh0) * ncv, P = g.OH * g.OW
    cdef Py_ssize_t nb = (g.Cout + SC_FWD_CO - 1) // SC_FWD_CO, b, p, r, cv, k = 0
    cdef Py_ssize_t* xofs = pix
    cdef Py_ssize_t* oofs = pix + cap
    cdef Py_ssize_t* nval = pix + 2 * cap
    _fill_band(x, s, g, oh0 * g.sh, (oh1 - oh0 - 1) * g.sh + (g.kh - 1) * g.dh + 1)
    for r in range(oh1 - oh0):
        for cv in range(ncv):
            xofs[k] = r * g.sh * g.Wrow + cv * g.L
            oofs[k] = (oh0 + r) * g.OW + cv * g.L
            nval[k] = min(g.L, g.OW - cv * g.L)
            k += 1
    for b in range(nb):
        p = 0
        while p < npv:
            if real is float:
                sc_fwd_float(s, xofs + p, wp + b * g.T * SC_FWD_CO, toff, g.T,
                             bp + b * SC_FWD_CO, out + b * SC_FWD_CO * P, P, oofs + p,
                             nval + p, <int>min(<Py_ssize_t>SC_FWD_CO, g.Cout - b * SC_FWD_CO),
                             <int>min(<Py_ssize_t>SC_FWD_PV, npv - p))
            else:
                sc_fwd_double(s, xofs + p, wp + b * g.T * SC_FWD_CO, toff, g.T,
                              bp + b * SC_FWD_CO, out + b * SC_FWD_CO * P, P, oofs + p,
                              nval + p, <int>min(<Py_ssize_t>SC_FWD_CO, g.Cout - b * SC_FWD_CO),
                              <int>min(<Py_ssize_t>SC_FWD_PV, npv - p))
            p += SC_FWD_PV


cdef void _forward(const real* x, const real* wp, const real* bp, const Py_ssize_t* toff,
                   real* out, real* scratch, Py_ssize_t* pix, const Geom* g,
                   Py_ssize_t nbands, int nt) noexcept nogil:
    # tasks: (image, band) pairs, nbands near-equal bands of output rows per image
    cdef Py_ssize_t task, n, band, tid
    cdef Py_ssize_t ncv = (g.OW + g.L - 1) // g.L
    for task in prange(g.N * nbands, nogil=True, schedule="static", num_threads=nt):
        n = task // nbands
        band = task % nbands
        tid = omp_get_thread_num()
        _forward_band(x + n * g.C * g.H * g.W, wp, bp, toff, out + n * g.Cout * g.OH * g.OW,
                      scratch + tid * g.C * g.plane, pix + tid * 3 * g.rows * ncv, g,
                      band * g.OH // nbands, (band + 1) * g.OH // nbands)


cdef _fwd(real[:, :, :, ::1] x, real[:, :, :, ::1] w, real[::1] bias, real[:, :, :, ::1] out,
          args, int threads):
    cdef Py_ssize_t lanes = SC_LANES_FLOAT if real is float else SC_LANES_DOUBLE
    cdef Geom g = _geometry(x.shape, w.shape[0], out.shape, args, lanes, 0)
    # band rows: the scratch of a band within FWD_SCRATCH_BYTES, then as many near-equal
    # bands per image as that takes, made a multiple of the threads when there are fewer
    # images than threads (which bands a thread gets changes no bits)
    cdef Py_ssize_t item = sizeof(real)
    cdef Py_ssize_t row_bytes = g.C * g.Wrow * item * g.sh
    cdef Py_ssize_t budget = FWD_SCRATCH_BYTES
    cdef Py_ssize_t fit = max(1, (budget - g.C * g.Wrow * item
                                  * ((g.kh - 1) * g.dh + 1 - g.sh)) // row_bytes)
    cdef Py_ssize_t nbands = (g.OH + fit - 1) // fit
    cdef int nt = max(1, min(threads, <int>(g.N * g.OH)))
    if g.N < nt:
        nbands = min(g.OH, (nbands + nt - 1) // nt * nt)
    g = _geometry(x.shape, w.shape[0], out.shape, args, lanes,
                  (g.OH + nbands - 1) // nbands)
    cdef Py_ssize_t nb = (g.Cout + SC_FWD_CO - 1) // SC_FWD_CO
    dtype = np.float32 if real is float else np.float64
    cdef real[::1] wp = np.empty(nb * g.T * SC_FWD_CO, dtype)
    cdef real[::1] bp = np.empty(nb * SC_FWD_CO, dtype)
    cdef real[::1] scratch = np.empty(nt * g.C * g.plane, dtype)
    cdef Py_ssize_t[::1] pix = np.empty(nt * 3 * g.rows * ((g.OW + lanes - 1) // lanes),
                                        np.intp)
    cdef Py_ssize_t[::1] toff = np.empty(g.T, np.intp)
    cdef const real* b = &bias[0] if bias is not None else NULL
    with nogil:
        _pack_weights(&w[0, 0, 0, 0], b, &wp[0], &bp[0], &g)
        _tap_offsets(&g, &toff[0], g.T)
        _forward(&x[0, 0, 0, 0], &wp[0], &bp[0], &toff[0], &out[0, 0, 0, 0], &scratch[0],
                 &pix[0], &g, nbands, nt)


# ---- weight gradient ----------------------------------------------------------------------

cdef void _grad_weight_group(const real* go, const real* x, real* gw, real* sums, real* gt,
                             real* s, const Py_ssize_t* toff, const Geom* g, Py_ssize_t c0,
                             Py_ssize_t c1, Py_ssize_t cw, Py_ssize_t ntb) noexcept nogil:
    # the gradient of output channels [c0, c1)'s weights into gw: sums[t*cw + c - c0] summed
    # band by band (cw: the channels padded to whole registers), each band's input in the
    # scratch s and its output gradient transposed into gt, (rows*OW, cw)
    cdef Py_ssize_t n, oh0, oh1, tb, cb, c, t, p, npix
    cdef Py_ssize_t P = g.OH * g.OW, cvl = SC_GW_CV * g.L
    cdef Py_ssize_t ncb = (cw + cvl - 1) // cvl
    for t in range(ntb * SC_GW_TB * cw):
        sums[t] = 0
    for n in range(g.N):
        oh0 = 0
        while oh0 < g.OH:
            oh1 = min(g.OH, oh0 + g.rows)
            npix = (oh1 - oh0) * g.OW
            _fill_band(x + n * g.C * g.H * g.W, s, g, oh0 * g.sh,
                       (oh1 - oh0 - 1) * g.sh + (g.kh - 1) * g.dh + 1)
            if real is float:
                sc_transpose_float(go + (n * g.Cout + c0) * P + oh0 * g.OW, P, c1 - c0, npix,
                                   gt, cw)
            else:
                sc_transpose_double(go + (n * g.Cout + c0) * P + oh0 * g.OW, P, c1 - c0, npix,
                                    gt, cw)
            # the padding channels' columns (zero: they add nothing)
            for p in range(npix):
                for c in range(c1 - c0, cw):
                    gt[p * cw + c] = 0
            for tb in range(ntb):
                for cb in range(ncb):
                    if real is float:
                        sc_gw_float(gt + cb * cvl, cw, s, g.sh * g.Wrow, toff + tb * SC_GW_TB,
                                    oh1 - oh0, g.OW, sums + tb * SC_GW_TB * cw + cb * cvl, cw,
                                    <int>min(<Py_ssize_t>SC_GW_CV, (cw - cb * cvl) // g.L))
                    else:
                        sc_gw_double(gt + cb * cvl, cw, s, g.sh * g.Wrow, toff + tb * SC_GW_TB,
                                     oh1 - oh0, g.OW, sums + tb * SC_GW_TB * cw + cb * cvl, cw,
                                     <int>min(<Py_ssize_t>SC_GW_CV, (cw - cb * cvl) // g.L))
            oh0 = oh1
    # gw[c, t] = sums[t, c - c0]: the group's rows of gw, a tile transpose
    if real is float:
        sc_transpose_float(sums, cw, g.T, c1 - c0, gw + c0 * g.T, g.T)
    else:
        sc_transpose_double(sums, cw, g.T, c1 - c0, gw + c0 * g.T, g.T)


cdef void _grad_weight(const real* go, const real* x, real* gw, real* sums, real* gt,
                       real* s, const Py_ssize_t* toff, const Geom* g, Py_ssize_t ngroups,
                       Py_ssize_t ntb, Py_ssize_t gt_size, int nt) noexcept nogil:
    # tasks: ngroups near-equal groups of whole registers of output channels, each with its
    # own sums (at its first channel's place), transposed gradient and scratch
    cdef Py_ssize_t grp, v0, v1, tid, nvec = (g.Cout + g.L - 1) // g.L
    for grp in prange(ngroups, nogil=True, schedule="static", num_threads=nt):
        v0 = grp * nvec // ngroups
        v1 = (grp + 1) * nvec // ngroups
        tid = omp_get_thread_num()
        _grad_weight_group(go, x, gw, sums + v0 * g.L * ntb * SC_GW_TB, gt + tid * gt_size,
                           s + tid * g.C * g.plane, toff, g, v0 * g.L, min(g.Cout, v1 * g.L),
                           (v1 - v0) * g.L, ntb)


cdef _gw(real[:, :, :, ::1] go, real[:, :, :, ::1] x, real[:, :, :, ::1] gw, args,
         int threads):
    cdef Py_ssize_t lanes = SC_LANES_FLOAT if real is float else SC_LANES_DOUBLE
    cdef Py_ssize_t nvec = (gw.shape[0] + lanes - 1) // lanes
    # one group of channels per thread (which channels a thread sums changes no bits: every
    # weight's sum runs over the pixels in order whatever the groups and bands)
    cdef Py_ssize_t ngroups = max(1, min(<Py_ssize_t>threads, nvec))
    cdef int nt = <int>ngroups
    cdef Py_ssize_t cw = (nvec + ngroups - 1) // ngroups * lanes
    cdef Py_ssize_t item = sizeof(real)
    # bands: a group's transposed output gradient within GW_BAND_BYTES
    cdef Py_ssize_t budget = GW_BAND_BYTES
    cdef Py_ssize_t rows = max(1, budget // (go.shape[3] * cw * item))
    cdef Geom g = _geometry(x.shape, gw.shape[0], go.shape, args, lanes, rows)
    cdef Py_ssize_t ntb = (g.T + SC_GW_TB - 1) // SC_GW_TB
    dtype = np.float32 if real is float else np.float64
    cdef real[::1] sums = np.empty(nvec * lanes * ntb * SC_GW_TB, dtype)
    cdef Py_ssize_t gt_size = g.rows * g.OW * cw
    cdef real[::1] gt = np.empty(nt * gt_size, dtype)
    cdef real[::1] s = np.empty(nt * g.C * g.plane, dtype)
    cdef Py_ssize_t[::1] toff = np.empty(ntb * SC_GW_TB, np.intp)
    with nogil:
        _tap_offsets(&g, &toff[0], ntb * SC_GW_TB)
        _grad_weight(&go[0, 0, 0, 0], &x[0, 0, 0, 0], &gw[0, 0, 0, 0], &sums[0], &gt[0],
                     &s[0], &toff[0], &g, ngroups, ntb, gt_size, nt)


# ---- checked entry points ---------------------------------------------------------------

def _check(x, w, out, args):
    """Shapes, dtypes and contiguity every loop relies on."""
    kh, kw, sh, sw, ph, pw, dh, dw = args
    if min(kh, kw, sh, sw, dh, dw) <= 0 or min(ph, pw) < 0:
        raise RuntimeError("stem_conv: invalid convolution geometry")
    for a in (x, w, out):
        if a.ndim != 4 or not a.flags.c_contiguous or a.dtype != x.dtype:
            raise RuntimeError("stem_conv: arrays must be contiguous 4-D of one dtype")
    N, C, H, W = x.shape
    if w.shape[1:] != (C, kh, kw):
        raise RuntimeError("stem_conv: weight does not match the input")
    OH = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    OW = (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    if OH <= 0 or OW <= 0 or out.shape != (N, w.shape[0], OH, OW):
        raise RuntimeError("stem_conv: output/grad_output has the wrong shape")


def forward(x, w, bias, out, args, int threads=1):
    """``out`` = the convolution of ``x`` (N, C, H, W) with ``w`` (Cout, C, kh, kw) plus
    ``bias`` (Cout,) or None; ``args`` = (kh, kw, sh, sw, ph, pw, dh, dw), groups 1."""
    _check(x, w, out, args)
    if bias is not None and (bias.shape != (w.shape[0],) or bias.dtype != x.dtype
                             or not bias.flags.c_contiguous):
        raise RuntimeError("stem_conv: bias does not match the output channels")
    if out.size and w.size:
        for_dtype(x.dtype, _FORWARD, "stem_conv")(x, w, bias, out, args, threads)
    elif out.size:
        out[...] = 0 if bias is None else bias.reshape(1, -1, 1, 1)


def grad_weight(go, x, gw, args, int threads=1):
    """``gw`` (Cout, C, kh, kw) = the weight gradient from ``go``; ``gw`` is overwritten."""
    _check(x, gw, go, args)
    if go.size and gw.size:
        for_dtype(go.dtype, _GRAD_WEIGHT, "stem_conv")(go, x, gw, args, threads)
    else:
        gw[...] = 0


_FORWARD = (_fwd[float], _fwd[double])
_GRAD_WEIGHT = (_gw[float], _gw[double])

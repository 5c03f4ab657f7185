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
output rows, claimed as threads come free (a second thread that wakes late, or is
preempted, leaves its bands to the first); the weight gradient's, for one image that fits
one band, an even number of bands of output rows (two for the stem at 64 px; one for an
image below 2M multiply-adds), claimed the same way, each preparing its rows and summing
them over every tap and channel into sums of its own, which are added in band order at the
end; otherwise groups of output channels, each filling its own scratch (a few KB of input).
Every output and every weight-gradient element is summed in one order fixed by the shapes
(taps in order; pixels in order, across bands through the sums in memory, or band by
band), so the bits are the same on any number of threads. The scratch is one malloc a
call, the arrays reached through their data pointers (NumPy scratch arrays and typed
memoryviews cost several microseconds a call).
"""
cimport numpy as cnp
from cython.parallel cimport prange
from libc.stdlib cimport free, malloc

from .parallel cimport omp_get_thread_num
from .types cimport real

cnp.import_array()

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
                     Py_ssize_t srow, int cv, int nt)
    void sc_gw_double(const double* g, Py_ssize_t grow, const double* x, Py_ssize_t xrow,
                      const Py_ssize_t* toff, Py_ssize_t nr, Py_ssize_t n, double* s,
                      Py_ssize_t srow, int cv, int nt)

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
# One image that fits one such band is cut into an even number of bands, each its own task
# with its own sums: two from half this many multiply-adds (where a second thread pays), one
# more pair for each further twice this many (read at call time): the stem at 64 px (9.6M)
# makes two bands of 16 output rows. 2 threads, quiet, best of 7 medians: two bands
# 100 us, four 107, three 145-160 (one thread does two), eight 125-138;
# one thread over blocks of taps after a serial preparation (before) 159-166; 1 thread
# 188 -> 190.
GW_CHUNK_MACS = 4000000


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
    for task in prange(g.N * nbands, nogil=True, schedule="dynamic", num_threads=nt):
        n = task // nbands
        band = task % nbands
        tid = omp_get_thread_num()
        _forward_band(x + n * g.C * g.H * g.W, wp, bp, toff, out + n * g.Cout * g.OH * g.OW,
                      scratch + tid * g.C * g.plane, pix + tid * 3 * g.rows * ncv, g,
                      band * g.OH // nbands, (band + 1) * g.OH // nbands)


cdef int _fwd(const real* x, const Py_ssize_t* xs, const real* w, Py_ssize_t cout,
              const real* bias, real* out, const Py_ssize_t* outs, args,
              int threads) except -1:
    cdef Py_ssize_t lanes = SC_LANES_FLOAT if real is float else SC_LANES_DOUBLE
    cdef Geom g = _geometry(xs, cout, outs, args, lanes, 0)
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
    g = _geometry(xs, cout, outs, args, lanes, (g.OH + nbands - 1) // nbands)
    cdef Py_ssize_t nb = (g.Cout + SC_FWD_CO - 1) // SC_FWD_CO
    cdef Py_ssize_t ncv = (g.OW + lanes - 1) // lanes
    # one allocation for the packed weights and bias, every thread's scratch, then the
    # pixel-register lists and tap offsets (NumPy arrays and memoryviews cost ~3 us a call)
    cdef Py_ssize_t nreal = nb * g.T * SC_FWD_CO + nb * SC_FWD_CO + nt * g.C * g.plane
    cdef Py_ssize_t nidx = nt * 3 * g.rows * ncv + g.T
    cdef real* wp = <real*>malloc(nreal * item + nidx * sizeof(Py_ssize_t))
    if wp == NULL:
        raise MemoryError()
    cdef real* bp = wp + nb * g.T * SC_FWD_CO
    cdef real* scratch = bp + nb * SC_FWD_CO
    cdef Py_ssize_t* pix = <Py_ssize_t*>(wp + nreal)
    cdef Py_ssize_t* toff = pix + nt * 3 * g.rows * ncv
    with nogil:
        _pack_weights(w, bias, wp, bp, &g)
        _tap_offsets(&g, toff, g.T)
        _forward(x, wp, bp, toff, out, scratch, pix, &g, nbands, nt)
    free(wp)
    return 0


# ---- weight gradient ----------------------------------------------------------------------

cdef void _prepare_band(const real* go, const real* x, real* gt, real* s, const Geom* g,
                        Py_ssize_t n, Py_ssize_t oh0, Py_ssize_t oh1, Py_ssize_t c0,
                        Py_ssize_t c1, Py_ssize_t cw) noexcept nogil:
    # output rows [oh0, oh1) of image n: its input into the scratch s, its output gradient
    # of channels [c0, c1) transposed into gt, (pixels, cw), the padding channels zero
    cdef Py_ssize_t p, c, P = g.OH * g.OW, npix = (oh1 - oh0) * g.OW
    _fill_band(x + n * g.C * g.H * g.W, s, g, oh0 * g.sh,
               (oh1 - oh0 - 1) * g.sh + (g.kh - 1) * g.dh + 1)
    if real is float:
        sc_transpose_float(go + (n * g.Cout + c0) * P + oh0 * g.OW, P, c1 - c0, npix, gt, cw)
    else:
        sc_transpose_double(go + (n * g.Cout + c0) * P + oh0 * g.OW, P, c1 - c0, npix, gt, cw)
    for p in range(npix):
        for c in range(c1 - c0, cw):
            gt[p * cw + c] = 0


cdef void _band_taps(const real* gt, const real* s, const Py_ssize_t* toff, const Geom* g,
                     real* sums, Py_ssize_t cw, Py_ssize_t nr, Py_ssize_t tb0,
                     Py_ssize_t tb1) noexcept nogil:
    # sums[t*cw + c] += a prepared band's (nr rows) share, for the taps of blocks [tb0, tb1)
    # a last block of fewer than SC_GW_TB taps sums only its own (stem_conv.h)
    cdef Py_ssize_t tb, cb, cvl = SC_GW_CV * g.L
    cdef Py_ssize_t ncb = (cw + cvl - 1) // cvl
    cdef int nt
    for tb in range(tb0, tb1):
        nt = <int>min(<Py_ssize_t>SC_GW_TB, g.T - tb * SC_GW_TB)
        for cb in range(ncb):
            if real is float:
                sc_gw_float(gt + cb * cvl, cw, s, g.sh * g.Wrow, toff + tb * SC_GW_TB, nr,
                            g.OW, sums + tb * SC_GW_TB * cw + cb * cvl, cw,
                            <int>min(<Py_ssize_t>SC_GW_CV, (cw - cb * cvl) // g.L), nt)
            else:
                sc_gw_double(gt + cb * cvl, cw, s, g.sh * g.Wrow, toff + tb * SC_GW_TB, nr,
                             g.OW, sums + tb * SC_GW_TB * cw + cb * cvl, cw,
                             <int>min(<Py_ssize_t>SC_GW_CV, (cw - cb * cvl) // g.L), nt)


cdef inline void _write_back(const real* sums, Py_ssize_t cw, const Geom* g, real* gw,
                             Py_ssize_t c0, Py_ssize_t c1) noexcept nogil:
    # gw[c, t] = sums[t, c - c0]: rows [c0, c1) of gw, a tile transpose
    if real is float:
        sc_transpose_float(sums, cw, g.T, c1 - c0, gw + c0 * g.T, g.T)
    else:
        sc_transpose_double(sums, cw, g.T, c1 - c0, gw + c0 * g.T, g.T)


cdef void _grad_weight_groups(const real* go, const real* x, real* gw, real* sums, real* gt,
                              real* s, const Py_ssize_t* toff, const Geom* g,
                              Py_ssize_t ngroups, Py_ssize_t ntb, Py_ssize_t gt_size,
                              int nt) noexcept nogil:
    # a batch's tasks: ngroups near-equal groups of whole registers of output channels, each
    # over every image band by band with its own sums (at its first channel's place),
    # transposed gradient and scratch
    cdef Py_ssize_t grp, v0, v1, c0, c1, cw, tid, n, oh0, oh1, t
    cdef Py_ssize_t nvec = (g.Cout + g.L - 1) // g.L
    cdef real* sg
    for grp in prange(ngroups, nogil=True, schedule="static", num_threads=nt):
        v0 = grp * nvec // ngroups
        v1 = (grp + 1) * nvec // ngroups
        c0 = v0 * g.L
        c1 = min(g.Cout, v1 * g.L)
        cw = (v1 - v0) * g.L
        tid = omp_get_thread_num()
        sg = sums + c0 * ntb * SC_GW_TB
        for t in range(ntb * SC_GW_TB * cw):
            sg[t] = 0
        for n in range(g.N):
            oh0 = 0
            while oh0 < g.OH:
                oh1 = min(g.OH, oh0 + g.rows)
                _prepare_band(go, x, gt + tid * gt_size, s + tid * g.C * g.plane, g, n, oh0,
                              oh1, c0, c1, cw)
                _band_taps(gt + tid * gt_size, s + tid * g.C * g.plane, toff, g, sg, cw,
                           oh1 - oh0, 0, ntb)
                oh0 = oh1
        _write_back(sg, cw, g, gw, c0, c1)


cdef void _grad_weight_rows(const real* go, const real* x, real* gw, real* sums, real* gt,
                            real* s, const Py_ssize_t* toff, const Geom* g, Py_ssize_t nchunks,
                            Py_ssize_t ntb, Py_ssize_t gt_size, Py_ssize_t nsums,
                            int nt) noexcept nogil:
    # one image's tasks: nchunks bands of g.rows output rows, claimed as threads come free,
    # each preparing its own band and summing it over every tap and channel into its own
    # sums; the bands' sums are then added in band order (a count fixed by the shapes)
    cdef Py_ssize_t ch, t, tid, oh0, oh1, cw = (g.Cout + g.L - 1) // g.L * g.L
    cdef real* sc
    for ch in prange(nchunks, nogil=True, schedule="dynamic", num_threads=nt):
        tid = omp_get_thread_num()
        sc = sums + ch * nsums
        for t in range(nsums):
            sc[t] = 0
        oh0 = ch * g.rows
        oh1 = min(g.OH, oh0 + g.rows)
        _prepare_band(go, x, gt + tid * gt_size, s + tid * g.C * g.plane, g, 0, oh0, oh1, 0,
                      g.Cout, cw)
        _band_taps(gt + tid * gt_size, s + tid * g.C * g.plane, toff, g, sc, cw, oh1 - oh0,
                   0, ntb)
    for ch in range(1, nchunks):
        sc = sums + ch * nsums
        for t in range(nsums):
            sums[t] += sc[t]
    _write_back(sums, cw, g, gw, 0, g.Cout)


cdef int _gw(const real* go, const Py_ssize_t* gos, const real* x, const Py_ssize_t* xs,
             real* gw, Py_ssize_t cout, args, int threads) except -1:
    cdef Py_ssize_t lanes = SC_LANES_FLOAT if real is float else SC_LANES_DOUBLE
    cdef Py_ssize_t nvec = (cout + lanes - 1) // lanes
    # one image whose transposed output gradient fits one band (GW_BAND_BYTES: the stem at
    # 64 px, not at 224): an even number of bands (GW_CHUNK_MACS) are the tasks, each over
    # every tap and channel with its own sums, added in band order afterwards (the band
    # count is the shapes', so the bits are the same on any number of threads); otherwise
    # one group of channels per thread, over every image and band, each preparing
    # its own (at 224 px one image's bands would be many small tasks' sums). Which channels
    # a thread sums changes no bits: every weight's sum runs over the pixels in order
    cdef Py_ssize_t item = sizeof(real)
    cdef Py_ssize_t budget = GW_BAND_BYTES
    cdef Py_ssize_t chunk_macs = max(1, <Py_ssize_t>GW_CHUNK_MACS)
    cdef bint by_rows = xs[0] == 1 and budget // (gos[3] * nvec * lanes * item) >= gos[2]
    cdef Py_ssize_t ngroups = 1 if by_rows else max(1, min(<Py_ssize_t>threads, nvec))
    cdef Py_ssize_t cw = (nvec + ngroups - 1) // ngroups * lanes
    cdef Py_ssize_t nchunks = 1, macs, rows
    if by_rows:
        macs = cout * xs[1] * <Py_ssize_t>args[0] * <Py_ssize_t>args[1] * gos[2] * gos[3]
        # two bands from half of GW_CHUNK_MACS, a pair more for each further twice it
        if macs >= chunk_macs // 2:
            nchunks = min(gos[2], 2 * max(1, macs // (2 * chunk_macs)))
        rows = (gos[2] + nchunks - 1) // nchunks
        nchunks = (gos[2] + rows - 1) // rows
    else:
        # rows a transposed band holds: a task's transposed output gradient within budget
        rows = max(1, budget // (gos[3] * cw * item))
    cdef Geom g = _geometry(xs, cout, gos, args, lanes, rows)
    cdef Py_ssize_t ntb = (g.T + SC_GW_TB - 1) // SC_GW_TB
    cdef int nt = <int>max(1, min(<Py_ssize_t>threads, nchunks if by_rows else ngroups))
    # a transposed band and a scratch per thread
    cdef Py_ssize_t gt_size = g.rows * g.OW * cw
    # one allocation: the sums (one set a band by rows), the transposed bands and scratches,
    # the tap offsets
    cdef Py_ssize_t nsums = nvec * lanes * ntb * SC_GW_TB
    cdef Py_ssize_t nreal = nsums * nchunks + nt * (gt_size + g.C * g.plane)
    cdef real* sums = <real*>malloc(nreal * item + ntb * SC_GW_TB * sizeof(Py_ssize_t))
    if sums == NULL:
        raise MemoryError()
    cdef real* gt = sums + nsums * nchunks
    cdef real* s = gt + nt * gt_size
    cdef Py_ssize_t* toff = <Py_ssize_t*>(sums + nreal)
    with nogil:
        _tap_offsets(&g, toff, ntb * SC_GW_TB)
        if by_rows:
            _grad_weight_rows(go, x, gw, sums, gt, s, toff, &g, nchunks, ntb, gt_size, nsums,
                              nt)
        else:
            _grad_weight_groups(go, x, gw, sums, gt, s, toff, &g, ngroups, ntb, gt_size, nt)
    free(sums)
    return 0


# ---- checked entry points ---------------------------------------------------------------

cdef inline Py_ssize_t* _dims(cnp.ndarray a) noexcept:
    return <Py_ssize_t*>cnp.PyArray_DIMS(a)


cdef int _check(cnp.ndarray x, cnp.ndarray w, cnp.ndarray out, args) except -1:
    """Shapes, dtypes and contiguity every loop relies on (through NumPy's C API: the
    Python attributes cost ~1 us a call)."""
    kh, kw, sh, sw, ph, pw, dh, dw = args
    if min(kh, kw, sh, sw, dh, dw) <= 0 or min(ph, pw) < 0:
        raise RuntimeError("stem_conv: invalid convolution geometry")
    cdef int t = cnp.PyArray_TYPE(x)
    cdef cnp.ndarray a
    for a in (x, w, out):
        if (cnp.PyArray_NDIM(a) != 4 or not cnp.PyArray_IS_C_CONTIGUOUS(a)
                or cnp.PyArray_TYPE(a) != t):
            raise RuntimeError("stem_conv: arrays must be contiguous 4-D of one dtype")
    cdef Py_ssize_t* xs = _dims(x)
    cdef Py_ssize_t* ws = _dims(w)
    cdef Py_ssize_t* os = _dims(out)
    if ws[1] != xs[1] or ws[2] != kh or ws[3] != kw:
        raise RuntimeError("stem_conv: weight does not match the input")
    OH = (xs[2] + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    OW = (xs[3] + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    if (OH <= 0 or OW <= 0 or os[0] != xs[0] or os[1] != ws[0] or os[2] != OH
            or os[3] != OW):
        raise RuntimeError("stem_conv: output/grad_output has the wrong shape")
    return t


def forward(cnp.ndarray x, cnp.ndarray w, bias, cnp.ndarray out, args, int threads=1):
    """``out`` = the convolution of ``x`` (N, C, H, W) with ``w`` (Cout, C, kh, kw) plus
    ``bias`` (Cout,) or None; ``args`` = (kh, kw, sh, sw, ph, pw, dh, dw), groups 1."""
    cdef int t = _check(x, w, out, args)
    cdef cnp.ndarray b = bias
    if b is not None and (cnp.PyArray_NDIM(b) != 1 or cnp.PyArray_DIMS(b)[0] != _dims(w)[0]
                          or cnp.PyArray_TYPE(b) != t or not cnp.PyArray_IS_C_CONTIGUOUS(b)):
        raise RuntimeError("stem_conv: bias does not match the output channels")
    if t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64:
        raise RuntimeError(f"stem_conv: no kernel for {x.dtype}")
    cdef const void* pb = cnp.PyArray_DATA(b) if b is not None else NULL
    if cnp.PyArray_SIZE(out) and cnp.PyArray_SIZE(w):
        if t == cnp.NPY_FLOAT32:
            _fwd(<const float*>cnp.PyArray_DATA(x), _dims(x), <const float*>cnp.PyArray_DATA(w),
                 _dims(w)[0], <const float*>pb, <float*>cnp.PyArray_DATA(out), _dims(out),
                 args, threads)
        else:
            _fwd(<const double*>cnp.PyArray_DATA(x), _dims(x),
                 <const double*>cnp.PyArray_DATA(w), _dims(w)[0], <const double*>pb,
                 <double*>cnp.PyArray_DATA(out), _dims(out), args, threads)
    elif cnp.PyArray_SIZE(out):
        out[...] = 0 if bias is None else bias.reshape(1, -1, 1, 1)


def grad_weight(cnp.ndarray go, cnp.ndarray x, cnp.ndarray gw, args, int threads=1):
    """``gw`` (Cout, C, kh, kw) = the weight gradient from ``go``; ``gw`` is overwritten."""
    cdef int t = _check(x, gw, go, args)
    if t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64:
        raise RuntimeError(f"stem_conv: no kernel for {x.dtype}")
    if cnp.PyArray_SIZE(go) and cnp.PyArray_SIZE(gw):
        if t == cnp.NPY_FLOAT32:
            _gw(<const float*>cnp.PyArray_DATA(go), _dims(go),
                <const float*>cnp.PyArray_DATA(x), _dims(x), <float*>cnp.PyArray_DATA(gw),
                _dims(gw)[0], args, threads)
        else:
            _gw(<const double*>cnp.PyArray_DATA(go), _dims(go),
                <const double*>cnp.PyArray_DATA(x), _dims(x), <double*>cnp.PyArray_DATA(gw),
                _dims(gw)[0], args, threads)
    else:
        gw[...] = 0

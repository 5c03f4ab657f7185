"""Winograd F(2x2, 3x3) transforms for 3x3, stride-1, padding-1 convolutions (NCHW).

A 3x3 correlation over a 4x4 input tile ``d`` (stride 2 between tiles) gives a 2x2 output
tile ``A^T [(G g G^T) * (B^T d B)] A``: 16 multiplies instead of 36, so 2.25x fewer than a
direct (im2col) convolution. Summed over input channels, the 16 elementwise products
become 16 GEMMs ``M[k] = U[k] @ V[k]`` (``U``: transformed filters ``(16, Cout, Cin)``,
``V``: transformed input tiles ``(16, Cin, T)``), which the caller runs with BLAS; this
module has the three transforms around them, and for the weight gradient the transform of
the output gradient (``Z = A g A^T``) and the way back from transformed-filter gradients
to 3x3 filters (``G^T dU G``).

Tiles: tile row ``r = n*TH + th`` (``TH = ceil(H/2)``, ``TW = ceil(W/2)``) covers output
rows ``2th, 2th+1`` of image ``n``; column ``(r - row0)*TW + tw`` of a block's ``V``/``M``
is tile ``tw`` of tile row ``r``. Padding is one pixel of zeros on every side; reads
outside the image come from a zero row or zeroed scratch columns, never from ``x``, and
the last tile of an odd-sized plane writes only the outputs that exist.
"""
from cython.parallel cimport parallel, prange, threadid
from libc.stdlib cimport free, malloc

from .types cimport for_dtype, real

import numpy as np

from .winograd_args import contiguous, float_arrays, row_range, stacked, tiled_rows
# the tile counts of a plane: part of this module's API (nn/winograd.py, the tests)
from .winograd_args import tiles  # no-cython-lint

cdef extern from "omp_shim.h" nogil:
    void ember_team_barrier()

cdef extern from "winograd.h" nogil:
    void wg_columns_float(const float* p0, const float* p1, const float* p2,
                          const float* p3, float* t0, float* t1, float* t2, float* t3,
                          Py_ssize_t W)
    void wg_columns_double(const double* p0, const double* p1, const double* p2,
                           const double* p3, double* t0, double* t1, double* t2, double* t3,
                           Py_ssize_t W)
    void wg_tiles_float(const float* t, float* o0, float* o1, float* o2, float* o3,
                        Py_ssize_t TW)
    void wg_tiles_double(const double* t, double* o0, double* o1, double* o2, double* o3,
                         Py_ssize_t TW)
    void wg_outputs_float(const float* m, Py_ssize_t sk, float* y0, float* y1, float b,
                          Py_ssize_t n2)
    void wg_outputs_double(const double* m, Py_ssize_t sk, double* y0, double* y1,
                           double b, Py_ssize_t n2)
    void wg_gcolumns_float(const float* g0, const float* g1, float* t0, float* t1,
                           float* t2, float* t3, Py_ssize_t W)
    void wg_gcolumns_double(const double* g0, const double* g1, double* t0, double* t1,
                            double* t2, double* t3, Py_ssize_t W)
    void wg_gtiles_float(const float* t, float* o0, float* o1, float* o2, float* o3,
                         Py_ssize_t TW)
    void wg_gtiles_double(const double* t, double* o0, double* o1, double* o2, double* o3,
                          Py_ssize_t TW)
    int wg_fixed_width(Py_ssize_t W)
    int wg_fixed_outputs(Py_ssize_t n2)
    void wg_input_row_float(const float* p0, const float* p1, const float* p2,
                            const float* p3, float* t, float* v, Py_ssize_t sk, Py_ssize_t W)
    void wg_input_row_double(const double* p0, const double* p1, const double* p2,
                             const double* p3, double* t, double* v, Py_ssize_t sk,
                             Py_ssize_t W)
    void wg_grad_row_float(const float* g0, const float* g1, float* t, float* v,
                           Py_ssize_t sk, Py_ssize_t W)
    void wg_grad_row_double(const double* g0, const double* g1, double* t, double* v,
                            Py_ssize_t sk, Py_ssize_t W)
    void wg_output_row_float(const float* m, Py_ssize_t sk, float* y0, float* y1, float b,
                             Py_ssize_t n2)
    void wg_output_row_double(const double* m, Py_ssize_t sk, double* y0, double* y1,
                              double b, Py_ssize_t n2)
    void wg_g_rows_float(const float* a0, const float* a1, const float* a2, float* o0,
                         float* o1, float* o2, float* o3, Py_ssize_t n)
    void wg_g_rows_double(const double* a0, const double* a1, const double* a2, double* o0,
                          double* o1, double* o2, double* o3, Py_ssize_t n)

cdef extern from "winograd_gemm.h" nogil:
    void wg_products_float(const float* U, Py_ssize_t su, const float* V, Py_ssize_t sv,
                           float* M, Py_ssize_t sm, Py_ssize_t R, Py_ssize_t K, Py_ssize_t T)
    int wg_products_fast()

# True in the AVX-512 copy, where ``products`` beats BLAS (elsewhere it is a plain loop,
# kept so every level can test it)
PRODUCTS_FAST = bool(wg_products_fast())


cdef inline void _tile_rows(const real* t0, const real* t1, const real* t2, const real* t3,
                            real* v, Py_ssize_t sk, Py_ssize_t TW, bint grad) noexcept nogil:
    # the horizontal half of a transform: scratch row k (t0..t3) gives the tile row's
    # positions 4k..4k+3, each sk apart from v; grad: A g A^T's half, else B^T d B's
    cdef const real* t[4]
    cdef Py_ssize_t k
    t[0] = t0
    t[1] = t1
    t[2] = t2
    t[3] = t3
    for k in range(4):
        if real is float:
            if grad:
                wg_gtiles_float(t[k], v, v + sk, v + 2 * sk, v + 3 * sk, TW)
            else:
                wg_tiles_float(t[k], v, v + sk, v + 2 * sk, v + 3 * sk, TW)
        else:
            if grad:
                wg_gtiles_double(t[k], v, v + sk, v + 2 * sk, v + 3 * sk, TW)
            else:
                wg_tiles_double(t[k], v, v + sk, v + 2 * sk, v + 3 * sk, TW)
        v += 4 * sk


# the fixed-width copies of a whole tile row (winograd.h's *_row functions)
cdef inline void _fixed_input_row(const real* p0, const real* p1, const real* p2,
                                  const real* p3, real* t, real* v, Py_ssize_t sk,
                                  Py_ssize_t W) noexcept nogil:
    if real is float:
        wg_input_row_float(p0, p1, p2, p3, t, v, sk, W)
    else:
        wg_input_row_double(p0, p1, p2, p3, t, v, sk, W)


cdef inline void _fixed_grad_row(const real* g0, const real* g1, real* t, real* v,
                                 Py_ssize_t sk, Py_ssize_t W) noexcept nogil:
    if real is float:
        wg_grad_row_float(g0, g1, t, v, sk, W)
    else:
        wg_grad_row_double(g0, g1, t, v, sk, W)


cdef inline void _fixed_output_row(const real* m, Py_ssize_t sk, real* y0, real* y1, real b,
                                   Py_ssize_t n2) noexcept nogil:
    if real is float:
        wg_output_row_float(m, sk, y0, y1, b, n2)
    else:
        wg_output_row_double(m, sk, y0, y1, b, n2)


cdef inline void _g_rows(const real* a0, const real* a1, const real* a2, real* o,
                         Py_ssize_t so, Py_ssize_t n) noexcept nogil:
    # o = G a for G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]], over n
    # filters at once: a0..a2 hold entries 0..2 of each filter's 3-vector, entry k of the
    # 4-vectors goes to o + k*so
    if real is float:
        wg_g_rows_float(a0, a1, a2, o, o + so, o + 2 * so, o + 3 * so, n)
    else:
        wg_g_rows_double(a0, a1, a2, o, o + so, o + 2 * so, o + 3 * so, n)


cdef inline void _gt_times(const real* u, Py_ssize_t su, real* o,
                           Py_ssize_t so) noexcept nogil:
    # o = G^T u: a 4-vector (entries su apart) to a 3-vector (so apart)
    cdef real half = 0.5
    o[0] = u[0] + (u[su] + u[2 * su]) * half
    o[so] = (u[su] - u[2 * su]) * half
    o[2 * so] = (u[su] + u[2 * su]) * half + u[3 * su]


cdef enum:
    # filters per block of the filter transform: their 3x3 taps are first gathered into
    # nine contiguous rows so the arithmetic runs over contiguous data
    FILTER_BLOCK = 64


cdef void filter_transform_into(const real* w, real* U, Py_ssize_t Cout, Py_ssize_t Cin,
                                Py_ssize_t ks, Py_ssize_t r0, Py_ssize_t r1,
                                bint flipped) noexcept nogil:
    # U[k] is an R x S matrix at U + k*ks: (Cout, Cin) from w, or with ``flipped`` (Cin,
    # Cout) from the channel-swapped, 180-degree-rotated w that the input gradient uses;
    # row a (r0 <= a < r1) is written at U + (a - r0)*S
    cdef Py_ssize_t S = Cout if flipped else Cin
    cdef Py_ssize_t a, b0, nb, bb, i
    cdef const real* src
    cdef real g[9 * FILTER_BLOCK]
    cdef real tmp[12 * FILTER_BLOCK]
    cdef real* d
    for a in range(r0, r1):
        b0 = 0
        while b0 < S:
            nb = S - b0 if S - b0 < FILTER_BLOCK else FILTER_BLOCK
            if flipped:
                for bb in range(nb):
                    src = w + ((b0 + bb) * Cin + a) * 9
                    for i in range(9):
                        g[i * FILTER_BLOCK + bb] = src[8 - i]
            else:
                src = w + (a * Cin + b0) * 9
                for bb in range(nb):
                    for i in range(9):
                        g[i * FILTER_BLOCK + bb] = src[bb * 9 + i]
            d = U + (a - r0) * S + b0
            # G g: column i of every filter of the block (tap rows i, i+3, i+6 of g) into
            # rows i, 3+i, 6+i, 9+i of tmp (a 4x3 matrix a filter), then row r of tmp (rows
            # 3r..3r+2) times G^T into d's matrices 4r..4r+3; whole rows of the block at
            # once, so the loops vectorise (a filter at a time: 7.2 -> 4.7 ns a filter)
            for i in range(3):
                _g_rows(g + i * FILTER_BLOCK, g + (i + 3) * FILTER_BLOCK,
                        g + (i + 6) * FILTER_BLOCK, tmp + i * FILTER_BLOCK, 3 * FILTER_BLOCK,
                        nb)
            for i in range(4):
                _g_rows(tmp + 3 * i * FILTER_BLOCK, tmp + (3 * i + 1) * FILTER_BLOCK,
                        tmp + (3 * i + 2) * FILTER_BLOCK, d + 4 * i * ks, ks, nb)
            b0 += FILTER_BLOCK


cdef void tile_transform_rows(const real* x, real* V, Py_ssize_t ks, Py_ssize_t C,
                              Py_ssize_t H, Py_ssize_t W, Py_ssize_t row0, Py_ssize_t row1,
                              bint grad, real* scratch) noexcept nogil:
    tile_transform_span(x, V, ks, (row1 - row0) * ((W + 1) // 2), C, H, W, row0, row1, 0, C,
                        grad, scratch)


cdef void tile_transform_span(const real* x, real* V, Py_ssize_t ks, Py_ssize_t ldv,
                              Py_ssize_t C, Py_ssize_t H, Py_ssize_t W, Py_ssize_t row0,
                              Py_ssize_t row1, Py_ssize_t c0, Py_ssize_t c1, bint grad,
                              real* scratch) noexcept nogil:
    # channels [c0, c1) of x's C; channel c's tile row r at V + (c - c0)*ldv + (r - row0)*TW
    # V = B^T d B for every 4x4 input tile d (padding 1), or with ``grad`` V = A g A^T for
    # every 2x2 output-gradient tile g. scratch: 4*(2*TW + 2) + W entries. The vertical half
    # runs over whole contiguous rows (it vectorises) into four scratch rows; for B^T d B entry
    # j+1 of a scratch row is input column j and entries 0 and W+1.. the padding. Reads past
    # the plane's edge come from the zero row or from scratch entries never written. At the
    # small widths winograd.h has fixed-width copies of (wg_fixed_width), its *_row functions
    # do a tile row's both halves in one call.
    cdef Py_ssize_t TH = (H + 1) // 2
    cdef Py_ssize_t TW = (W + 1) // 2
    cdef Py_ssize_t L = 2 * TW + 2
    cdef real* t0 = scratch
    cdef real* t1 = scratch + L
    cdef real* t2 = scratch + 2 * L
    cdef real* t3 = scratch + 3 * L
    cdef real* zero = scratch + 4 * L
    cdef Py_ssize_t c, r, n, th, ih, j
    cdef bint fixed = wg_fixed_width(W)
    cdef real* v
    cdef const real* plane
    cdef const real* p0
    cdef const real* p1
    cdef const real* p2
    cdef const real* p3
    for j in range(W):
        zero[j] = 0
    for j in range(4 * L):
        scratch[j] = 0
    for c in range(c0, c1):
        n = row0 // TH
        th = row0 - n * TH
        for r in range(row0, row1):
            plane = x + (n * C + c) * H * W
            v = V + (c - c0) * ldv + (r - row0) * TW
            if grad:
                p0 = plane + 2 * th * W
                p1 = p0 + W if 2 * th + 1 < H else zero
                if fixed:
                    _fixed_grad_row(p0, p1, t0, v, ks, W)
                elif real is float:
                    wg_gcolumns_float(p0, p1, t0, t1, t2, t3, W)
                else:
                    wg_gcolumns_double(p0, p1, t0, t1, t2, t3, W)
            else:
                ih = 2 * th - 1
                # rows ih+1 = 2th < H always; ih < H too, so only the edges need the zero row
                p0 = plane + ih * W if ih >= 0 else zero
                p1 = plane + (ih + 1) * W
                p2 = plane + (ih + 2) * W if ih + 2 < H else zero
                p3 = plane + (ih + 3) * W if ih + 3 < H else zero
                if fixed:
                    _fixed_input_row(p0, p1, p2, p3, t0, v, ks, W)
                elif real is float:
                    wg_columns_float(p0, p1, p2, p3, t0 + 1, t1 + 1, t2 + 1, t3 + 1, W)
                else:
                    wg_columns_double(p0, p1, p2, p3, t0 + 1, t1 + 1, t2 + 1, t3 + 1, W)
            if not fixed:
                _tile_rows(t0, t1, t2, t3, v, ks, TW, grad)
            th += 1
            if th == TH:
                th = 0
                n += 1


cdef void output_transform_span(const real* M, Py_ssize_t ks, Py_ssize_t ldm, real* y,
                                const real* bias, Py_ssize_t Cout, Py_ssize_t H,
                                Py_ssize_t W, Py_ssize_t row0, Py_ssize_t row1,
                                Py_ssize_t co0, Py_ssize_t co1,
                                real* scratch) noexcept nogil:
    # output channels [co0, co1) of y's Cout, channel co's tile row r read at
    # M + (co - co0)*ldm + (r - row0)*TW
    # scratch: W entries, where the second row of a tile goes when the plane has an odd
    # height (one loop body for every tile row, no branch per tile)
    cdef Py_ssize_t TH = (H + 1) // 2
    cdef Py_ssize_t TW = (W + 1) // 2
    cdef Py_ssize_t sk = ks
    cdef Py_ssize_t half = W // 2
    cdef bint fixed = wg_fixed_outputs(half)
    cdef Py_ssize_t co, r, n, th, tw
    cdef const real* m
    cdef real* y0
    cdef real* y1
    cdef real b
    cdef real s00, s01, s02, s10, s11, s12
    for co in range(co0, co1):
        b = bias[co] if bias != NULL else 0
        n = row0 // TH
        th = row0 - n * TH
        for r in range(row0, row1):
            y0 = y + ((n * Cout + co) * H + 2 * th) * W
            y1 = y0 + W if 2 * th + 1 < H else scratch
            m = M + (co - co0) * ldm + (r - row0) * TW
            if fixed:
                _fixed_output_row(m, sk, y0, y1, b, half)
            elif real is float:
                wg_outputs_float(m, sk, y0, y1, b, half)
            else:
                wg_outputs_double(m, sk, y0, y1, b, half)
            if W & 1:
                tw = half
                s00 = m[tw] + m[4 * sk + tw] + m[8 * sk + tw]
                s01 = m[sk + tw] + m[5 * sk + tw] + m[9 * sk + tw]
                s02 = m[2 * sk + tw] + m[6 * sk + tw] + m[10 * sk + tw]
                s10 = m[4 * sk + tw] - m[8 * sk + tw] - m[12 * sk + tw]
                s11 = m[5 * sk + tw] - m[9 * sk + tw] - m[13 * sk + tw]
                s12 = m[6 * sk + tw] - m[10 * sk + tw] - m[14 * sk + tw]
                y0[2 * tw] = s00 + s01 + s02 + b
                y1[2 * tw] = s10 + s11 + s12 + b
            th += 1
            if th == TH:
                th = 0
                n += 1


cdef void filter_grad_transform_rows(const real* dU, Py_ssize_t ks, real* gw, Py_ssize_t Cout,
                                     Py_ssize_t Cin, Py_ssize_t r0, Py_ssize_t r1) noexcept nogil:
    # gw = G^T dU G, the gradient of the 3x3 filters through U = G w G^T, for output
    # channels [r0, r1)
    cdef Py_ssize_t a, b, i
    cdef const real* d
    cdef real* out
    cdef real tmp[12]
    for a in range(r0, r1):
        d = dU + a * Cin
        out = gw + a * Cin * 9
        for b in range(Cin):
            # G^T dU: each column of the 4x4 dU (entries 4*ks apart) into a 3x4 tmp, then
            # each row of tmp times G into the 3x3 gradient
            for i in range(4):
                _gt_times(d + i * ks + b, 4 * ks, tmp + i, 4)
            for i in range(3):
                _gt_times(tmp + 4 * i, 1, out + 9 * b + 3 * i, 1)


# ---------------------------------------------------------------------------------------
# Python entry points: every shape and stride is checked (winograd_args), so the loops above
# cannot run past an array.
#
# U, V and M are (16, rows, cols) arrays whose last two dimensions are C-contiguous; the 16
# matrices may be further apart than rows*cols elements. Callers pad that distance so the
# 16 streams a transform reads or writes do not sit a multiple of 4 KiB apart, where they
# would all fall into one L1 cache set.

def filter_transform(w, U, r0=0, r1=None, flipped=False):
    """Rows ``[r0, r1)`` (dimension 1) of ``U = G w G^T``.

    ``w``: ``(Cout, Cin, 3, 3)``, contiguous. ``U``: ``(16, Cout, Cin)``, or with
    ``flipped`` ``(16, Cin, Cout)`` holding the transform of
    ``w.transpose(0, 1).flip(2, 3)``.
    """
    float_arrays("filter_transform", w, U)
    contiguous("filter_transform", w)
    if w.ndim != 4 or w.shape[2:] != (3, 3):
        raise RuntimeError("winograd filter_transform: expected a (Cout, Cin, 3, 3) weight")
    Cout, Cin = w.shape[0], w.shape[1]
    R, S = (Cin, Cout) if flipped else (Cout, Cin)
    stacked("filter_transform", U, "U", R, S)
    r0, r1 = row_range("filter_transform", r0, R if r1 is None else r1, R)
    if r0 == r1 or S == 0:
        return
    for_dtype(w.dtype, _RUN_FILTER, "winograd filter_transform")(w, U, Cout, Cin, r0, r1,
                                                                 bool(flipped))


def _tile_transform(name, a, what, stack, label, row0, row1, grad):
    """The checks and dispatch shared by the two per-tile transforms of a 4-D ``a``."""
    float_arrays(name, a, stack)
    contiguous(name, a)
    rows = tiled_rows(name, a, what, stack, label, row0, row1)
    if rows is not None:
        for_dtype(a.dtype, _RUN_TILES, f"winograd {name}")(a, stack, *rows, grad)


def input_transform(x, V, row0, row1):
    """``V = B^T d B`` for every tile of tile rows ``[row0, row1)`` of ``x`` (``(N, C, H,
    W)``, contiguous, padding 1). ``V``: ``(16, C, (row1 - row0) * TW)``."""
    _tile_transform("input_transform", x, "input", V, "V", row0, row1, False)


def output_transform(M, y, bias, row0, row1):
    """Write ``A^T m A`` (+ ``bias``) for tile rows ``[row0, row1)`` into ``y`` (``(N, Cout,
    H, W)``, contiguous), clipping edge tiles. ``M``: ``(16, Cout, (row1 - row0) * TW)``."""
    arrays = (M, y) if bias is None else (M, y, bias)
    float_arrays("output_transform", *arrays)
    contiguous("output_transform", *arrays[1:])
    rows = tiled_rows("output_transform", y, "output", M, "M", row0, row1)
    Cout = y.shape[1]
    if bias is not None and bias.shape != (Cout,):
        raise RuntimeError(
            f"winograd output_transform: bias of shape {tuple(bias.shape)}, expected ({Cout},)")
    if rows is None:
        return
    row0, row1 = rows
    for_dtype(M.dtype, _RUN_OUTPUT, "winograd output_transform")(M, y, bias, row0, row1)


def grad_output_transform(g, Z, row0, row1):
    """``Z = A g A^T`` for every 2x2 tile of tile rows ``[row0, row1)`` of the output
    gradient ``g`` (``(N, Cout, H, W)``, contiguous; positions past an odd-sized edge count
    as zeros). ``Z``: ``(16, Cout, (row1 - row0) * TW)``."""
    _tile_transform("grad_output_transform", g, "output gradient", Z, "Z", row0, row1, True)


def products(U, V, M):
    """``M[k] = U[k] @ V[k]`` for k < 16, float32 (``winograd_gemm.h``): ``U`` ``(16, R,
    K)``, ``V`` ``(16, K, T)``, ``M`` ``(16, R, T)``, each 16 C-contiguous matrices (further
    apart allowed). Each element is one fused multiply-add chain over ``K`` in order, so the
    same bits whatever the blocks."""
    float_arrays("products", U, V, M)
    if U.dtype != np.float32:
        raise RuntimeError("winograd products: expected float32 arrays")
    if U.ndim != 3 or V.ndim != 3 or M.ndim != 3:
        raise RuntimeError("winograd products: expected (16, rows, cols) arrays")
    R, K = U.shape[1], U.shape[2]
    T = V.shape[2]
    su = stacked("products", U, "U", R, K)
    sv = stacked("products", V, "V", K, T)
    sm = stacked("products", M, "M", R, T)
    if R == 0 or T == 0:
        return
    if K == 0:
        M[...] = 0
        return
    _run_products(U, V, M, su, sv, sm)


cdef _run_products(float[:, :, :] U, float[:, :, :] V, float[:, :, :] M, Py_ssize_t su,
                   Py_ssize_t sv, Py_ssize_t sm):
    with nogil:
        wg_products_float(&U[0, 0, 0], su, &V[0, 0, 0], sv, &M[0, 0, 0], sm, U.shape[1],
                          U.shape[2], V.shape[2])


cdef void _forward_block(const float* x, const float* U, Py_ssize_t su, float* V,
                         Py_ssize_t sv, float* M, Py_ssize_t sm, float* y, const float* bias,
                         Py_ssize_t C, Py_ssize_t Cout, Py_ssize_t H, Py_ssize_t W,
                         Py_ssize_t row0, Py_ssize_t row1, float* scratch) noexcept nogil:
    # one block of tile rows through the three steps; V and M are this thread's
    cdef Py_ssize_t T = (row1 - row0) * ((W + 1) // 2)
    tile_transform_rows(x, V, sv, C, H, W, row0, row1, False, scratch)
    wg_products_float(U, su, V, sv, M, sm, Cout, C, T)
    output_transform_span(M, sm, T, y, bias, Cout, H, W, row0, row1, 0, Cout, scratch)


def forward_float(x, w, U, V, M, y, bias, int count, int threads, bint flipped=False):
    """The whole float32 forward on ``products``' kernel in one OpenMP region, no GIL: the
    filter transform into ``U`` (rows cut in ``threads`` parts), a barrier, then each of
    ``count`` blocks of tile rows (block ``i``: rows ``[i*rows//count, (i+1)*rows//count)``)
    through the input transform, the 16 products and the output transform (+ ``bias``) on
    one thread, into that thread's slice of ``V`` and ``M``: 1-D float32 buffers holding
    ``threads`` slices of 16 matrices, ``(C, cols)`` and ``(Cout, cols)`` for the largest
    block's ``cols`` tiles, ``V.size // (16 * threads)`` and ``M.size // (16 * threads)``
    elements apart. Every output is computed the same way whatever the blocks and threads
    (see ``products``): only speed depends on them. Python tasks (the GIL taken between the
    steps) made one 64-channel 16x16 image on two threads 2-3x slower than on one."""
    float_arrays("forward_float", x, w, U, V, M, y)
    if x.dtype != np.float32:
        raise RuntimeError("winograd forward_float: expected float32 arrays")
    if not (x.flags.c_contiguous and w.flags.c_contiguous and V.flags.c_contiguous
            and M.flags.c_contiguous and y.flags.c_contiguous):
        raise RuntimeError("winograd forward_float: arrays must be C-contiguous")
    if x.ndim != 4 or w.ndim != 4 or y.ndim != 4 or V.ndim != 1 or M.ndim != 1:
        raise RuntimeError("winograd forward_float: expected 4-D input, weight and output")
    N, C, H, W = x.shape
    Cout = y.shape[1]
    if y.shape != (N, Cout, H, W) or w.shape != ((C, Cout) if flipped else (Cout, C)) + (3, 3):
        raise RuntimeError("winograd forward_float: input, weight and output do not match")
    su = stacked("forward_float", U, "U", Cout, C)
    if bias is not None and (not isinstance(bias, np.ndarray) or bias.dtype != x.dtype
                             or bias.shape != (Cout,) or not bias.flags.c_contiguous):
        raise RuntimeError("winograd forward_float: bias does not match the output")
    rows = N * ((H + 1) // 2)
    TW = (W + 1) // 2
    if threads < 1 or count < 1 or count > rows or C == 0 or W == 0:
        raise RuntimeError("winograd forward_float: bad thread or block count, or empty")
    most = -(-rows // count) * TW
    sv = V.size // (16 * threads)
    sm = M.size // (16 * threads)
    if sv < C * most or sm < Cout * most:
        raise RuntimeError("winograd forward_float: V or M too small for the blocks")
    _run_forward(x, w, U, V, M, y, bias, count, threads, flipped, su, sv, sm)


cdef _run_forward(const float[:, :, :, ::1] x, const float[:, :, :, ::1] w, float[:, :, :] U,
                  float[::1] V, float[::1] M, float[:, :, :, ::1] y, bias, Py_ssize_t count,
                  int threads, bint flipped, Py_ssize_t su, Py_ssize_t sv, Py_ssize_t sm):
    cdef Py_ssize_t C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t Cout = y.shape[1], rows = x.shape[0] * ((H + 1) // 2)
    cdef Py_ssize_t slen = 4 * (2 * ((W + 1) // 2) + 2) + W
    cdef int team = threads if threads < count else <int>count
    cdef Py_ssize_t p, i
    cdef int tid
    cdef const float[::1] b
    cdef const float* bp = NULL
    if bias is not None:
        b = bias
        bp = &b[0]
    cdef float* scratch = <float*> malloc(threads * slen * sizeof(float))
    if scratch == NULL:
        raise MemoryError()
    cdef float* Up = &U[0, 0, 0]
    cdef const float* wp = &w[0, 0, 0, 0]
    cdef float* Vp = &V[0]
    cdef float* Mp = &M[0]
    cdef float* yp = &y[0, 0, 0, 0]
    cdef const float* xp = &x[0, 0, 0, 0]
    with nogil, parallel(num_threads=team):
        for p in prange(team, schedule="static"):
            filter_transform_into(wp, Up + p * Cout // team * C, C if flipped else Cout,
                                  Cout if flipped else C, su, p * Cout // team,
                                  (p + 1) * Cout // team, flipped)
        ember_team_barrier()  # U is whole before any block reads it
        for i in prange(count, schedule="dynamic", chunksize=1):
            tid = threadid()
            _forward_block(xp, Up, su, Vp + tid * 16 * sv, sv, Mp + tid * 16 * sm, sm, yp, bp,
                           C, Cout, H, W, i * rows // count, (i + 1) * rows // count,
                           scratch + tid * slen)
    free(scratch)


def filter_grad_transform(dU, gw, r0=0, r1=None):
    """Output channels ``[r0, r1)`` of ``gw = G^T dU G``: the weight gradient (``(Cout,
    Cin, 3, 3)``, contiguous) from the gradient ``dU`` (``(16, Cout, Cin)``) of the
    transformed filters."""
    float_arrays("filter_grad_transform", dU, gw)
    contiguous("filter_grad_transform", gw)
    if gw.ndim != 4 or gw.shape[2:] != (3, 3):
        raise RuntimeError(
            "winograd filter_grad_transform: expected a (Cout, Cin, 3, 3) weight gradient")
    Cout, Cin = gw.shape[0], gw.shape[1]
    stacked("filter_grad_transform", dU, "dU", Cout, Cin)
    r0, r1 = row_range("filter_grad_transform", r0, Cout if r1 is None else r1, Cout)
    if r0 == r1 or Cin == 0:
        return
    for_dtype(gw.dtype, _RUN_FILTER_GRAD, "winograd filter_grad_transform")(dU, gw, r0, r1)


cdef _run_filter_grad(real[:, :, :] dU, real[:, :, :, ::1] gw, Py_ssize_t r0, Py_ssize_t r1):
    cdef Py_ssize_t ks = dU.strides[0] // sizeof(real)
    with nogil:
        filter_grad_transform_rows(&dU[0, 0, 0], ks, &gw[0, 0, 0, 0], gw.shape[0],
                                   gw.shape[1], r0, r1)


cdef _run_filter(real[:, :, :, ::1] w, real[:, :, :] U, Py_ssize_t Cout, Py_ssize_t Cin,
                 Py_ssize_t r0, Py_ssize_t r1, bint flipped):
    cdef Py_ssize_t ks = U.strides[0] // sizeof(real)
    with nogil:
        filter_transform_into(&w[0, 0, 0, 0], &U[0, r0, 0], Cout, Cin, ks, r0, r1, flipped)


cdef _run_tiles(real[:, :, :, ::1] x, real[:, :, :] V, Py_ssize_t row0, Py_ssize_t row1,
                bint grad):
    cdef Py_ssize_t C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t TW = (W + 1) // 2
    cdef Py_ssize_t ks = V.strides[0] // sizeof(real)
    cdef real* scratch = <real*> malloc((4 * (2 * TW + 2) + W) * sizeof(real))
    if scratch == NULL:
        raise MemoryError()
    with nogil:
        tile_transform_rows(&x[0, 0, 0, 0], &V[0, 0, 0], ks, C, H, W, row0, row1, grad,
                            scratch)
    free(scratch)


cdef _run_output(real[:, :, :] M, real[:, :, :, ::1] y, bias, Py_ssize_t row0,
                 Py_ssize_t row1):
    cdef Py_ssize_t Cout = y.shape[1], H = y.shape[2], W = y.shape[3]
    cdef Py_ssize_t ks = M.strides[0] // sizeof(real)
    cdef real[::1] b
    cdef const real* bp = NULL
    if bias is not None:
        b = bias
        bp = &b[0]
    cdef real* scratch = <real*> malloc(W * sizeof(real))
    if scratch == NULL:
        raise MemoryError()
    with nogil:
        output_transform_span(&M[0, 0, 0], ks, M.shape[2], &y[0, 0, 0, 0], bp, Cout, H, W,
                              row0, row1, 0, Cout, scratch)
    free(scratch)


_RUN_TILES = (_run_tiles[float], _run_tiles[double])
_RUN_FILTER = (_run_filter[float], _run_filter[double])
_RUN_OUTPUT = (_run_output[float], _run_output[double])
_RUN_FILTER_GRAD = (_run_filter_grad[float], _run_filter_grad[double])

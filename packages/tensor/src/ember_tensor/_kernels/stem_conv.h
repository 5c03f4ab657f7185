/* The register blocks of stem_conv.pyx: a direct convolution for inputs with few channels
   (an image's RGB planes into ResNet's 7x7/2 stem), where im2col + GEMM multiplies through a
   K = C*kh*kw of only ~150 at a fraction of the machine's peak.

   Written with GCC's vector extension, one register of the level the copy is built for
   (as depthwise.h): the sums stay in registers at every level. The input is read from a
   zero-bordered scratch of column phases (stem_conv.pyx's _fill_band): padded input column
   v*sw + q is phase q's column v, so the taps of a strided convolution read unstrided runs
   of one phase, and no read needs a bounds test. Instantiated for float and double.

   forward: SC_FWD_CO output channels times up to SC_FWD_PV registers of output pixels
   (consecutive columns of one output row), every tap a register load per pixel register
   and a broadcast weight per channel, its products added into all the block's sums;
   weight gradient: SC_GW_CV registers of output channels (the output gradient transposed to
   pixel-major) times SC_GW_TB taps, every pixel a broadcast input value per tap, summed over
   the pixels in order, so no horizontal sums. */
#ifndef EMBER_STEM_CONV_H
#define EMBER_STEM_CONV_H
#include <stddef.h>
#include <string.h>

#define SC_UNROLL _Pragma("GCC unroll 32")

/* AVX-512's 32 registers hold 24 sums, a block's pixel registers and a broadcast; AVX2's and
   SSE's 16 hold 12. The AVX-512 copy's registers are 256-bit (ymm0-31): on Zen 4, which
   splits a zmm operation in two, one thread ran as fast as with zmm and two faster (why
   was not measured; both cores' clocks under zmm are a guess). 2 threads, best of 7
   medians, alternating processes, zmm -> ymm: forward 1x3x224 1237-1249 -> 1181-1201 us,
   16x224 20.6-20.9 -> 19.6-20.1 ms; weight gradient 1x64 105-123 -> 98-113 us, 1x224
   1253-1274 -> 1173-1204 us, 16x64 1745 -> 1710 us; 1 thread level (forward 1x224
   2225 / 2220 us, gradient 1x64 187 / 187) */
#if defined(__AVX512F__)
#define SC_REG_BYTES 32
#define SC_FWD_CO 8
#define SC_GW_CV 4
#define SC_GW_TB 6
#elif defined(__AVX__)
#define SC_REG_BYTES 32
#define SC_FWD_CO 4
#define SC_GW_CV 3
#define SC_GW_TB 4
#else
#define SC_REG_BYTES 16
#define SC_FWD_CO 4
#define SC_GW_CV 3
#define SC_GW_TB 4
#endif
#define SC_FWD_PV 3
typedef float sc_reg_float __attribute__((vector_size(SC_REG_BYTES)));
typedef double sc_reg_double __attribute__((vector_size(SC_REG_BYTES)));

/* o[c*orow + oofs[p] + l] = bias[c] + sum over t < nt (in order) of
   w[t*SC_FWD_CO + c] * x[xofs[p] + toff[t] + l], for c < nco, p < PV, l < nval[p]; the lanes
   from nval[p] to a register are summed too (x must be readable there) and dropped.
   w and bias hold SC_FWD_CO channels (zeros past nco). */
#define EMBER_SC_FWD(T, PV) \
static inline void sc_fwd##PV##_##T(const T* x, const ptrdiff_t* xofs, const T* w, \
        const ptrdiff_t* toff, ptrdiff_t nt, const T* bias, T* o, ptrdiff_t orow, \
        const ptrdiff_t* oofs, const ptrdiff_t* nval, int nco) { \
    enum { L = sizeof(sc_reg_##T) / sizeof(T) }; \
    sc_reg_##T acc[SC_FWD_CO][PV]; \
    const T* xp[PV]; \
    SC_UNROLL for (int p = 0; p < PV; p++) xp[p] = x + xofs[p]; \
    SC_UNROLL for (int c = 0; c < SC_FWD_CO; c++) \
        SC_UNROLL for (int p = 0; p < PV; p++) acc[c][p] = (sc_reg_##T){0} + bias[c]; \
    for (ptrdiff_t t = 0; t < nt; t++) { \
        const ptrdiff_t off = toff[t]; \
        const T* wt = w + t * SC_FWD_CO; \
        sc_reg_##T xv[PV]; \
        SC_UNROLL for (int p = 0; p < PV; p++) memcpy(&xv[p], xp[p] + off, sizeof xv[p]); \
        SC_UNROLL for (int c = 0; c < SC_FWD_CO; c++) { \
            const T wc = wt[c]; \
            SC_UNROLL for (int p = 0; p < PV; p++) acc[c][p] += wc * xv[p]; \
        } \
    } \
    /* a whole block (every channel, every lane) stores straight from the registers; only \
       the edge blocks go lane by lane, through a copy, so that no store indexes acc with a \
       variable (gcc would then keep all of acc on the stack and copy it there and back) */ \
    ptrdiff_t oo[PV]; \
    int full = nco == SC_FWD_CO; \
    SC_UNROLL for (int p = 0; p < PV; p++) { oo[p] = oofs[p]; full &= nval[p] == L; } \
    if (full) { \
        SC_UNROLL for (int c = 0; c < SC_FWD_CO; c++) \
            SC_UNROLL for (int p = 0; p < PV; p++) \
                memcpy(o + c * orow + oo[p], &acc[c][p], sizeof acc[c][p]); \
        return; \
    } \
    SC_UNROLL for (int c = 0; c < SC_FWD_CO; c++) \
        if (c < nco) SC_UNROLL for (int p = 0; p < PV; p++) { \
            T lanes[L]; \
            memcpy(lanes, &acc[c][p], sizeof lanes); \
            for (ptrdiff_t l = 0; l < nval[p]; l++) o[c * orow + oo[p] + l] = lanes[l]; \
        } \
}

#define EMBER_SC_FWDS(T) \
EMBER_SC_FWD(T, 1) EMBER_SC_FWD(T, 2) EMBER_SC_FWD(T, 3) \
/* sc_fwdPV for the first 1 <= np <= SC_FWD_PV pixel registers */ \
static inline void sc_fwd_##T(const T* x, const ptrdiff_t* xofs, const T* w, \
        const ptrdiff_t* toff, ptrdiff_t nt, const T* bias, T* o, ptrdiff_t orow, \
        const ptrdiff_t* oofs, const ptrdiff_t* nval, int nco, int np) { \
    switch (np) { \
    case 3: sc_fwd3_##T(x, xofs, w, toff, nt, bias, o, orow, oofs, nval, nco); break; \
    case 2: sc_fwd2_##T(x, xofs, w, toff, nt, bias, o, orow, oofs, nval, nco); break; \
    default: sc_fwd1_##T(x, xofs, w, toff, nt, bias, o, orow, oofs, nval, nco); break; \
    } \
}

EMBER_SC_FWDS(float)
EMBER_SC_FWDS(double)

/* s[t*srow + k*L + l] += sum over rows r < nr, columns v < n (in that order) of
   g[(r*n + v)*grow + k*L + l] * x[r*xrow + v + toff[t]], for t < TB, k < CV, and the
   L lanes of a register: TB taps by CV registers of output channels. g is the output
   gradient pixel-major (channels padded with zeros to whole registers), so the sums over
   pixels need no horizontal sums and go straight to the channel-major-per-tap s. Each tap's
   sums are its own: a block of fewer taps gives every tap the same bits. */
/* sc_gw<CV>x<TB>_<T> (a tail block: sc_gwtail<CV>x<TB>_<T>), the arguments expanded first
   (SC_GW_TB, SC_GW_CV) */
#define SC_GW_NAME(CV, TB, T) SC_GW_NAME_(CV, TB, T)
#define SC_GW_NAME_(CV, TB, T) sc_gw##CV##x##TB##_##T
#define SC_GWT_NAME(CV, TB, T) SC_GWT_NAME_(CV, TB, T)
#define SC_GWT_NAME_(CV, TB, T) sc_gwtail##CV##x##TB##_##T
#define EMBER_SC_GW(NAME, T, CV, TB) \
static inline void NAME(const T* g, ptrdiff_t grow, const T* x, \
        ptrdiff_t xrow, const ptrdiff_t* toff, ptrdiff_t nr, ptrdiff_t n, T* s, \
        ptrdiff_t srow) { \
    enum { L = sizeof(sc_reg_##T) / sizeof(T) }; \
    sc_reg_##T acc[TB][CV]; \
    SC_UNROLL for (int t = 0; t < TB; t++) \
        SC_UNROLL for (int k = 0; k < CV; k++) \
            memcpy(&acc[t][k], s + t * srow + k * L, sizeof acc[t][k]); \
    for (ptrdiff_t r = 0; r < nr; r++) { \
        const T* gr = g + r * n * grow; \
        const T* xr[TB]; \
        SC_UNROLL for (int t = 0; t < TB; t++) xr[t] = x + r * xrow + toff[t]; \
        for (ptrdiff_t v = 0; v < n; v++) { \
            sc_reg_##T gv[CV]; \
            SC_UNROLL for (int k = 0; k < CV; k++) \
                memcpy(&gv[k], gr + v * grow + k * L, sizeof gv[k]); \
            SC_UNROLL for (int t = 0; t < TB; t++) { \
                const T xs = xr[t][v]; \
                SC_UNROLL for (int k = 0; k < CV; k++) acc[t][k] += gv[k] * xs; \
            } \
        } \
    } \
    SC_UNROLL for (int t = 0; t < TB; t++) \
        SC_UNROLL for (int k = 0; k < CV; k++) \
            memcpy(s + t * srow + k * L, &acc[t][k], sizeof acc[t][k]); \
}

/* the last block of a tap count that SC_GW_TB does not divide (the stem's 147 = 24*6 + 3):
   its own narrower block at the full channel width, not padding taps that read the
   scratch's start and are dropped (3 of the stem's 150 tap sums, 2% of its work) */
#define EMBER_SC_GW_TAIL(T) \
EMBER_SC_GW(SC_GWT_NAME(SC_GW_CV, 1, T), T, SC_GW_CV, 1) \
EMBER_SC_GW(SC_GWT_NAME(SC_GW_CV, 2, T), T, SC_GW_CV, 2) \
EMBER_SC_GW(SC_GWT_NAME(SC_GW_CV, 3, T), T, SC_GW_CV, 3) \
EMBER_SC_GW(SC_GWT_NAME(SC_GW_CV, 4, T), T, SC_GW_CV, 4) \
EMBER_SC_GW(SC_GWT_NAME(SC_GW_CV, 5, T), T, SC_GW_CV, 5)

#define SC_GW_TAIL_CALL(T, NT) \
    case NT: SC_GWT_NAME(SC_GW_CV, NT, T)(g, grow, x, xrow, toff, nr, n, s, srow); return;

#define EMBER_SC_GWS(T) \
EMBER_SC_GW(SC_GW_NAME(1, SC_GW_TB, T), T, 1, SC_GW_TB) \
EMBER_SC_GW(SC_GW_NAME(2, SC_GW_TB, T), T, 2, SC_GW_TB) \
EMBER_SC_GW(SC_GW_NAME(3, SC_GW_TB, T), T, 3, SC_GW_TB) \
EMBER_SC_GW(SC_GW_NAME(4, SC_GW_TB, T), T, 4, SC_GW_TB) EMBER_SC_GW_TAIL(T) \
/* the block of nt <= SC_GW_TB taps by 1 <= cv <= SC_GW_CV channel registers (fewer taps \
   only at the full width: any other block of fewer taps is padded to SC_GW_TB) */ \
static inline void sc_gw_##T(const T* g, ptrdiff_t grow, const T* x, ptrdiff_t xrow, \
        const ptrdiff_t* toff, ptrdiff_t nr, ptrdiff_t n, T* s, ptrdiff_t srow, int cv, \
        int nt) { \
    if (nt < SC_GW_TB && cv == SC_GW_CV) { \
        switch (nt) { \
        SC_GW_TAIL_CALL(T, 1) SC_GW_TAIL_CALL(T, 2) SC_GW_TAIL_CALL(T, 3) \
        SC_GW_TAIL_CALL(T, 4) SC_GW_TAIL_CALL(T, 5) \
        default: break; \
        } \
    } \
    switch (cv) { \
    case 4: SC_GW_NAME(4, SC_GW_TB, T)(g, grow, x, xrow, toff, nr, n, s, srow); break; \
    case 3: SC_GW_NAME(3, SC_GW_TB, T)(g, grow, x, xrow, toff, nr, n, s, srow); break; \
    case 2: SC_GW_NAME(2, SC_GW_TB, T)(g, grow, x, xrow, toff, nr, n, s, srow); break; \
    default: SC_GW_NAME(1, SC_GW_TB, T)(g, grow, x, xrow, toff, nr, n, s, srow); break; \
    } \
}

EMBER_SC_GWS(float)
EMBER_SC_GWS(double)

/* d[p*drow + c] = s[c*srow + p] for c < nc, p < np: the weight gradient's transpose of
   the output gradient to pixel-major, in 8x8 (float) or 4x4 (double) register tiles of
   three (two) rounds of two-input shuffles; the edges element by element */
typedef float sc_tile_float __attribute__((vector_size(32)));
typedef int sc_tmask_float __attribute__((vector_size(32)));
typedef double sc_tile_double __attribute__((vector_size(32)));
typedef long long sc_tmask_double __attribute__((vector_size(32)));

static inline void sc_tile_transpose_float(const float* s, ptrdiff_t srow, float* d,
        ptrdiff_t drow) {
    const sc_tmask_float lo = {0, 8, 1, 9, 4, 12, 5, 13}, hi = {2, 10, 3, 11, 6, 14, 7, 15};
    const sc_tmask_float lo2 = {0, 1, 8, 9, 4, 5, 12, 13}, hi2 = {2, 3, 10, 11, 6, 7, 14, 15};
    const sc_tmask_float lo4 = {0, 1, 2, 3, 8, 9, 10, 11}, hi4 = {4, 5, 6, 7, 12, 13, 14, 15};
    sc_tile_float r[8], t[8], u[8];
    SC_UNROLL for (int i = 0; i < 8; i++) memcpy(&r[i], s + i * srow, sizeof r[i]);
    SC_UNROLL for (int i = 0; i < 8; i += 2) {
        t[i] = __builtin_shuffle(r[i], r[i + 1], lo);
        t[i + 1] = __builtin_shuffle(r[i], r[i + 1], hi);
    }
    SC_UNROLL for (int i = 0; i < 8; i += 4) {
        u[i] = __builtin_shuffle(t[i], t[i + 2], lo2);
        u[i + 1] = __builtin_shuffle(t[i], t[i + 2], hi2);
        u[i + 2] = __builtin_shuffle(t[i + 1], t[i + 3], lo2);
        u[i + 3] = __builtin_shuffle(t[i + 1], t[i + 3], hi2);
    }
    SC_UNROLL for (int j = 0; j < 4; j++) {
        const sc_tile_float a = __builtin_shuffle(u[j], u[j + 4], lo4);
        const sc_tile_float b = __builtin_shuffle(u[j], u[j + 4], hi4);
        memcpy(d + j * drow, &a, sizeof a);
        memcpy(d + (j + 4) * drow, &b, sizeof b);
    }
}

static inline void sc_tile_transpose_double(const double* s, ptrdiff_t srow, double* d,
        ptrdiff_t drow) {
    const sc_tmask_double lo = {0, 4, 2, 6}, hi = {1, 5, 3, 7};
    const sc_tmask_double lo2 = {0, 1, 4, 5}, hi2 = {2, 3, 6, 7};
    sc_tile_double r[4], t[4];
    SC_UNROLL for (int i = 0; i < 4; i++) memcpy(&r[i], s + i * srow, sizeof r[i]);
    SC_UNROLL for (int i = 0; i < 4; i += 2) {
        t[i] = __builtin_shuffle(r[i], r[i + 1], lo);
        t[i + 1] = __builtin_shuffle(r[i], r[i + 1], hi);
    }
    SC_UNROLL for (int j = 0; j < 2; j++) {
        const sc_tile_double a = __builtin_shuffle(t[j], t[j + 2], lo2);
        const sc_tile_double b = __builtin_shuffle(t[j], t[j + 2], hi2);
        memcpy(d + j * drow, &a, sizeof a);
        memcpy(d + (j + 2) * drow, &b, sizeof b);
    }
}

#define EMBER_SC_TRANSPOSE(T, TL) \
static inline void sc_transpose_##T(const T* s, ptrdiff_t srow, ptrdiff_t nc, ptrdiff_t np, \
        T* d, ptrdiff_t drow) { \
    ptrdiff_t c = 0, p; \
    for (; c + TL <= nc; c += TL) { \
        for (p = 0; p + TL <= np; p += TL) \
            sc_tile_transpose_##T(s + c * srow + p, srow, d + p * drow + c, drow); \
        for (; p < np; p++) \
            for (ptrdiff_t k = 0; k < TL; k++) d[p * drow + c + k] = s[(c + k) * srow + p]; \
    } \
    for (; c < nc; c++) \
        for (p = 0; p < np; p++) d[p * drow + c] = s[c * srow + p]; \
}

EMBER_SC_TRANSPOSE(float, 8)
EMBER_SC_TRANSPOSE(double, 4)

/* lanes of one register: the scratch's columns and the channel padding are whole registers */
#define SC_LANES_FLOAT ((int)(SC_REG_BYTES / sizeof(float)))
#define SC_LANES_DOUBLE ((int)(SC_REG_BYTES / sizeof(double)))

#endif

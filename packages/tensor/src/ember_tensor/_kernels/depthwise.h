/* Depthwise convolution's register blocks (depthwise.pyx), in C for one reason: GCC's vector
   extension. Written in Cython, a ROWS x COLS block of running sums becomes a 16-iteration
   loop that gcc unrolls before its loop vectoriser sees it, and then packs 128 bits at a
   time; as vector values they stay in registers whatever level the copy is built for.
   Every load is contiguous: the caller lays the input plane out as zero-bordered column
   phases (depthwise.pyx's _phases), so a strided or dilated tap is still an unstrided
   run of one phase, and no output needs a bounds test. Instantiated for float and double;
   depthwise.pyx's fused wrappers pick one. */
#ifndef EMBER_DEPTHWISE_H
#define EMBER_DEPTHWISE_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define DW_COLS 16

#define DW_UNROLL _Pragma("GCC unroll 32")

/* every block's vectors: one register of the level the copy is built for (a 64-byte vector
   type below AVX-512 was lowered through the stack), so that the gather's sums and
   DW_DOT_TAPS of the weight gradient's fit in the register file at every level */
#if defined(__AVX512F__)
#define DW_REG_BYTES 64
#elif defined(__AVX__)
#define DW_REG_BYTES 32
#else
#define DW_REG_BYTES 16
#endif
#define DW_DOT_TAPS 12
typedef float dw_reg_float __attribute__((vector_size(DW_REG_BYTES)));
typedef double dw_reg_double __attribute__((vector_size(DW_REG_BYTES)));
typedef int32_t dw_mask_float __attribute__((vector_size(DW_REG_BYTES)));
typedef int64_t dw_mask_double __attribute__((vector_size(DW_REG_BYTES)));

/* o[r*orow + v] = (add ? o[...] : b) + sum over i < ni, j < kw (in that order) of
   w[i*kw + j] * x[r*xrow + i*xtap + joff[j] + v], for r < NR, v < DW_COLS */
#define EMBER_DW_GATHER(T, NR) \
static inline void dw_gather##NR##_##T(const T* x, const T* w, T* o, T b, int add, \
        ptrdiff_t ni, ptrdiff_t kw, ptrdiff_t xrow, ptrdiff_t xtap, const ptrdiff_t* joff, \
        ptrdiff_t orow) { \
    enum { L = sizeof(dw_reg_##T) / sizeof(T), NV = DW_COLS / L }; \
    dw_reg_##T acc[NR][NV]; \
    DW_UNROLL for (int r = 0; r < NR; r++) \
        DW_UNROLL for (int k = 0; k < NV; k++) { \
            if (add) memcpy(&acc[r][k], o + r * orow + k * L, sizeof(dw_reg_##T)); \
            else acc[r][k] = (dw_reg_##T){0} + b; \
        } \
    for (ptrdiff_t i = 0; i < ni; i++) \
        for (ptrdiff_t j = 0; j < kw; j++) { \
            const T t = w[i * kw + j]; \
            const T* xt = x + i * xtap + joff[j]; \
            DW_UNROLL for (int r = 0; r < NR; r++) \
                DW_UNROLL for (int k = 0; k < NV; k++) { \
                    dw_reg_##T xv; \
                    memcpy(&xv, xt + r * xrow + k * L, sizeof xv); \
                    acc[r][k] += t * xv; \
                } \
        } \
    DW_UNROLL for (int r = 0; r < NR; r++) \
        DW_UNROLL for (int k = 0; k < NV; k++) \
            memcpy(o + r * orow + k * L, &acc[r][k], sizeof(dw_reg_##T)); \
}

#define EMBER_DW_GATHERS(T) \
EMBER_DW_GATHER(T, 4) EMBER_DW_GATHER(T, 1) \
/* the block of nr = 4 rows or 1 */ \
static inline void dw_gather_##T(const T* x, const T* w, T* o, T b, int add, int nr, \
        ptrdiff_t ni, ptrdiff_t kw, ptrdiff_t xrow, ptrdiff_t xtap, const ptrdiff_t* joff, \
        ptrdiff_t orow) { \
    if (nr == 4) dw_gather4_##T(x, w, o, b, add, ni, kw, xrow, xtap, joff, orow); \
    else dw_gather1_##T(x, w, o, b, add, ni, kw, xrow, xtap, joff, orow); \
}

EMBER_DW_GATHERS(float)
EMBER_DW_GATHERS(double)

/* The stride-1, undilated KH x KW gather (3x3: MobileNet's; 5x5 rolls below) over
   NR output rows and every column: o[r*orow + v] = (add ? o[...] : b) + sum over i < KH,
   j < KW (in that order) of w[i*KW + j] * x[(r + i)*xrow + j + v], for r < NR, v < n. Unlike
   dw_gather's runtime taps, the taps are constants: the weights stay in registers across the
   row, and each input register is loaded once per column shift and added into every output
   row it feeds (NR + KH - 1 rows of loads for NR * KH rows of sums). One register of the
   level a column block; the last n % L columns are summed in a full register (x must be
   readable past n by the width of one) and only their n % L lanes stored. */
/* one block of the columns v..v+M-1 (M <= LN, the lanes of VT; WV: the weights in VT):
   loads, sums and stores of dw_rows below, written once for the full blocks (M = LN, a
   constant) and the last one */
#define DW_ROWS_BLOCK(VT, LN, WV, KH, KW, NR, M) { \
    VT acc[NR]; \
    DW_UNROLL for (int r = 0; r < NR; r++) DW_START(VT, LN, acc[r], o + r * orow + v, M) \
    DW_UNROLL for (int ir = 0; ir < NR + KH - 1; ir++) \
        DW_UNROLL for (int j = 0; j < KW; j++) { \
            VT xv; \
            memcpy(&xv, x + ir * xrow + j + v, sizeof xv); \
            DW_UNROLL for (int i = 0; i < KH; i++) \
                if (ir - i >= 0 && ir - i < NR) acc[ir - i] += WV[i * KW + j] * xv; \
        } \
    DW_UNROLL for (int r = 0; r < NR; r++) DW_STORE(VT, LN, o + r * orow + v, acc[r], M) \
}
/* From AVX2 up, a last block of at most half a register is summed in a half register: 56
   columns are 3.5 AVX-512 registers, and a full fourth would cost 1/8 more multiply-adds */
#if DW_REG_BYTES >= 32
typedef float dw_half_float __attribute__((vector_size(DW_REG_BYTES / 2)));
typedef double dw_half_double __attribute__((vector_size(DW_REG_BYTES / 2)));
#define DW_ROWS_HALF(T, KH, KW, NR) \
    if (m <= L / 2) { \
        dw_half_##T wh[KH * KW]; \
        DW_UNROLL for (int k = 0; k < KH * KW; k++) wh[k] = (dw_half_##T){0} + w[k]; \
        DW_ROWS_BLOCK(dw_half_##T, L / 2, wh, KH, KW, NR, m) \
    } else
#else
#define DW_ROWS_HALF(T, KH, KW, NR)
#endif
/* The first m lanes of a register from or to memory (a last partial block; the lanes past
   m read as zero and are not written): one masked move at AVX-512 (the row's 28 columns
   are 16 + 12), lane by lane below it */
#if defined(__AVX512F__)
#include <immintrin.h>
#define DW_PART(VT, T, BITS, SFX, MASK) \
static inline VT dw_load_part_##VT(const T* p, int m) { \
    return (VT)_mm##BITS##_maskz_loadu_##SFX((MASK)((1u << m) - 1), p); } \
static inline void dw_store_part_##VT(T* p, VT v, int m) { \
    _mm##BITS##_mask_storeu_##SFX(p, (MASK)((1u << m) - 1), v); }
DW_PART(dw_reg_float, float, 512, ps, __mmask16)
DW_PART(dw_reg_double, double, 512, pd, __mmask8)
DW_PART(dw_half_float, float, 256, ps, __mmask8)
DW_PART(dw_half_double, double, 256, pd, __mmask8)
#else
#define DW_PART(VT, T) \
static inline VT dw_load_part_##VT(const T* p, int m) { \
    VT v = {0}; \
    for (int l = 0; l < m; l++) v[l] = p[l]; \
    return v; } \
static inline void dw_store_part_##VT(T* p, VT v, int m) { \
    for (int l = 0; l < m; l++) p[l] = v[l]; }
DW_PART(dw_reg_float, float)
DW_PART(dw_reg_double, double)
#if DW_REG_BYTES >= 32
DW_PART(dw_half_float, float)
DW_PART(dw_half_double, double)
#endif
#endif
/* a running sum's start: b, or (add) the M <= LN output columns at p already there; and
   its store back */
#define DW_START(VT, LN, A, P, M) { \
    if (!add) (A) = (VT){0} + b; \
    else if ((M) == (LN)) memcpy(&(A), (P), sizeof(VT)); \
    else (A) = dw_load_part_##VT((P), (M)); \
}
#define DW_STORE(VT, LN, P, A, M) { \
    if ((M) == (LN)) memcpy((P), &(A), sizeof(VT)); \
    else dw_store_part_##VT((P), (A), (M)); \
}
#define EMBER_DW_ROWS(T, KH, KW, NR) \
static inline void dw_rows##KH##x##KW##_##NR##_##T(const T* x, const T* w, T* o, T b, \
        int add, ptrdiff_t n, ptrdiff_t xrow, ptrdiff_t orow) { \
    enum { L = sizeof(dw_reg_##T) / sizeof(T) }; \
    dw_reg_##T wv[KH * KW]; \
    ptrdiff_t v = 0; \
    DW_UNROLL for (int k = 0; k < KH * KW; k++) wv[k] = (dw_reg_##T){0} + w[k]; \
    for (; v + L <= n; v += L) DW_ROWS_BLOCK(dw_reg_##T, L, wv, KH, KW, NR, L) \
    if (v < n) { \
        const int m = (int)(n - v); \
        DW_ROWS_HALF(T, KH, KW, NR) \
        DW_ROWS_BLOCK(dw_reg_##T, L, wv, KH, KW, NR, m) \
    } \
}

#define EMBER_DW_ROWS_KERNEL(T, KH, KW) \
EMBER_DW_ROWS(T, KH, KW, 1) EMBER_DW_ROWS(T, KH, KW, 2) EMBER_DW_ROWS(T, KH, KW, 3) \
EMBER_DW_ROWS(T, KH, KW, 4) \
/* nr (1 to DW_ROWS_NR) rows of the KH x KW gather */ \
static inline void dw_rows##KH##x##KW##_##T(const T* x, const T* w, T* o, T b, int add, \
        int nr, ptrdiff_t n, ptrdiff_t xrow, ptrdiff_t orow) { \
    switch (nr) { \
    case 4: dw_rows##KH##x##KW##_4_##T(x, w, o, b, add, n, xrow, orow); break; \
    case 3: dw_rows##KH##x##KW##_3_##T(x, w, o, b, add, n, xrow, orow); break; \
    case 2: dw_rows##KH##x##KW##_2_##T(x, w, o, b, add, n, xrow, orow); break; \
    default: dw_rows##KH##x##KW##_1_##T(x, w, o, b, add, n, xrow, orow); break; \
    } \
}
#define DW_ROWS_NR 4

EMBER_DW_ROWS_KERNEL(float, 3, 3)
EMBER_DW_ROWS_KERNEL(double, 3, 3)

/* The stride-1, undilated K x K gather rolled down the rows (5x5: EfficientNet's), the same
   sums as dw_rows (each output's taps in row-major order, one running sum) over nr output
   rows, but one column block at a time from the top row to the bottom: each input row's
   K column shifts are loaded once and added into the K output rows they feed, and output
   row r's running sum lives in slot r % K of K registers, stored when its last input row
   is in. Per input row K loads for K*K multiply-adds (dw_rows' 4-row blocks: 8*K for 4*K*K),
   and the K independent sums keep the multiply-add pipes full where dw_rows' 4 could not
   (4 cycles of latency each). The block's input rows must be in L1 for the column blocks
   after the first: the caller hands over bands of a few tens of rows. Slots are constants
   because each K steps are unrolled from an input row that is a multiple of K. Which rows
   a step near the top or bottom has is a constant too (a step testing them at run time
   cost twice an untested one): TOP, that r0 is 0; F, the output rows from r0 on (DW_MANY:
   more than any step reaches), so a step U has input row r0 + U if U < F + K - 1. */
#define DW_MANY 64
#define DW_ROLL_STEP(VT, LN, WV, K, M, U, TOP, F) if ((U) < (F) + K - 1) { \
    const ptrdiff_t ir = r0 + (U); \
    if ((U) < (F)) DW_START(VT, LN, acc[(U) % K], o + ir * orow + v, M) \
    DW_UNROLL for (int j = 0; j < K; j++) { \
        VT xv; \
        memcpy(&xv, x + ir * xrow + v + j, sizeof xv); \
        DW_UNROLL for (int i = 0; i < K; i++) \
            if ((!(TOP) || (U) - i >= 0) && (U) - i < (F)) \
                acc[((U) - i + K) % K] += WV[i * K + j] * xv; \
    } \
    if ((!(TOP) || (U) >= K - 1) && (U) - (K - 1) < (F)) \
        DW_STORE(VT, LN, o + (ir - (K - 1)) * orow + v, acc[((U) + 1) % K], M) \
}
/* the steps U < NS (at most 2K - 2, K <= 5) from input row r0, a multiple of K */
#define DW_ROLL_STEPS(VT, LN, WV, K, M, TOP, F, NS) { \
    DW_ROLL_STEP(VT, LN, WV, K, M, 0, TOP, F) \
    if (1 < (NS)) DW_ROLL_STEP(VT, LN, WV, K, M, 1, TOP, F) \
    if (2 < (NS)) DW_ROLL_STEP(VT, LN, WV, K, M, 2, TOP, F) \
    if (3 < (NS)) DW_ROLL_STEP(VT, LN, WV, K, M, 3, TOP, F) \
    if (4 < (NS)) DW_ROLL_STEP(VT, LN, WV, K, M, 4, TOP, F) \
    if (5 < (NS)) DW_ROLL_STEP(VT, LN, WV, K, M, 5, TOP, F) \
    if (6 < (NS)) DW_ROLL_STEP(VT, LN, WV, K, M, 6, TOP, F) \
    if (7 < (NS)) DW_ROLL_STEP(VT, LN, WV, K, M, 7, TOP, F) \
}
/* all the steps left when F (< K, a constant) output rows remain from r0 */
#define DW_ROLL_LAST(VT, LN, WV, K, M, TOP, F) \
    case F: DW_ROLL_STEPS(VT, LN, WV, K, M, TOP, F, (F) + K - 1) break;
/* the columns v..v+M-1 of every row: fewer than K rows in one go; otherwise the first K
   input rows, K at a time while every row of the group is an output row, then the rest */
#define DW_ROLL_BLOCK(VT, LN, WV, K, M) { \
    VT acc[K] = {{0}}; /* every slot is set before it is read; this keeps -Wall quiet */ \
    ptrdiff_t r0 = 0; \
    if (nr < K) { \
        switch (nr) { \
        DW_ROLL_LAST(VT, LN, WV, K, M, 1, 1) DW_ROLL_LAST(VT, LN, WV, K, M, 1, 2) \
        DW_ROLL_LAST(VT, LN, WV, K, M, 1, 3) DW_ROLL_LAST(VT, LN, WV, K, M, 1, 4) \
        } \
    } else { \
        DW_ROLL_STEPS(VT, LN, WV, K, M, 1, DW_MANY, K) \
        for (r0 = K; r0 + K - 1 < nr; r0 += K) DW_ROLL_STEPS(VT, LN, WV, K, M, 0, DW_MANY, K) \
        switch (nr - r0) { \
        DW_ROLL_LAST(VT, LN, WV, K, M, 0, 0) DW_ROLL_LAST(VT, LN, WV, K, M, 0, 1) \
        DW_ROLL_LAST(VT, LN, WV, K, M, 0, 2) DW_ROLL_LAST(VT, LN, WV, K, M, 0, 3) \
        DW_ROLL_LAST(VT, LN, WV, K, M, 0, 4) \
        } \
    } \
}
#if DW_REG_BYTES >= 32
#define DW_ROLL_HALF(T, K) \
    if (m <= L / 2) { \
        dw_half_##T wh[K * K]; \
        DW_UNROLL for (int k = 0; k < K * K; k++) wh[k] = (dw_half_##T){0} + w[k]; \
        DW_ROLL_BLOCK(dw_half_##T, L / 2, wh, K, m) \
    } else
#else
#define DW_ROLL_HALF(T, K)
#endif
/* o[r*orow + v] = (add ? o[...] : b) + sum over i, j < K (in that order) of
   w[i*K + j] * x[(r + i)*xrow + j + v], for r < nr, v < n; x readable past n by the width
   of one register (a last partial block is summed in a full register, or a half one when
   at most half full, and only its columns stored) */
#define EMBER_DW_ROLL(T, K) \
static inline void dw_roll##K##x##K##_##T(const T* x, const T* w, T* o, T b, int add, \
        ptrdiff_t nr, ptrdiff_t n, ptrdiff_t xrow, ptrdiff_t orow) { \
    enum { L = sizeof(dw_reg_##T) / sizeof(T) }; \
    dw_reg_##T wv[K * K]; \
    ptrdiff_t v = 0; \
    DW_UNROLL for (int k = 0; k < K * K; k++) wv[k] = (dw_reg_##T){0} + w[k]; \
    for (; v + L <= n; v += L) DW_ROLL_BLOCK(dw_reg_##T, L, wv, K, L) \
    if (v < n) { \
        const int m = (int)(n - v); \
        DW_ROLL_HALF(T, K) \
        DW_ROLL_BLOCK(dw_reg_##T, L, wv, K, m) \
    } \
}

EMBER_DW_ROLL(float, 5)
EMBER_DW_ROLL(double, 5)

/* s[k] += sum over r < nr, v < n of g[r*grow + v] * x[koff[k] + r*xrow + v], for k < NT: the
   weight gradient of NT taps at once, each a running vector of sums, one load of g shared by
   the taps. A row's last partial register takes g through a zeroed copy and masks x (not a
   multiply by zero: an infinite x past the row must not turn the sum into a NaN); x must be
   readable up to the register past n. */
#define EMBER_DW_DOT(T, NT) \
static inline void dw_dot##NT##_##T(const T* g, const T* x, const ptrdiff_t* koff, T* s, \
        ptrdiff_t nr, ptrdiff_t n, ptrdiff_t grow, ptrdiff_t xrow) { \
    enum { L = sizeof(dw_reg_##T) / sizeof(T) }; \
    dw_reg_##T acc[NT], gv, xv; \
    dw_mask_##T keep = {0}; \
    const ptrdiff_t full = n / L * L; \
    for (int k = 0; k < NT; k++) acc[k] = (dw_reg_##T){0}; \
    for (ptrdiff_t v = 0; v < n - full; v++) keep[v] = -1; \
    for (ptrdiff_t r = 0; r < nr; r++) { \
        const T* gr = g + r * grow; \
        const T* xr = x + r * xrow; \
        for (ptrdiff_t v = 0; v < full; v += L) { \
            memcpy(&gv, gr + v, sizeof gv); \
            for (int k = 0; k < NT; k++) { \
                memcpy(&xv, xr + koff[k] + v, sizeof xv); \
                acc[k] += gv * xv; \
            } \
        } \
        if (full < n) { \
            gv = (dw_reg_##T){0}; \
            memcpy(&gv, gr + full, (n - full) * sizeof(T)); \
            for (int k = 0; k < NT; k++) { \
                memcpy(&xv, xr + koff[k] + full, sizeof xv); \
                acc[k] += gv * (dw_reg_##T)((dw_mask_##T)xv & keep); \
            } \
        } \
    } \
    for (int k = 0; k < NT; k++) { \
        T sum = 0; \
        for (int l = 0; l < L; l++) sum += acc[k][l]; \
        s[k] += sum; \
    } \
}

#define EMBER_DW_DOTS(T) \
EMBER_DW_DOT(T, 1) EMBER_DW_DOT(T, 2) EMBER_DW_DOT(T, 3) EMBER_DW_DOT(T, 4) \
EMBER_DW_DOT(T, 5) EMBER_DW_DOT(T, 6) EMBER_DW_DOT(T, 7) EMBER_DW_DOT(T, 8) \
EMBER_DW_DOT(T, 9) EMBER_DW_DOT(T, 10) EMBER_DW_DOT(T, 11) EMBER_DW_DOT(T, 12) \
/* dw_dotNT for 1 <= nt <= DW_DOT_TAPS */ \
static inline void dw_dot_##T(const T* g, const T* x, const ptrdiff_t* koff, T* s, int nt, \
        ptrdiff_t nr, ptrdiff_t n, ptrdiff_t grow, ptrdiff_t xrow) { \
    switch (nt) { \
    case 1: dw_dot1_##T(g, x, koff, s, nr, n, grow, xrow); break; \
    case 2: dw_dot2_##T(g, x, koff, s, nr, n, grow, xrow); break; \
    case 3: dw_dot3_##T(g, x, koff, s, nr, n, grow, xrow); break; \
    case 4: dw_dot4_##T(g, x, koff, s, nr, n, grow, xrow); break; \
    case 5: dw_dot5_##T(g, x, koff, s, nr, n, grow, xrow); break; \
    case 6: dw_dot6_##T(g, x, koff, s, nr, n, grow, xrow); break; \
    case 7: dw_dot7_##T(g, x, koff, s, nr, n, grow, xrow); break; \
    case 8: dw_dot8_##T(g, x, koff, s, nr, n, grow, xrow); break; \
    case 9: dw_dot9_##T(g, x, koff, s, nr, n, grow, xrow); break; \
    case 10: dw_dot10_##T(g, x, koff, s, nr, n, grow, xrow); break; \
    case 11: dw_dot11_##T(g, x, koff, s, nr, n, grow, xrow); break; \
    default: dw_dot12_##T(g, x, koff, s, nr, n, grow, xrow); break; \
    } \
}

EMBER_DW_DOTS(float)
EMBER_DW_DOTS(double)

#endif

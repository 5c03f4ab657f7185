/* Winograd F(2x2, 3x3)'s innermost loops (winograd.pyx), in C for one reason: `restrict`.
   Each loop touches 5-16 arrays; without the promise that they do not overlap, gcc would need
   more runtime overlap checks than it is willing to emit (10) and leaves the loop scalar.
   Written once, instantiated for float and double (and again as the always-inlined *_fixed_
   copies the fixed-width row functions below are built from); winograd.pxd's fused wrappers
   pick one. */
#ifndef EMBER_WINOGRAD_H
#define EMBER_WINOGRAD_H
#include <stddef.h>

#define EMBER_WG_LOOPS(T, S, Q) \
/* vertical half of B^T d B over whole input rows */ \
static Q void wg_columns_##S(const T* restrict p0, const T* restrict p1, \
        const T* restrict p2, const T* restrict p3, T* restrict t0, T* restrict t1, \
        T* restrict t2, T* restrict t3, ptrdiff_t W) { \
    for (ptrdiff_t j = 0; j < W; j++) { \
        T a0 = p0[j], a1 = p1[j], a2 = p2[j], a3 = p3[j]; \
        t0[j] = a0 - a2; t1[j] = a1 + a2; t2[j] = a2 - a1; t3[j] = a1 - a3; \
    } \
} \
/* horizontal half for one tile row: tile tw reads t[2tw .. 2tw+3] */ \
static Q void wg_tiles_##S(const T* restrict t, T* restrict o0, T* restrict o1, \
        T* restrict o2, T* restrict o3, ptrdiff_t TW) { \
    for (ptrdiff_t tw = 0; tw < TW; tw++) { \
        T d0 = t[2 * tw], d1 = t[2 * tw + 1], d2 = t[2 * tw + 2], d3 = t[2 * tw + 3]; \
        o0[tw] = d0 - d2; o1[tw] = d1 + d2; o2[tw] = d2 - d1; o3[tw] = d1 - d3; \
    } \
} \
/* A^T m A for the n2 whole (2x2) tiles of one tile row; m[k*sk + tw] is position k */ \
static Q void wg_outputs_##S(const T* restrict m, ptrdiff_t sk, \
        T* restrict y0, T* restrict y1, T b, ptrdiff_t n2) { \
    const T* restrict m4 = m + 4 * sk; \
    const T* restrict m8 = m + 8 * sk; \
    const T* restrict m12 = m + 12 * sk; \
    for (ptrdiff_t tw = 0; tw < n2; tw++) { \
        T s00 = m[tw] + m4[tw] + m8[tw]; \
        T s01 = m[sk + tw] + m4[sk + tw] + m8[sk + tw]; \
        T s02 = m[2 * sk + tw] + m4[2 * sk + tw] + m8[2 * sk + tw]; \
        T s03 = m[3 * sk + tw] + m4[3 * sk + tw] + m8[3 * sk + tw]; \
        T s10 = m4[tw] - m8[tw] - m12[tw]; \
        T s11 = m4[sk + tw] - m8[sk + tw] - m12[sk + tw]; \
        T s12 = m4[2 * sk + tw] - m8[2 * sk + tw] - m12[2 * sk + tw]; \
        T s13 = m4[3 * sk + tw] - m8[3 * sk + tw] - m12[3 * sk + tw]; \
        y0[2 * tw] = s00 + s01 + s02 + b; \
        y0[2 * tw + 1] = s01 - s02 - s03 + b; \
        y1[2 * tw] = s10 + s11 + s12 + b; \
        y1[2 * tw + 1] = s11 - s12 - s13 + b; \
    } \
} \
/* vertical half of A g A^T (g: a 2x2 grad-output tile) over whole rows */ \
static Q void wg_gcolumns_##S(const T* restrict g0, const T* restrict g1, \
        T* restrict t0, T* restrict t1, T* restrict t2, T* restrict t3, ptrdiff_t W) { \
    for (ptrdiff_t j = 0; j < W; j++) { \
        T a = g0[j], b = g1[j]; \
        t0[j] = a; t1[j] = a + b; t2[j] = a - b; t3[j] = -b; \
    } \
} \
/* o = G a over n filters at once: a0..a2 one entry of each filter's 3-vector, o0..o3 the \
   4-vector G a = (a0, (a0 + a1 + a2)/2, (a0 - a1 + a2)/2, a2) */ \
static Q void wg_g_rows_##S(const T* restrict a0, const T* restrict a1, \
        const T* restrict a2, T* restrict o0, T* restrict o1, T* restrict o2, \
        T* restrict o3, ptrdiff_t n) { \
    const T half = 0.5; \
    for (ptrdiff_t j = 0; j < n; j++) { \
        T x = a0[j], y = a1[j], z = a2[j]; \
        o0[j] = x; o1[j] = (x + y + z) * half; o2[j] = (x - y + z) * half; o3[j] = z; \
    } \
} \
/* horizontal half for one tile row: tile tw reads t[2tw], t[2tw+1] */ \
static Q void wg_gtiles_##S(const T* restrict t, T* restrict o0, T* restrict o1, \
        T* restrict o2, T* restrict o3, ptrdiff_t TW) { \
    for (ptrdiff_t tw = 0; tw < TW; tw++) { \
        T a = t[2 * tw], b = t[2 * tw + 1]; \
        o0[tw] = a; o1[tw] = a + b; o2[tw] = a - b; o3[tw] = -b; \
    } \
}
#define EMBER_WG_ROWS(T) \
/* Small planes (ResNet's 4x4, 7x7, 8x8, 14x14): the loops above run 2-7 iterations a call, \
   and with W unknown gcc's vector loop is mostly prologue and scalar epilogue. The *_row \
   functions below do a whole tile row (the vertical half and the four horizontal halves, or \
   one row of outputs) in copies compiled for a fixed width, which gcc unrolls and \
   vectorises whole; only for the widths wg_fixed_* accept. Element for element the same \
   operations in the same order as the general loops, so the same bits. */ \
static inline __attribute__((always_inline)) void wg_in_row_##T(const T* restrict p0, \
        const T* restrict p1, const T* restrict p2, const T* restrict p3, \
        T* restrict t, ptrdiff_t L, T* restrict v, ptrdiff_t sk, ptrdiff_t W, ptrdiff_t TW) { \
    wg_columns_fixed_##T(p0, p1, p2, p3, t + 1, t + L + 1, t + 2 * L + 1, t + 3 * L + 1, W); \
    for (int k = 0; k < 4; k++) \
        wg_tiles_fixed_##T(t + k * L, v + 4 * k * sk, v + (4 * k + 1) * sk, \
                           v + (4 * k + 2) * sk, v + (4 * k + 3) * sk, TW); \
} \
static inline __attribute__((always_inline)) void wg_gin_row_##T(const T* restrict g0, \
        const T* restrict g1, T* restrict t, ptrdiff_t L, T* restrict v, ptrdiff_t sk, \
        ptrdiff_t W, ptrdiff_t TW) { \
    wg_gcolumns_fixed_##T(g0, g1, t, t + L, t + 2 * L, t + 3 * L, W); \
    for (int k = 0; k < 4; k++) \
        wg_gtiles_fixed_##T(t + k * L, v + 4 * k * sk, v + (4 * k + 1) * sk, \
                            v + (4 * k + 2) * sk, v + (4 * k + 3) * sk, TW); \
} \
/* one tile row of B^T d B: p0..p3 the four input rows, t four scratch rows L = 2TW + 2 \
   apart (entry j+1 is column j), v the tile row's first column of V. Not inlined: inlined, \
   the copies made gcc compile winograd.pyx's general loops worse (16 wide: +15%). */ \
static __attribute__((noinline)) void wg_input_row_##T(const T* p0, const T* p1, \
        const T* p2, const T* p3, T* t, T* v, ptrdiff_t sk, ptrdiff_t W) { \
    switch (W) { \
    case 4: wg_in_row_##T(p0, p1, p2, p3, t, 6, v, sk, 4, 2); break; \
    case 7: wg_in_row_##T(p0, p1, p2, p3, t, 10, v, sk, 7, 4); break; \
    case 8: wg_in_row_##T(p0, p1, p2, p3, t, 10, v, sk, 8, 4); break; \
    case 14: wg_in_row_##T(p0, p1, p2, p3, t, 16, v, sk, 14, 7); break; \
    } \
} \
/* one tile row of A g A^T: g0, g1 the two gradient rows */ \
static __attribute__((noinline)) void wg_grad_row_##T(const T* g0, const T* g1, T* t, \
        T* v, ptrdiff_t sk, ptrdiff_t W) { \
    switch (W) { \
    case 4: wg_gin_row_##T(g0, g1, t, 6, v, sk, 4, 2); break; \
    case 7: wg_gin_row_##T(g0, g1, t, 10, v, sk, 7, 4); break; \
    case 8: wg_gin_row_##T(g0, g1, t, 10, v, sk, 8, 4); break; \
    case 14: wg_gin_row_##T(g0, g1, t, 16, v, sk, 14, 7); break; \
    } \
} \
/* the whole tiles of one tile row of A^T m A */ \
static __attribute__((noinline)) void wg_output_row_##T(const T* m, ptrdiff_t sk, T* y0, \
        T* y1, T b, ptrdiff_t n2) { \
    switch (n2) { \
    case 4: wg_outputs_fixed_##T(m, sk, y0, y1, b, 4); break; \
    case 7: wg_outputs_fixed_##T(m, sk, y0, y1, b, 7); break; \
    } \
}
/* the widths the *_row copies exist for: W of the input (or gradient) rows, n2 = W / 2
   whole output tiles (measured: the fixed copies for n2 = 2 and 3 ran slower than the loop) */
static inline int wg_fixed_width(ptrdiff_t W) { return W == 4 || W == 7 || W == 8 || W == 14; }
static inline int wg_fixed_outputs(ptrdiff_t n2) { return n2 == 4 || n2 == 7; }
EMBER_WG_LOOPS(float, float, inline)
EMBER_WG_LOOPS(double, double, inline)
EMBER_WG_LOOPS(float, fixed_float, inline __attribute__((always_inline)))
EMBER_WG_LOOPS(double, fixed_double, inline __attribute__((always_inline)))
EMBER_WG_ROWS(float)
EMBER_WG_ROWS(double)
#undef EMBER_WG_LOOPS
#undef EMBER_WG_ROWS
#endif

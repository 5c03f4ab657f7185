/* Winograd F(2x2, 3x3)'s innermost loops (winograd.pyx), in C for one reason: `restrict`.
   Each loop touches 5-16 arrays; without the promise that they do not overlap, gcc would need
   more runtime overlap checks than it is willing to emit (10) and leaves the loop scalar.
   Written once, instantiated for float and double; winograd.pxd's fused wrappers pick one. */
#ifndef EMBER_WINOGRAD_H
#define EMBER_WINOGRAD_H
#include <stddef.h>

#define EMBER_WG_LOOPS(T) \
/* vertical half of B^T d B over whole input rows */ \
static inline void wg_columns_##T(const T* restrict p0, const T* restrict p1, \
        const T* restrict p2, const T* restrict p3, T* restrict t0, T* restrict t1, \
        T* restrict t2, T* restrict t3, ptrdiff_t W) { \
    for (ptrdiff_t j = 0; j < W; j++) { \
        T a0 = p0[j], a1 = p1[j], a2 = p2[j], a3 = p3[j]; \
        t0[j] = a0 - a2; t1[j] = a1 + a2; t2[j] = a2 - a1; t3[j] = a1 - a3; \
    } \
} \
/* horizontal half for one tile row: tile tw reads t[2tw .. 2tw+3] */ \
static inline void wg_tiles_##T(const T* restrict t, T* restrict o0, T* restrict o1, \
        T* restrict o2, T* restrict o3, ptrdiff_t TW) { \
    for (ptrdiff_t tw = 0; tw < TW; tw++) { \
        T d0 = t[2 * tw], d1 = t[2 * tw + 1], d2 = t[2 * tw + 2], d3 = t[2 * tw + 3]; \
        o0[tw] = d0 - d2; o1[tw] = d1 + d2; o2[tw] = d2 - d1; o3[tw] = d1 - d3; \
    } \
} \
/* A^T m A for the n2 whole (2x2) tiles of one tile row; m[k*sk + tw] is position k */ \
static inline void wg_outputs_##T(const T* restrict m, ptrdiff_t sk, \
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
static inline void wg_gcolumns_##T(const T* restrict g0, const T* restrict g1, \
        T* restrict t0, T* restrict t1, T* restrict t2, T* restrict t3, ptrdiff_t W) { \
    for (ptrdiff_t j = 0; j < W; j++) { \
        T a = g0[j], b = g1[j]; \
        t0[j] = a; t1[j] = a + b; t2[j] = a - b; t3[j] = -b; \
    } \
} \
/* o = G a over n filters at once: a0..a2 one entry of each filter's 3-vector, o0..o3 the \
   4-vector G a = (a0, (a0 + a1 + a2)/2, (a0 - a1 + a2)/2, a2) */ \
static inline void wg_g_rows_##T(const T* restrict a0, const T* restrict a1, \
        const T* restrict a2, T* restrict o0, T* restrict o1, T* restrict o2, \
        T* restrict o3, ptrdiff_t n) { \
    const T half = 0.5; \
    for (ptrdiff_t j = 0; j < n; j++) { \
        T x = a0[j], y = a1[j], z = a2[j]; \
        o0[j] = x; o1[j] = (x + y + z) * half; o2[j] = (x - y + z) * half; o3[j] = z; \
    } \
} \
/* horizontal half for one tile row: tile tw reads t[2tw], t[2tw+1] */ \
static inline void wg_gtiles_##T(const T* restrict t, T* restrict o0, T* restrict o1, \
        T* restrict o2, T* restrict o3, ptrdiff_t TW) { \
    for (ptrdiff_t tw = 0; tw < TW; tw++) { \
        T a = t[2 * tw], b = t[2 * tw + 1]; \
        o0[tw] = a; o1[tw] = a + b; o2[tw] = a - b; o3[tw] = -b; \
    } \
}
EMBER_WG_LOOPS(float)
EMBER_WG_LOOPS(double)
#undef EMBER_WG_LOOPS
#endif

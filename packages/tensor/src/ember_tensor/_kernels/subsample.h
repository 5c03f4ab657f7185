/* The row copies of subsample.pyx, in C for `restrict`: without it gcc versions every loop
   on an overlap test and, for rows as short as a downsample's (8 columns), runs the scalar
   copy. Instantiated for float and double. */
#ifndef EMBER_SUBSAMPLE_H
#define EMBER_SUBSAMPLE_H
#include <stddef.h>
#include <string.h>

/* Stride 2: eight floats (four doubles) of a row from two overlapping 32-byte loads, the
   second starting one element before the first one's end, and one two-input shuffle of the
   even elements: no read past x[2*(OW - 1)] (the last element a row needs), and ~1
   instruction an element instead of the scalar loop's ~7 (a 64x16x16 downsample's
   subsample was 2 us of its 20). */
typedef float ss_vec_float __attribute__((vector_size(32)));
typedef int ss_mask_float __attribute__((vector_size(32)));
typedef double ss_vec_double __attribute__((vector_size(32)));
typedef long long ss_mask_double __attribute__((vector_size(32)));
typedef float ss_half_float __attribute__((vector_size(16)));
typedef int ss_hmask_float __attribute__((vector_size(16)));
typedef double ss_half_double __attribute__((vector_size(16)));
typedef long long ss_hmask_double __attribute__((vector_size(16)));
#define SS_EVEN_float {0, 2, 4, 6, 9, 11, 13, 15}
#define SS_EVEN_double {0, 2, 5, 7}
/* the same in 16 bytes, for rows of 4 to 7 floats (a 128x8x8 downsample's 4) */
#define SS_HEVEN_float {0, 2, 5, 7}
#define SS_HEVEN_double {0, 3}

#define EMBER_SS_ROW2(T) \
static inline void ss_row2_##T(const T* restrict x, T* restrict o, ptrdiff_t OW) { \
    enum { L = sizeof(ss_vec_##T) / sizeof(T) }; \
    const ss_mask_##T even = SS_EVEN_##T; \
    ptrdiff_t v = 0; \
    for (; v + L <= OW; v += L) { \
        ss_vec_##T lo, hi; \
        memcpy(&lo, x + 2 * v, sizeof lo); \
        memcpy(&hi, x + 2 * v + L - 1, sizeof hi); \
        const ss_vec_##T e = __builtin_shuffle(lo, hi, even); \
        memcpy(o + v, &e, sizeof e); \
    } \
    if (v + L / 2 <= OW) { \
        const ss_hmask_##T heven = SS_HEVEN_##T; \
        ss_half_##T lo, hi; \
        memcpy(&lo, x + 2 * v, sizeof lo); \
        memcpy(&hi, x + 2 * v + L / 2 - 1, sizeof hi); \
        const ss_half_##T e = __builtin_shuffle(lo, hi, heven); \
        memcpy(o + v, &e, sizeof e); \
        v += L / 2; \
    } \
    for (; v < OW; v++) o[v] = x[2 * v]; \
}

EMBER_SS_ROW2(float)
EMBER_SS_ROW2(double)

/* o[r*OW + v] = x[r*xrow + v*sw] for r < rows, v < OW (the stride a constant where 1 or 2) */
#define EMBER_SS_PLANE(T) \
static inline void ss_plane_##T(const T* restrict x, T* restrict o, ptrdiff_t xrow, \
        ptrdiff_t sw, ptrdiff_t rows, ptrdiff_t OW) { \
    if (sw == 1) { \
        for (ptrdiff_t r = 0; r < rows; r++) memcpy(o + r * OW, x + r * xrow, OW * sizeof(T)); \
    } else if (sw == 2) { \
        for (ptrdiff_t r = 0; r < rows; r++) ss_row2_##T(x + r * xrow, o + r * OW, OW); \
    } else { \
        for (ptrdiff_t r = 0; r < rows; r++) \
            for (ptrdiff_t v = 0; v < OW; v++) o[r * OW + v] = x[r * xrow + v * sw]; \
    } \
}

EMBER_SS_PLANE(float)
EMBER_SS_PLANE(double)

#endif

/* The row copies of subsample.pyx, in C for `restrict`: without it gcc versions every loop
   on an overlap test and, for rows as short as a downsample's (8 columns), runs the scalar
   copy. Instantiated for float and double. */
#ifndef EMBER_SUBSAMPLE_H
#define EMBER_SUBSAMPLE_H
#include <stddef.h>
#include <string.h>

/* o[r*OW + v] = x[r*xrow + v*sw] for r < rows, v < OW (the stride a constant where 1 or 2) */
#define EMBER_SS_PLANE(T) \
static inline void ss_plane_##T(const T* restrict x, T* restrict o, ptrdiff_t xrow, \
        ptrdiff_t sw, ptrdiff_t rows, ptrdiff_t OW) { \
    if (sw == 1) { \
        for (ptrdiff_t r = 0; r < rows; r++) memcpy(o + r * OW, x + r * xrow, OW * sizeof(T)); \
    } else if (sw == 2) { \
        for (ptrdiff_t r = 0; r < rows; r++) \
            for (ptrdiff_t v = 0; v < OW; v++) o[r * OW + v] = x[r * xrow + 2 * v]; \
    } else { \
        for (ptrdiff_t r = 0; r < rows; r++) \
            for (ptrdiff_t v = 0; v < OW; v++) o[r * OW + v] = x[r * xrow + v * sw]; \
    } \
}

EMBER_SS_PLANE(float)
EMBER_SS_PLANE(double)

#endif

/* Depthwise convolution's register blocks (depthwise.pyx), in C for one reason: GCC's vector
   extension. Written in Cython, a ROWS x COLS block of running sums becomes a 16-iteration
   loop that gcc unrolls before its loop vectoriser sees it, and then packs 128 bits at a
   time; as vector_size(64) values it is one AVX-512 register per sum row (two AVX2, four
   SSE2), whatever level the copy is built for. Stride 1 only (a strided load would be a
   gather), over a zero-bordered plane: no bounds tests. Instantiated for float and double; depthwise.pyx's fused wrappers pick one. */
#ifndef EMBER_DEPTHWISE_H
#define EMBER_DEPTHWISE_H
#include <stddef.h>
#include <string.h>

#define DW_COLS 16

typedef float dw_vec_float __attribute__((vector_size(64)));
typedef double dw_vec_double __attribute__((vector_size(64)));

/* o[r*orow + v] = (add ? o[...] : b) + sum over i < ni, j < kw (in that order) of
   w[i*kw + j] * x[r*xrow + i*xtap + j*dw + v], for r < NR, v < DW_COLS */
#define EMBER_DW_GATHER(T, NR) \
static inline void dw_gather##NR##_##T(const T* x, const T* w, T* o, T b, int add, \
        ptrdiff_t ni, ptrdiff_t kw, ptrdiff_t xrow, ptrdiff_t xtap, ptrdiff_t dw, \
        ptrdiff_t orow) { \
    enum { L = sizeof(dw_vec_##T) / sizeof(T), NV = DW_COLS / L }; \
    dw_vec_##T acc[NR][NV]; \
    for (int r = 0; r < NR; r++) \
        for (int k = 0; k < NV; k++) { \
            if (add) memcpy(&acc[r][k], o + r * orow + k * L, sizeof(dw_vec_##T)); \
            else acc[r][k] = (dw_vec_##T){0} + b; \
        } \
    for (ptrdiff_t i = 0; i < ni; i++) \
        for (ptrdiff_t j = 0; j < kw; j++) { \
            const T t = w[i * kw + j]; \
            const T* xt = x + i * xtap + j * dw; \
            for (int r = 0; r < NR; r++) \
                for (int k = 0; k < NV; k++) { \
                    dw_vec_##T xv; \
                    memcpy(&xv, xt + r * xrow + k * L, sizeof xv); \
                    acc[r][k] += t * xv; \
                } \
        } \
    for (int r = 0; r < NR; r++) \
        for (int k = 0; k < NV; k++) \
            memcpy(o + r * orow + k * L, &acc[r][k], sizeof(dw_vec_##T)); \
}

EMBER_DW_GATHER(float, 4)
EMBER_DW_GATHER(float, 1)
EMBER_DW_GATHER(double, 4)
EMBER_DW_GATHER(double, 1)

#endif

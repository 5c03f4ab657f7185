/* Winograd's 16 products M[k] = U[k] @ V[k] for float32 blocks (winograd.pyx's
   wg_products), without BLAS. U[k] (R x K, rows ldu apart), V[k] (K x T) and M[k] (R x T)
   are row-major as the transforms write them. BLAS packs both operands on every call; at
   these sizes (K = 64-512 channels, T = 32-160 tiles) the packing of U[k] was a quarter of
   the multiply-adds' time. Here U[k]'s entries are broadcast straight from its rows and V's
   rows are read as vectors, so nothing is packed.

   Each M element is one sum over c = 0..K-1 in order, one fused multiply-add a term
   (fmaf outside the AVX-512 copy, where the products are not used for speed: same bits on
   every level), so the result does not depend on how the tiles, the columns of a block or
   the blocks are cut. */
#ifndef EMBER_WINOGRAD_GEMM_H
#define EMBER_WINOGRAD_GEMM_H
#include <stddef.h>
#include <math.h>

#if defined(__AVX512F__)
#include <immintrin.h>
#define WG_MM_FAST 1

/* a register tile of MR rows x NV vectors of 16 columns, m (+)= u @ v (add: the sums start
   from what m holds, as winograd_grad.h's weight gradient carries them from block to
   block; a constant at every call, so the forward's tiles never load m); rows >= 1 of them
   stored, the rest compute row 0 again (no branch in the loop); cols >= 1 columns, lanes
   past them neither loaded nor stored */
#define WG_MM_TILE(MR, NV) \
static inline __attribute__((always_inline)) void wg_mm_tile_##MR##x##NV( \
        const float* restrict u, ptrdiff_t ldu, ptrdiff_t rows, const float* restrict v, \
        ptrdiff_t ldv, float* restrict m, ptrdiff_t ldm, ptrdiff_t K, ptrdiff_t cols, \
        int add) { \
    const float* ur[MR]; \
    __m512 acc[MR][NV]; \
    __mmask16 mk[NV]; \
    _Pragma("GCC unroll 8") \
    for (int j = 0; j < NV; j++) { \
        ptrdiff_t left = cols - 16 * j; \
        mk[j] = left >= 16 ? (__mmask16)0xFFFF \
                           : (__mmask16)((1u << (left > 0 ? left : 0)) - 1u); \
    } \
    _Pragma("GCC unroll 16") \
    for (int i = 0; i < MR; i++) { \
        ptrdiff_t row = i < rows ? i : 0; \
        ur[i] = u + row * ldu; \
        _Pragma("GCC unroll 8") \
        for (int j = 0; j < NV; j++) \
            acc[i][j] = add ? _mm512_maskz_loadu_ps(mk[j], m + row * ldm + 16 * j) \
                            : _mm512_setzero_ps(); \
    } \
    for (ptrdiff_t c = 0; c < K; c++) { \
        __m512 b[NV]; \
        _Pragma("GCC unroll 8") \
        for (int j = 0; j < NV; j++) b[j] = _mm512_maskz_loadu_ps(mk[j], v + 16 * j); \
        v += ldv; \
        _Pragma("GCC unroll 16") \
        for (int i = 0; i < MR; i++) { \
            __m512 a = _mm512_set1_ps(ur[i][c]); \
            _Pragma("GCC unroll 8") \
            for (int j = 0; j < NV; j++) acc[i][j] = _mm512_fmadd_ps(a, b[j], acc[i][j]); \
        } \
    } \
    _Pragma("GCC unroll 16") \
    for (int i = 0; i < MR; i++) { \
        if (i < rows) { \
            _Pragma("GCC unroll 8") \
            for (int j = 0; j < NV; j++) \
                _mm512_mask_storeu_ps(m + i * ldm + 16 * j, mk[j], acc[i][j]); \
        } \
    } \
}
WG_MM_TILE(8, 3)
WG_MM_TILE(8, 2)
WG_MM_TILE(8, 1)
WG_MM_TILE(6, 4)
#undef WG_MM_TILE

/* one product: columns in panels of 48 (the last 1-32 in a panel of 16 or 32), each panel
   against every 8-row block of u */
static void wg_mm_one(const float* u, ptrdiff_t ldu, const float* v, float* m, ptrdiff_t R,
                      ptrdiff_t K, ptrdiff_t T) {
    ptrdiff_t t0 = 0;
    while (t0 < T) {
        ptrdiff_t cols = T - t0;
        for (ptrdiff_t i0 = 0; i0 < R; i0 += 8) {
            ptrdiff_t rows = R - i0 < 8 ? R - i0 : 8;
            const float* ui = u + i0 * ldu;
            float* mi = m + i0 * T + t0;
            if (cols > 32)
                wg_mm_tile_8x3(ui, ldu, rows, v + t0, T, mi, T, K, cols, 0);
            else if (cols > 16)
                wg_mm_tile_8x2(ui, ldu, rows, v + t0, T, mi, T, K, cols, 0);
            else
                wg_mm_tile_8x1(ui, ldu, rows, v + t0, T, mi, T, K, cols, 0);
        }
        t0 += cols > 32 ? 48 : cols;
    }
}
#else
#define WG_MM_FAST 0

static void wg_mm_one(const float* u, ptrdiff_t ldu, const float* v, float* m, ptrdiff_t R,
                      ptrdiff_t K, ptrdiff_t T) {
    for (ptrdiff_t i = 0; i < R; i++) {
        for (ptrdiff_t t = 0; t < T; t++) m[i * T + t] = 0.0f;
        for (ptrdiff_t c = 0; c < K; c++) {
            float a = u[i * ldu + c];
            const float* vc = v + c * T;
            for (ptrdiff_t t = 0; t < T; t++) m[i * T + t] = fmaf(a, vc[t], m[i * T + t]);
        }
    }
}
#endif

/* the 16 products; U, V and M's matrices su, sv and sm elements apart */
static void wg_products_float(const float* U, ptrdiff_t su, const float* V, ptrdiff_t sv,
                              float* M, ptrdiff_t sm, ptrdiff_t R, ptrdiff_t K, ptrdiff_t T) {
    for (int k = 0; k < 16; k++)
        wg_mm_one(U + k * su, K, V + k * sv, M + k * sm, R, K, T);
}
static inline int wg_products_fast(void) { return WG_MM_FAST; }
#endif

/* The weight gradient of Winograd F(2x2, 3x3) (winograd_grad.pyx): the 16 products
   dU[k] (+)= Z[k] @ V[k]^T, a sum over the tiles of a block, without BLAS.

   Z[k] (Cout x T) and V[k] (Cin x T) both have the tiles (the sum's index) along their
   rows, so one of them has to be turned round for a register tile; V[k] is transposed
   (wgg_transpose) into Vt[k] (T x Cin), and then each dU row is Z's entries broadcast
   against Vt's rows read as vectors, as in winograd_gemm.h's forward products.

   Each dU element is one sum over the tiles in order, one fused multiply-add a term, carried
   on from block to block (``add``: the tile begins from what dU holds), and fmaf outside the
   AVX-512 copy: the same bits whatever the blocks, the cut of the rows or the thread count,
   and on every level. */
#ifndef EMBER_WINOGRAD_GRAD_H
#define EMBER_WINOGRAD_GRAD_H
#include <stddef.h>
#include <math.h>

#if defined(__AVX512F__)
#include <immintrin.h>
#include "winograd_gemm.h"
#define WGG_FAST 1

/* the register tiles are winograd_gemm.h's (wg_mm_tile_MRxNV, with add) */

/* rows [r0, r1) of m (R x S, rows ldm apart) (+)= a @ b, a: rows lda apart, K entries; b:
   K rows of S, ldb apart. Columns in panels of 64 (6-row tiles), the last 1-32 in a panel
   of 16 or 32 (8-row tiles) */
static void wgg_mm_rows(const float* a, ptrdiff_t lda, const float* b, ptrdiff_t ldb,
                        float* m, ptrdiff_t ldm, ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t S,
                        ptrdiff_t K, int add) {
    ptrdiff_t j0 = 0;
    while (j0 < S) {
        ptrdiff_t cols = S - j0;
        ptrdiff_t step = cols > 32 ? 6 : 8;
        for (ptrdiff_t i0 = r0; i0 < r1; i0 += step) {
            ptrdiff_t rows = r1 - i0 < step ? r1 - i0 : step;
            const float* ai = a + i0 * lda;
            float* mi = m + i0 * ldm + j0;
            if (cols > 32)
                wg_mm_tile_6x4(ai, lda, rows, b + j0, ldb, mi, ldm, K, cols, add);
            else if (cols > 16)
                wg_mm_tile_8x2(ai, lda, rows, b + j0, ldb, mi, ldm, K, cols, add);
            else
                wg_mm_tile_8x1(ai, lda, rows, b + j0, ldb, mi, ldm, K, cols, add);
        }
        j0 += cols > 32 ? 64 : cols;
    }
}

/* d[j*ldd + i] = s[i*lds + j] for a 16x16 block: two rounds of unpacks give each vector
   four rows of one column in each 128-bit lane, then a 4x4 transpose of the lanes */
static inline void wgg_t16(const float* s, ptrdiff_t lds, float* d, ptrdiff_t ldd) {
    __m512 r[16], t[16];
    for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(s + i * lds);
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    /* u[4g + q], lane L: rows 4g..4g+3 of column 4L + q */
    for (int g = 0; g < 4; g++) {
        __m512d a = _mm512_castps_pd(t[4 * g]), b = _mm512_castps_pd(t[4 * g + 2]);
        __m512d c = _mm512_castps_pd(t[4 * g + 1]), e = _mm512_castps_pd(t[4 * g + 3]);
        r[4 * g] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
        r[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
        r[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(c, e));
        r[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(c, e));
    }
    /* output row 4L + q, lane g = u[4g + q] lane L */
    for (int q = 0; q < 4; q++) {
        __m512 p = _mm512_shuffle_f32x4(r[q], r[4 + q], 0x44);
        __m512 o = _mm512_shuffle_f32x4(r[q], r[4 + q], 0xEE);
        __m512 x = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0x44);
        __m512 y = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0xEE);
        _mm512_storeu_ps(d + q * ldd, _mm512_shuffle_f32x4(p, x, 0x88));
        _mm512_storeu_ps(d + (4 + q) * ldd, _mm512_shuffle_f32x4(p, x, 0xDD));
        _mm512_storeu_ps(d + (8 + q) * ldd, _mm512_shuffle_f32x4(o, y, 0x88));
        _mm512_storeu_ps(d + (12 + q) * ldd, _mm512_shuffle_f32x4(o, y, 0xDD));
    }
}
#else
#define WGG_FAST 0

static void wgg_mm_rows(const float* a, ptrdiff_t lda, const float* b, ptrdiff_t ldb,
                        float* m, ptrdiff_t ldm, ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t S,
                        ptrdiff_t K, int add) {
    for (ptrdiff_t i = r0; i < r1; i++) {
        float* mi = m + i * ldm;
        if (!add)
            for (ptrdiff_t j = 0; j < S; j++) mi[j] = 0.0f;
        for (ptrdiff_t c = 0; c < K; c++) {
            float s = a[i * lda + c];
            const float* bc = b + c * ldb;
            for (ptrdiff_t j = 0; j < S; j++) mi[j] = fmaf(s, bc[j], mi[j]);
        }
    }
}
#endif

/* d (cols x rows, rows ldd apart) = s (rows x cols, lds apart) transposed */
static void wgg_transpose(const float* s, ptrdiff_t lds, float* d, ptrdiff_t ldd,
                          ptrdiff_t rows, ptrdiff_t cols) {
    ptrdiff_t i0 = 0, j0 = 0;
#if WGG_FAST
    for (; i0 + 16 <= rows; i0 += 16)
        for (ptrdiff_t j = 0; j + 16 <= cols; j += 16)
            wgg_t16(s + i0 * lds + j, lds, d + j * ldd + i0, ldd);
    j0 = cols - cols % 16;
    /* the columns past the last whole 16 of the rows done above */
    for (ptrdiff_t i = 0; i < i0; i++)
        for (ptrdiff_t j = j0; j < cols; j++) d[j * ldd + i] = s[i * lds + j];
#endif
    (void)j0;
    for (ptrdiff_t i = i0; i < rows; i++)
        for (ptrdiff_t j = 0; j < cols; j++) d[j * ldd + i] = s[i * lds + j];
}

/* gw = G^T dU G for output channels [r0, r1): winograd.pyx's filter_grad_transform_rows,
   the same operations in the same order (so the same bits; the halvings are exact, so a
   fused multiply-add cannot change them either), over up to 64 filters at once so the
   arithmetic runs over contiguous rows of dU: there it was one filter at a time from 16
   streams, 22 us of a 64-channel gradient's ~140 on one thread */
static inline void wgg_fg_block(const float* restrict d, ptrdiff_t ks, float* restrict t,
                                ptrdiff_t nb) {
    const float h = 0.5f;
    for (ptrdiff_t b = 0; b < nb; b++) {
        float m[3][4];
        for (int i = 0; i < 4; i++) {
            float u0 = d[i * ks + b], u1 = d[(4 + i) * ks + b];
            float u2 = d[(8 + i) * ks + b], u3 = d[(12 + i) * ks + b];
            m[0][i] = u0 + (u1 + u2) * h;
            m[1][i] = (u1 - u2) * h;
            m[2][i] = (u1 + u2) * h + u3;
        }
        for (int r = 0; r < 3; r++) {
            t[3 * r * 64 + b] = m[r][0] + (m[r][1] + m[r][2]) * h;
            t[(3 * r + 1) * 64 + b] = (m[r][1] - m[r][2]) * h;
            t[(3 * r + 2) * 64 + b] = (m[r][1] + m[r][2]) * h + m[r][3];
        }
    }
}
static void wgg_filter_grad_rows(const float* dU, ptrdiff_t ks, float* gw, ptrdiff_t Cin,
                                 ptrdiff_t r0, ptrdiff_t r1) {
    float t[9 * 64];
    for (ptrdiff_t a = r0; a < r1; a++) {
        for (ptrdiff_t b0 = 0; b0 < Cin; b0 += 64) {
            ptrdiff_t nb = Cin - b0 < 64 ? Cin - b0 : 64;
            float* out = gw + (a * Cin + b0) * 9;
            wgg_fg_block(dU + a * Cin + b0, ks, t, nb);
            for (ptrdiff_t b = 0; b < nb; b++)
                for (int o = 0; o < 9; o++) out[9 * b + o] = t[o * 64 + b];
        }
    }
}

static inline int wgg_fast(void) { return WGG_FAST; }
#endif

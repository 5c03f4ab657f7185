/* Float32 products with a side at most four wide, where OpenBLAS's GEMM spends its time
 * packing:
 *   dots:  C[i, j] = sum_k A[i, k] * Bt[j, k]        (a big row-major A times <= 4 columns;
 *                                                    Bt: the columns as zero-padded rows)
 *   outer: C[i, c] = sum_{j < nk} X[i, j] * Bt[j, c] (an inner dimension nk <= 4)
 *   axpys: C[i, j] = sum_r W[r, i] * G[r, j]        (a big row-major W, transposed, times
 *                                                    <= 4 columns; axpys_wide: <= 16)
 * A single 64-px image's layer4 convolution is (512 x 4608) @ (4608 x 4), one pass over
 * 9.4 MB of weights with four multiply-adds an element; OpenBLAS took 3x the time of that
 * pass (1 thread, AVX-512: 676 vs 223 us). Its weight gradient (512 x 4) @ (4 x 4608)
 * writes 9.4 MB: OpenBLAS 1.25-1.57 ms, outer 0.92-1.20. Its input gradient, the
 * transposed weights times (512 x 4), is axpys: cold cache 1.43-1.78 ms -> 0.81-0.83.
 * (Summed down the weights' columns in L1-sized blocks instead, it was no faster than
 * OpenBLAS: 512 short strided streams starve the prefetcher.)
 *
 * Every output is summed in one fixed order (vector lanes, then the lanes in order, then
 * the tail) whatever rows [i0, i1) a call is given, so cutting a product into ranges
 * (threads) never changes its bits. Register blocks follow the level: dots' 8 rows x 4
 * columns of 16-float accumulators on AVX-512 (32 registers, a few may spill; but 8 rows are 8
 * memory streams, and each vector of the columns serves 8 rows; the cold (512 x 4608)
 * @ (4608 x 4), 2 threads, standalone harness alternating in one process, medians:
 * 4 rows 0.275/0.279 -> 8 rows 0.228/0.234 ms, 1 thread 0.516 -> 0.367; 6 rows 0.24-0.29,
 * 12 rows 0.50), 2 x 4 of 8 or 4 floats below (16; 3 or 4 rows on AVX2 gained nothing). */
#ifndef EMBER_SKINNY_H
#define EMBER_SKINNY_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <immintrin.h>
#endif

#if defined(__AVX512F__)
#define EMBER_SK_W 16
#define EMBER_SK_R 8
#define EMBER_SK_OR 8
#elif defined(__AVX2__)
#define EMBER_SK_W 8
#define EMBER_SK_R 2
#define EMBER_SK_OR 4
#else
#define EMBER_SK_W 4
#define EMBER_SK_R 2
#define EMBER_SK_OR 4
#endif
/* outer_wide's largest inner dimension */
#define EMBER_SK_OUTER_WIDE 16

typedef float ember_skv __attribute__((vector_size(EMBER_SK_W * 4)));

static inline __attribute__((always_inline)) ember_skv ember_sk_load(const float* p)
{
    ember_skv v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline __attribute__((always_inline)) void ember_sk_store(float* p, ember_skv v)
{
    memcpy(p, &v, sizeof v);
}

/* a store that bypasses the caches (p aligned to the vector): no read of the line first */
static inline __attribute__((always_inline)) void ember_sk_stream(float* p, ember_skv v)
{
#if defined(__AVX512F__)
    _mm512_stream_ps(p, (__m512)v);
#elif defined(__AVX__)
    _mm256_stream_ps(p, (__m256)v);
#elif defined(__SSE2__)
    _mm_stream_ps(p, (__m128)v);
#else
    ember_sk_store(p, v);
#endif
}

static inline __attribute__((always_inline)) void ember_sk_stream_fence(void)
{
#if defined(__SSE2__)
    _mm_sfence();
#endif
}

static inline __attribute__((always_inline)) ember_skv ember_sk_splat(float x)
{
    ember_skv v;
    for (int l = 0; l < EMBER_SK_W; l++) v[l] = x;
    return v;
}

static inline __attribute__((always_inline)) float ember_sk_hsum(ember_skv v)
{
    float s = 0;
    for (int l = 0; l < EMBER_SK_W; l++) s += v[l];
    return s;
}

/* dots' software prefetch, in floats ahead along each row (4 KB) */
#define EMBER_SK_DOTS_PF 1024
/* 0: dots and axpys issue no software prefetches (an A/B switch, blas.set_skinny_prefetch) */
static int ember_sk_prefetch = 1;

/* ``rows`` (a constant once inlined) rows of dots starting at row i, of rows [., i1). Each
   row is prefetched EMBER_SK_DOTS_PF floats ahead, and the next block's rows at the same
   column, into L2: twice the streams in flight. The hardware prefetchers alone read one
   64-px image's layer4 weights, (512 x 4608), cold, at ~25 GB/s on 2 threads; standalone
   harness, old and new alternating in one process, 31 rounds, medians: 0.34-0.38 ->
   0.28-0.31 ms (either prefetch alone: 0.31-0.33; 512 or 2048 floats ahead: 0.31-0.32). */
static inline __attribute__((always_inline)) void ember_sk_dots_rows(
    const float* A, ptrdiff_t lda, const float* Bt, ptrdiff_t K, float* C, ptrdiff_t ldc,
    int nc, ptrdiff_t i, ptrdiff_t i1, const int rows)
{
    ember_skv acc[EMBER_SK_R][4];
    const ptrdiff_t kv = K / EMBER_SK_W * EMBER_SK_W;
    const int prefetch = ember_sk_prefetch, next = prefetch && i + 2 * rows <= i1;
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < 4; j++) acc[r][j] = ember_sk_splat(0.0f);
    for (ptrdiff_t k = 0; k < kv; k += EMBER_SK_W) {
        ember_skv x[EMBER_SK_R];
        for (int r = 0; r < rows; r++) x[r] = ember_sk_load(A + (i + r) * lda + k);
        if (prefetch && k % 16 == 0)   /* once a 64-byte line */
            for (int r = 0; r < rows; r++) {
                if (k + EMBER_SK_DOTS_PF < K)
                    __builtin_prefetch(A + (i + r) * lda + k + EMBER_SK_DOTS_PF, 0, 2);
                if (next) __builtin_prefetch(A + (i + rows + r) * lda + k, 0, 2);
            }
        for (int j = 0; j < 4; j++) {
            ember_skv b = ember_sk_load(Bt + j * K + k);
            for (int r = 0; r < rows; r++) acc[r][j] += x[r] * b;
        }
    }
    for (int r = 0; r < rows; r++) {
        const float* a = A + (i + r) * lda;
        for (int j = 0; j < nc; j++) {
            float s = ember_sk_hsum(acc[r][j]);
            for (ptrdiff_t k = kv; k < K; k++) s += a[k] * Bt[j * K + k];
            C[(i + r) * ldc + j] = s;
        }
    }
}

/* dots for rows [i0, i1): Bt holds 4 rows of K floats, those from nc on zero */
static inline void ember_sk_dots(const float* A, ptrdiff_t lda, const float* Bt, ptrdiff_t K,
                                 float* C, ptrdiff_t ldc, int nc, ptrdiff_t i0, ptrdiff_t i1)
{
    ptrdiff_t i = i0;
    for (; i + EMBER_SK_R <= i1; i += EMBER_SK_R)
        ember_sk_dots_rows(A, lda, Bt, K, C, ldc, nc, i, i1, EMBER_SK_R);
    for (; i < i1; i++) ember_sk_dots_rows(A, lda, Bt, K, C, ldc, nc, i, i1, 1);
}

/* axpys, C[i, j] = sum_r W[r, i] * G[r, j] for output rows [i0, i1) and j < nc <= 4: W is
   R x (at least i1) row-major (lda apart), G[r, j] at G + r*gs0 + j*gs1, C rows ldc apart,
   acc scratch for 4 * (i1 - i0) floats. W is streamed in its own order, four rows at a time
   (four sequential streams) and each vector of them loaded once for all nc columns, into
   accumulator rows that stay in L2; the EMBER_SK_AX_PF rows after the four are prefetched
   into L2 alongside. A thread's runs are short (one 64-px image's layer4: 9 KB of each
   18 KB row a thread), and the hardware prefetchers restart on each; with the software
   prefetch and the single load (they had been loaded once per column) the cold
   (4608 x 512)^T @ (512 x 4), 2 threads, went 0.46-0.51 -> 0.23-0.29 ms (1 thread 0.92 ->
   0.43). Each output is one chain of multiply-adds over r, the same in any range as long as
   i0 is a multiple of EMBER_SK_W (every column then falls in the vector part or the scalar
   tail as it does uncut). */
#define EMBER_SK_AX_PF 8
static inline void ember_sk_axpys(const float* W, ptrdiff_t lda, ptrdiff_t R, const float* G,
                                  ptrdiff_t gs0, ptrdiff_t gs1, float* C, ptrdiff_t ldc,
                                  int nc, float* acc, ptrdiff_t i0, ptrdiff_t i1)
{
    const ptrdiff_t cols = i1 - i0, cv = cols / EMBER_SK_W * EMBER_SK_W;
    ptrdiff_t r = 0;
    memset(acc, 0, 4 * cols * sizeof(float));
    for (; r + 4 <= R; r += 4) {
        const float* w0 = W + r * lda + i0;
        const float* w1 = w0 + lda;
        const float* w2 = w1 + lda;
        const float* w3 = w2 + lda;
        float g[4][4];
        ember_skv v[4][4];
        for (int j = 0; j < 4; j++)
            for (int q = 0; q < 4; q++) {
                g[j][q] = j < nc ? G[(r + q) * gs0 + j * gs1] : 0.0f;
                v[j][q] = ember_sk_splat(g[j][q]);
            }
        const int prefetch = ember_sk_prefetch && r + 4 + EMBER_SK_AX_PF <= R;
        for (ptrdiff_t c = 0; c < cv; c += EMBER_SK_W) {
            /* one prefetch a 64-byte line of each row */
            if (prefetch && c % 16 == 0)
                for (int q = 0; q < EMBER_SK_AX_PF; q++)
                    __builtin_prefetch(w0 + (4 + q) * lda + c, 0, 2);
            const ember_skv x0 = ember_sk_load(w0 + c), x1 = ember_sk_load(w1 + c);
            const ember_skv x2 = ember_sk_load(w2 + c), x3 = ember_sk_load(w3 + c);
            for (int j = 0; j < nc; j++) {
                float* a = acc + j * cols;
                ember_skv s = ember_sk_load(a + c);
                s += x0 * v[j][0];
                s += x1 * v[j][1];
                s += x2 * v[j][2];
                s += x3 * v[j][3];
                ember_sk_store(a + c, s);
            }
        }
        for (int j = 0; j < nc; j++) {
            float* a = acc + j * cols;
            for (ptrdiff_t c = cv; c < cols; c++) {
                float s = a[c];
                s += w0[c] * g[j][0];
                s += w1[c] * g[j][1];
                s += w2[c] * g[j][2];
                s += w3[c] * g[j][3];
                a[c] = s;
            }
        }
    }
    for (; r < R; r++) {
        const float* w0 = W + r * lda + i0;
        for (int j = 0; j < nc; j++) {
            const float g0 = G[r * gs0 + j * gs1];
            const ember_skv v0 = ember_sk_splat(g0);
            float* a = acc + j * cols;
            for (ptrdiff_t c = 0; c < cv; c += EMBER_SK_W)
                ember_sk_store(a + c, ember_sk_load(a + c) + ember_sk_load(w0 + c) * v0);
            for (ptrdiff_t c = cv; c < cols; c++) a[c] = a[c] + w0[c] * g0;
        }
    }
    for (ptrdiff_t c = 0; c < cols; c++)
        for (int j = 0; j < nc; j++) C[(i0 + c) * ldc + j] = acc[j * cols + c];
}

/* a * b + c as one fused multiply-add where the level has it, spelled out: left to the
   compiler's contraction, outer's one-row and four-row loops rounded differently */
static inline __attribute__((always_inline)) ember_skv ember_sk_fmav(ember_skv a, ember_skv b,
                                                                     ember_skv c)
{
#if defined(__AVX512F__)
    return (ember_skv)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c);
#elif defined(__AVX2__) && defined(__FMA__)
    return (ember_skv)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c);
#else
    return c + a * b;
#endif
}

/* one output row of outer: C[c] = sum_{j < nk} g[j] * Bt[j, c], as a vector at c */
static inline __attribute__((always_inline)) ember_skv ember_sk_outer_at(
    const ember_skv* gv, int nk, const float* Bt, ptrdiff_t K, ptrdiff_t c)
{
    ember_skv s = gv[0] * ember_sk_load(Bt + c);
    for (int j = 1; j < nk; j++) s = ember_sk_fmav(gv[j], ember_sk_load(Bt + j * K + c), s);
    return s;
}

/* outer, C[i, c] = sum_{j < nk} X[i, j] * Bt[j, c] for rows [i0, i1) and c < K, nk <= 4:
   X[i, j] at X + i*xs0 + j*xs1, Bt nk contiguous rows of K, C rows ldc apart. Each row is
   computed the same way in any range. With ``stream`` (an output far bigger than the
   caches, as one 64-px image's layer4 weight gradient), a row of at least two vectors is
   written with streaming stores from its first aligned element: its lines are not read
   before they are written (a third of the traffic). The unaligned head and the tail are
   the vectors at 0 and at K - W, stored normally over the same elements: every element is
   the same lane-wise vector sum wherever it falls, so the bits do not depend on where the
   row starts in memory. */
/* streamed outer rows i .. i + EMBER_SK_OS - 1 together, each vector of Bt loaded once for
   all of them: EMBER_SK_OS write streams at once, as the single rows' stores, element for
   element (the caller checks that the rows share their alignment: ldc a multiple of the
   vector). Cold (512 x 4) @ (4 x 4608), 2 threads, standalone harness alternating with the
   one-row loop in one process, 31 rounds, medians: 0.30-0.39 -> 0.21-0.23 ms in one run,
   0.39-0.45 -> 0.35-0.37 in another (2 rows 0.30-0.32); 1 thread 0.69 -> 0.43. Not below
   AVX2: with 16 4-float registers SSE2 lost (0.33-0.44 -> 0.44-0.51). */
#define EMBER_SK_OS 4
/* 0: one row at a time at every level (an A/B switch, blas.set_skinny_outer_groups) */
#if defined(__AVX2__)
static int ember_sk_outer_groups = 1;
#else
static int ember_sk_outer_groups = 0;
#endif
static inline void ember_sk_outer_streamed(const float* X, ptrdiff_t xs0, ptrdiff_t xs1,
                                           int nk, const float* Bt, ptrdiff_t K, float* C,
                                           ptrdiff_t ldc, ptrdiff_t i)
{
    ember_skv gv[EMBER_SK_OS][4];
    for (int q = 0; q < EMBER_SK_OS; q++)
        for (int j = 0; j < nk; j++) gv[q][j] = ember_sk_splat(X[(i + q) * xs0 + j * xs1]);
    float* c = C + i * ldc;
    const uintptr_t misaligned = (-(uintptr_t)c) % (EMBER_SK_W * sizeof(float));
    const ptrdiff_t head = (ptrdiff_t)(misaligned / sizeof(float));
    ptrdiff_t k = head;
    if (head)
        for (int q = 0; q < EMBER_SK_OS; q++)
            ember_sk_store(c + q * ldc, ember_sk_outer_at(gv[q], nk, Bt, K, 0));
    for (; k + EMBER_SK_W <= K; k += EMBER_SK_W) {
        ember_skv b[4];
        b[0] = ember_sk_load(Bt + k);   /* nk >= 1 */
        for (int j = 1; j < nk; j++) b[j] = ember_sk_load(Bt + j * K + k);
        for (int q = 0; q < EMBER_SK_OS; q++) {
            ember_skv v = gv[q][0] * b[0];
            for (int j = 1; j < nk; j++) v = ember_sk_fmav(gv[q][j], b[j], v);
            ember_sk_stream(c + q * ldc + k, v);
        }
    }
    if (k < K)
        for (int q = 0; q < EMBER_SK_OS; q++)
            ember_sk_store(c + q * ldc + K - EMBER_SK_W,
                           ember_sk_outer_at(gv[q], nk, Bt, K, K - EMBER_SK_W));
}

static inline void ember_sk_outer(const float* X, ptrdiff_t xs0, ptrdiff_t xs1, int nk,
                                  const float* Bt, ptrdiff_t K, float* C, ptrdiff_t ldc,
                                  ptrdiff_t i0, ptrdiff_t i1, int stream)
{
    const ptrdiff_t kv = K / EMBER_SK_W * EMBER_SK_W;
    const int grouped = ember_sk_outer_groups && stream && K >= 2 * EMBER_SK_W
                        && ldc % EMBER_SK_W == 0;
    for (ptrdiff_t i = i0; i < i1; i++) {
        if (grouped && i + EMBER_SK_OS <= i1) {
            ember_sk_outer_streamed(X, xs0, xs1, nk, Bt, K, C, ldc, i);
            i += EMBER_SK_OS - 1;
            continue;
        }
        float g[4] = {0, 0, 0, 0};
        ember_skv gv[4];
        for (int j = 0; j < nk; j++) {
            g[j] = X[i * xs0 + j * xs1];
            gv[j] = ember_sk_splat(g[j]);
        }
        float* c = C + i * ldc;
        if (stream && K >= 2 * EMBER_SK_W) {
            const uintptr_t misaligned = (-(uintptr_t)c) % (EMBER_SK_W * sizeof(float));
            const ptrdiff_t head = (ptrdiff_t)(misaligned / sizeof(float));
            ptrdiff_t k = head;
            if (head) ember_sk_store(c, ember_sk_outer_at(gv, nk, Bt, K, 0));
            for (; k + EMBER_SK_W <= K; k += EMBER_SK_W)
                ember_sk_stream(c + k, ember_sk_outer_at(gv, nk, Bt, K, k));
            if (k < K)
                ember_sk_store(c + K - EMBER_SK_W,
                               ember_sk_outer_at(gv, nk, Bt, K, K - EMBER_SK_W));
            continue;
        }
        for (ptrdiff_t k = 0; k < kv; k += EMBER_SK_W)
            ember_sk_store(c + k, ember_sk_outer_at(gv, nk, Bt, K, k));
        for (ptrdiff_t k = kv; k < K; k++) {
            float s = g[0] * Bt[k];
            for (int j = 1; j < nk; j++) s += g[j] * Bt[j * K + k];
            c[k] = s;
        }
    }
    if (stream) ember_sk_stream_fence();
}

/* acc + g * b as one fused multiply-add where the level has it, spelled out: left to the
   compiler's contraction, one inlined copy of outer_wide (the serial call) fused and
   another (the team's) did not, and 1 and 2 threads gave different bits */
static inline __attribute__((always_inline)) ember_skv ember_sk_fma(float g, ember_skv b,
                                                                    ember_skv acc)
{
#if defined(__AVX512F__)
    return (ember_skv)_mm512_fmadd_ps(_mm512_set1_ps(g), (__m512)b, (__m512)acc);
#elif defined(__AVX2__) && defined(__FMA__)
    return (ember_skv)_mm256_fmadd_ps(_mm256_set1_ps(g), (__m256)b, (__m256)acc);
#else
    return acc + g * b;
#endif
}

static inline __attribute__((always_inline)) float ember_sk_fmaf(float g, float b, float acc)
{
#if defined(__FMA__)
    return __builtin_fmaf(g, b, acc);
#else
    return acc + g * b;
#endif
}

/* rows rows (a constant once inlined) of outer_wide from row i: EMBER_SK_OR rows share each
   vector of Bt; every output is one multiply-add chain over j in order */
static inline __attribute__((always_inline)) void ember_sk_outer_wide_rows(
    const float* X, ptrdiff_t xs0, ptrdiff_t xs1, int nk, const float* Bt, ptrdiff_t K,
    float* C, ptrdiff_t ldc, ptrdiff_t i, const int rows)
{
    const ptrdiff_t kv = K / EMBER_SK_W * EMBER_SK_W;
    float g[EMBER_SK_OR][EMBER_SK_OUTER_WIDE];
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < nk; j++) g[r][j] = X[(i + r) * xs0 + j * xs1];
    for (ptrdiff_t k = 0; k < kv; k += EMBER_SK_W) {
        ember_skv acc[EMBER_SK_OR];
        ember_skv b = ember_sk_load(Bt + k);
        /* a scalar times a vector: one broadcast from memory (a lane-by-lane splat here
           became sixteen masked broadcasts) */
        for (int r = 0; r < rows; r++) acc[r] = g[r][0] * b;
        for (int j = 1; j < nk; j++) {
            b = ember_sk_load(Bt + j * K + k);
            for (int r = 0; r < rows; r++) acc[r] = ember_sk_fma(g[r][j], b, acc[r]);
        }
        for (int r = 0; r < rows; r++) ember_sk_store(C + (i + r) * ldc + k, acc[r]);
    }
    for (int r = 0; r < rows; r++)
        for (ptrdiff_t k = kv; k < K; k++) {
            float s = g[r][0] * Bt[k];
            for (int j = 1; j < nk; j++) s = ember_sk_fmaf(g[r][j], Bt[j * K + k], s);
            C[(i + r) * ldc + k] = s;
        }
}

/* outer_wide: outer for an inner dimension nk <= EMBER_SK_OUTER_WIDE (one 64-px image's
   layer3 3x3 weight gradients, (256 x 16) @ (16 x 2304)), blocks of EMBER_SK_OR output rows
   sharing each vector of Bt. OpenBLAS first zeroes the output (sgemm_beta), then reads and
   writes it again in its kernel; here each output is written once. Each output is computed
   the same way in any block and any range [i0, i1). */
static inline void ember_sk_outer_wide(const float* X, ptrdiff_t xs0, ptrdiff_t xs1, int nk,
                                       const float* Bt, ptrdiff_t K, float* C, ptrdiff_t ldc,
                                       ptrdiff_t i0, ptrdiff_t i1)
{
    ptrdiff_t i = i0;
    for (; i + EMBER_SK_OR <= i1; i += EMBER_SK_OR)
        ember_sk_outer_wide_rows(X, xs0, xs1, nk, Bt, K, C, ldc, i, EMBER_SK_OR);
    for (; i < i1; i++) ember_sk_outer_wide_rows(X, xs0, xs1, nk, Bt, K, C, ldc, i, 1);
}

/* axpys_wide: axpys for 5 to EMBER_SK_OUTER_WIDE columns, C[i, j] = sum_r W[r, i] * G[r, j]
   (one 64-px image's layer3 3x3 input gradients: the transposed (256 x 2304) weights times
   the 16-pixel output gradient, (256 x 2304)^T @ (256 x 16)). Gp holds G's rows packed 16
   floats apart, zero past nc. Register tile: EMBER_SK_AW_T output rows, each a whole row of
   16 columns in registers (one zmm on AVX-512), fed per r by one load of Gp's row and one
   broadcast of W[r, i + t] a row: the weight rows' EMBER_SK_AW_T consecutive floats (a line
   on AVX-512). Inside the tutorial step 1x64 (2 threads) OpenBLAS took 296-404 us for
   (256 x 2304)^T @ (256 x 16), this 226-286. Every output is one multiply-add chain over r
   in order (explicit fma where the level has it; the first term a plain product), in any
   block and any range [i0, i1): at AVX2/AVX-512 OpenBLAS's own bits up to 256 inner
   elements (past its k block it adds partial sums). */
#if defined(__AVX512F__)
#define EMBER_SK_AW_T 16
#elif defined(__AVX2__)
#define EMBER_SK_AW_T 6
#else
#define EMBER_SK_AW_T 3
#endif
#define EMBER_SK_AW_V (EMBER_SK_OUTER_WIDE / EMBER_SK_W)

static inline __attribute__((always_inline)) void ember_sk_axpys_wide_rows(
    const float* W, ptrdiff_t lda, ptrdiff_t R, const float* Gp, float* C, ptrdiff_t ldc,
    int nc, ptrdiff_t i, const int rows)
{
    ember_skv acc[EMBER_SK_AW_T][EMBER_SK_AW_V];
    {
        const float* w = W + i;
        for (int v = 0; v < EMBER_SK_AW_V; v++) {
            const ember_skv g = ember_sk_load(Gp + v * EMBER_SK_W);
            for (int t = 0; t < rows; t++) acc[t][v] = w[t] * g;
        }
    }
    for (ptrdiff_t r = 1; r < R; r++) {
        const float* w = W + r * lda + i;
        const float* gr = Gp + r * EMBER_SK_OUTER_WIDE;
        /* the next block's floats of this weight row, into L2: a block reads one short run
           from each of R rows a whole row apart, which no hardware prefetcher follows */
        __builtin_prefetch(w + EMBER_SK_AW_T, 0, 2);
        for (int v = 0; v < EMBER_SK_AW_V; v++) {
            const ember_skv g = ember_sk_load(gr + v * EMBER_SK_W);
            for (int t = 0; t < rows; t++) acc[t][v] = ember_sk_fma(w[t], g, acc[t][v]);
        }
    }
    for (int t = 0; t < rows; t++) {
        float* c = C + (i + t) * ldc;
        if (nc == EMBER_SK_OUTER_WIDE) {
            for (int v = 0; v < EMBER_SK_AW_V; v++) ember_sk_store(c + v * EMBER_SK_W, acc[t][v]);
        } else {
            /* a full row would run into the next one, which another thread may own */
            float row[EMBER_SK_OUTER_WIDE];
            for (int v = 0; v < EMBER_SK_AW_V; v++)
                ember_sk_store(row + v * EMBER_SK_W, acc[t][v]);
            memcpy(c, row, nc * sizeof(float));
        }
    }
}

/* axpys_wide for output rows [i0, i1) (see above), R >= 1 */
static inline void ember_sk_axpys_wide(const float* W, ptrdiff_t lda, ptrdiff_t R,
                                       const float* Gp, float* C, ptrdiff_t ldc, int nc,
                                       ptrdiff_t i0, ptrdiff_t i1)
{
    ptrdiff_t i = i0;
    for (; i + EMBER_SK_AW_T <= i1; i += EMBER_SK_AW_T)
        ember_sk_axpys_wide_rows(W, lda, R, Gp, C, ldc, nc, i, EMBER_SK_AW_T);
    for (; i < i1; i++) ember_sk_axpys_wide_rows(W, lda, R, Gp, C, ldc, nc, i, 1);
}

#endif

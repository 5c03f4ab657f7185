/* Packing: a panel's taps gathered from the input into the GEMM's buffer (im2col for one
   panel), from the padded copy or, where the AVX-512 packing runs, from the unpadded input
   with masked loads. A part of convgemm.h, included by it before cg_task (it uses cg_geom,
   cg_runs, CG_NB and CG_SLACK from there). */
#ifndef EMBER_CONVGEMM_PACK_H
#define EMBER_CONVGEMM_PACK_H

#ifndef CG_PACK_PAIRS
#define CG_PACK_PAIRS 1
#endif
#if defined(__AVX512F__)
/* Whether runs u and u + 1 are two short runs side by side in the panel (rows of a 4x4 to
   8x8 output), packed as one vector from the even floats of both */
static inline int cg_pair(const cg_runs* runs, int u, int sw) {
    return CG_PACK_PAIRS && sw == 2 && u + 1 < runs->n && runs->len[u] <= 8
           && runs->len[u + 1] <= 8 && runs->col[u + 1] == runs->col[u] + runs->len[u];
}

/* the permutation of such a pair: the first l0 of n lanes from the first run's even floats,
   the rest from the second's (its floats 16 on) */
static inline __m512i cg_pair_index(int l0, int n) {
    int32_t lane[16];
    for (int e = 0; e < 16; e++)
        lane[e] = e < l0 ? 2 * e : e < n ? 16 + 2 * (e - l0) : 0;
    return _mm512_loadu_si512(lane);
}

/* the store of n floats at panel column col: whole, unless it would cross the panel's row */
static inline __mmask16 cg_store_mask(int col, int n) {
    return (__mmask16)(col + 16 > CG_NB ? (1u << n) - 1 : 0xFFFFu);
}

/* The window of 32 input floats from column c of row y that lie inside the H x W plane, as
   a bit mask (bit f: column c + f) */
static inline uint32_t cg_window(const cg_geom* g, ptrdiff_t y, ptrdiff_t c) {
    if (y < 0 || y >= g->H)
        return 0;
    ptrdiff_t lo = c < 0 ? -c : 0, hi = g->W - c;
    if (hi > 32)
        hi = 32;
    if (hi <= lo)
        return 0;
    return (uint32_t)((((uint64_t)1 << hi) - 1) & ~(((uint64_t)1 << lo) - 1));
}

/* A load of 16 floats at p; from the unpadded input (DIRECT), only the lanes in mask m */
#define CG_LOAD(DIRECT, m, p) ((DIRECT) ? _mm512_maskz_loadu_ps((m), (p)) : _mm512_loadu_ps(p))

/* cg_gather for stride 1 or 2: run by run, 16 columns at a time for every tap of the block
   (offsets koff), so a run's setup is paid once a block, not once a tap (ResNet's late
   rows are 7-14 pixels long). Whole vectors: see CG_SLACK; a store that would cross the
   panel's row is masked, the others spill only into columns a later run overwrites.
   direct (a constant of each caller): xp is the unpadded input (g->direct) and every load
   is masked to the floats inside the plane, so a tap on the zero border reads +0 as it did
   from the padded copy (the same bits) and nothing outside the input is touched (a
   masked-off lane does not fault). The masks depend on the run and the kernel offset
   (ktap[k]) only: a table of kh * kw entries a run, built before its k loop. */
static inline __attribute__((always_inline)) void cg_pack(
        const int direct, const cg_geom* g, const float* restrict xp, const cg_runs* runs,
        const int* restrict ktap, const ptrdiff_t* restrict koff, ptrdiff_t kc,
        float* restrict b) {
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6,
                                          4, 2, 0);
    const int sw = (int)g->sw, T = direct ? (int)(g->kh * g->kw) : 0;
    __mmask16 m0[64], m1[64];
    for (int u = 0; u < runs->n; u++) {
        if (cg_pair(runs, u, sw)) {  /* one vector, not one half-empty vector each */
            int l0 = runs->len[u], n = l0 + runs->len[u + 1];
            const __m512i idx = cg_pair_index(l0, n);
            for (int t = 0; t < T; t++) {
                ptrdiff_t i = t / g->kw * g->dh, j = t % g->kw * g->dw;
                m0[t] = (__mmask16)cg_window(g, runs->y0[u] + i, runs->x0[u] + j);
                m1[t] = (__mmask16)cg_window(g, runs->y0[u + 1] + i, runs->x0[u + 1] + j);
            }
            const float* restrict s = xp + runs->src[u];
            ptrdiff_t delta = runs->src[u + 1] - runs->src[u];
            float* restrict d = b + runs->col[u];
            __mmask16 m = cg_store_mask(runs->col[u], n);
            for (ptrdiff_t k = 0; k < kc; k++)
                _mm512_mask_storeu_ps(d + k * CG_NB, m, _mm512_permutex2var_ps(
                    CG_LOAD(direct, m0[ktap[k]], s + koff[k]), idx,
                    CG_LOAD(direct, m1[ktap[k]], s + delta + koff[k])));
            u++;
            continue;
        }
        for (int e = 0; e < runs->len[u]; e += 16) {
            const float* restrict s = xp + runs->src[u] + sw * e;
            float* restrict d = b + runs->col[u] + e;
            int n = runs->len[u] - e < 16 ? runs->len[u] - e : 16;
            __mmask16 m = cg_store_mask(runs->col[u] + e, n);
            for (int t = 0; t < T; t++) {
                uint32_t win = cg_window(g, runs->y0[u] + t / g->kw * g->dh,
                                         runs->x0[u] + sw * e + t % g->kw * g->dw);
                m0[t] = (__mmask16)win;
                m1[t] = (__mmask16)(win >> 16);
            }
            if (sw == 1) {
                for (ptrdiff_t k = 0; k < kc; k++)
                    _mm512_mask_storeu_ps(d + k * CG_NB, m,
                                          CG_LOAD(direct, m0[ktap[k]], s + koff[k]));
            } else {
                for (ptrdiff_t k = 0; k < kc; k++)
                    _mm512_mask_storeu_ps(d + k * CG_NB, m, _mm512_permutex2var_ps(
                        CG_LOAD(direct, m0[ktap[k]], s + koff[k]), even,
                        CG_LOAD(direct, m1[ktap[k]], s + koff[k] + 16)));
            }
        }
    }
}

/* from the padded copy, and from the unpadded input (11% of the finetune step's 3x3/2
   calls at 2 threads went to writing the copy and reading it back) */
static void cg_pack_runs(const cg_geom* g, const float* restrict xp, const cg_runs* runs,
                         const ptrdiff_t* restrict koff, ptrdiff_t kc, float* restrict b) {
    cg_pack(0, g, xp, runs, NULL, koff, kc, b);
}
static void cg_pack_direct(const cg_geom* g, const float* restrict x, const cg_runs* runs,
                           const int* restrict ktap, const ptrdiff_t* restrict koff,
                           ptrdiff_t kc, float* restrict b) {
    cg_pack(1, g, x, runs, ktap, koff, kc, b);
}
#endif

/* koff[k]: where tap k0 + k reads, from a pixel's own offset, for k < kc; ktap[k]: its
   kernel offset i * kw + j */
static void cg_koffsets(const cg_geom* g, ptrdiff_t k0, ptrdiff_t kc, ptrdiff_t* koff,
                        int* ktap) {
    ptrdiff_t taps = g->kh * g->kw, plane = cg_xplane(g), row = cg_xrow(g);
    ptrdiff_t ci = k0 / taps, tap = k0 % taps;
    ptrdiff_t i = tap / g->kw, j = tap % g->kw;
    for (ptrdiff_t k = 0; k < kc; k++) {
        koff[k] = ci * plane + i * g->dh * row + j * g->dw;
        ktap[k] = (int)(i * g->kw + j);
        if (++j == g->kw) {
            j = 0;
            if (++i == g->kh) {
                i = 0;
                ci++;
            }
        }
    }
}

/* Gather the taps at offsets koff (cg_koffsets, from each pixel's own) of a panel's pixels
   into b (kc x CG_NB; columns past the pixels zero). This is im2col for one panel: whole
   runs of a row, stride sw apart, in increasing column order (see CG_SLACK). */
static void cg_gather(const cg_geom* g, const float* restrict xp, const cg_runs* runs,
                      int cols, const int* restrict ktap, const ptrdiff_t* restrict koff,
                      ptrdiff_t kc, float* restrict b) {
#if defined(__AVX512F__)
    if (g->direct) {  /* (the caller's rule: sw <= 2, kh * kw <= 64) */
        cg_pack_direct(g, xp, runs, ktap, koff, kc, b);
    } else if (g->sw <= 2) {
        cg_pack_runs(g, xp, runs, koff, kc, b);
    } else
#else
    (void)ktap;
#endif
    for (ptrdiff_t k = 0; k < kc; k++) {
        float* d = b + k * CG_NB;
        for (int u = 0; u < runs->n; u++) {
            const float* restrict su = xp + koff[k] + runs->src[u];
            float* restrict du = d + runs->col[u];
            int len = runs->len[u];
            if (g->sw == 1) {
                for (int e = 0; e < len; e++)
                    du[e] = su[e];
            } else if (g->sw == 2) {
                for (int e = 0; e < len; e++)
                    du[e] = su[2 * e];
            } else {
                for (int e = 0; e < len; e++)
                    du[e] = su[e * g->sw];
            }
        }
    }
    if (cols < CG_NB)
        for (ptrdiff_t k = 0; k < kc; k++)
            for (int c = cols; c < CG_NB; c++)
                b[k * CG_NB + c] = 0.0f;
}

#endif

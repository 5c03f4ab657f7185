/* The tail of a batch's pixels (cg_tail_start in convgemm.h) as dot products along k:
   the weights' rows are read as they are stored, 16 taps a vector, against the tail pixels'
   taps gathered side by side. A part of convgemm.h, included by it where cg_task needs it
   (it uses cg_geom, CG_MR, CG_KC and CG_TAIL_MAX from there). */
#ifndef EMBER_CONVGEMM_TAIL_H
#define EMBER_CONVGEMM_TAIL_H

#if defined(__AVX512F__)
/* Rows of weights a dot tile reads at once, for nt tail pixels: mr * nt sums, nt vectors of
   taps and one of weights stay within the 32 registers */
#define CG_DOT_ROWS(NT) ((NT) <= 3 ? 8 : 4)

/* Tail pixels as dot products along k: out[r, t] (+)= w[r, :kc] . xt[t, :kc] for rows
   r < mr (ldw apart) and nt <= 4 pixels (xt: their taps, CG_KC apart), each sum 16 lanes of
   multiply-add chains in k order, then reduced in a fixed order. Rows past mr repeat the
   last row (the sums are dropped), so R stays a compile-time constant. */
static inline __attribute__((always_inline)) void cg_dot_tile(
        const int R, const int nt, int mr, ptrdiff_t kc, const float* restrict w,
        ptrdiff_t ldw, const float* restrict xt, int first, float* restrict out,
        ptrdiff_t ldo, const ptrdiff_t* restrict dst) {
    __m512 acc[8][4];
    const float* wr[8];
    for (int r = 0; r < R; r++) {
        wr[r] = w + (r < mr ? r : mr - 1) * ldw;
        for (int t = 0; t < nt; t++)
            acc[r][t] = _mm512_setzero_ps();
    }
    for (ptrdiff_t k = 0; k < kc; k += 16) {
        __mmask16 m = kc - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (kc - k)) - 1);
        __m512 xv[4];
        for (int t = 0; t < nt; t++)
            xv[t] = _mm512_maskz_loadu_ps(m, xt + t * CG_KC + k);
        for (int r = 0; r < R; r++) {
            __m512 wv = _mm512_maskz_loadu_ps(m, wr[r] + k);
            for (int t = 0; t < nt; t++)
                acc[r][t] = _mm512_fmadd_ps(wv, xv[t], acc[r][t]);
        }
    }
    /* reduced over all R rows first: a loop to the runtime mr over acc kept the sums in
       memory, stored on every step of the loop above */
    float sum[8][4];
    for (int r = 0; r < R; r++)
        for (int t = 0; t < nt; t++)
            sum[r][t] = _mm512_reduce_add_ps(acc[r][t]);
    for (int r = 0; r < mr && r < R; r++)
        for (int t = 0; t < nt; t++) {
            float* o = out + r * ldo + dst[t];
            *o = first ? sum[r][t] : *o + sum[r][t];
        }
}

/* cg_dot_tile over rows [0, mr) for nt <= 4 pixels */
static void cg_dot_any(int nt, int mr, ptrdiff_t kc, const float* restrict w, ptrdiff_t ldw,
                       const float* restrict xt, int first, float* restrict out,
                       ptrdiff_t ldo, const ptrdiff_t* restrict dst) {
#define CG_DOT_CASE(NT) \
    case NT: \
        for (int r = 0; r < mr; r += CG_DOT_ROWS(NT)) \
            cg_dot_tile(CG_DOT_ROWS(NT), NT, mr - r, kc, w + r * ldw, ldw, xt, first, \
                        out + r * ldo, ldo, dst); \
        break;
    switch (nt) {
    CG_DOT_CASE(1)
    CG_DOT_CASE(2)
    CG_DOT_CASE(3)
    CG_DOT_CASE(4)
    default: break;
    }
#undef CG_DOT_CASE
}

/* Batch pixels [q, q + nt) of the tail (cg_tail_start) over output channels [c0, c1) and
   the k block of taps at offsets koff, from k0: their taps gathered into xt, then dot
   tiles of CG_MR rows of weights, up to 4 pixels at a time. */
static void cg_tail(const cg_geom* g, const float* restrict xp, const float* restrict w,
                    float* restrict out, ptrdiff_t q, int nt, ptrdiff_t c0, ptrdiff_t c1,
                    ptrdiff_t k0, ptrdiff_t kc, const ptrdiff_t* restrict koff, int first) {
    ptrdiff_t P = g->OH * g->OW, plane = cg_xplane(g), T = g->kh * g->kw;
    float xt[CG_TAIL_MAX * CG_KC];
    ptrdiff_t dst[CG_TAIL_MAX];
    for (int t = 0; t < nt; t++) {
        ptrdiff_t img, p;
        cg_pixel(g, q + t, &img, &p);
        ptrdiff_t oh = p / g->OW, ow = p % g->OW;
        const float* s = xp + img * g->C * plane + oh * g->sh * cg_xrow(g) + ow * g->sw
                         + cg_xorigin(g);
        if (g->direct) {  /* taps on the border: the +0 the padded copy holds */
            for (ptrdiff_t k = 0, tap = k0 % T; k < kc; k++, tap = tap + 1 == T ? 0 : tap + 1) {
                ptrdiff_t y = oh * g->sh - g->ph + tap / g->kw * g->dh;
                ptrdiff_t c = ow * g->sw - g->pw + tap % g->kw * g->dw;
                xt[t * CG_KC + k] = y >= 0 && y < g->H && c >= 0 && c < g->W ? s[koff[k]]
                                                                                : 0.0f;
            }
        } else {
            for (ptrdiff_t k = 0; k < kc; k++)
                xt[t * CG_KC + k] = s[koff[k]];
        }
        dst[t] = img * g->M * P + p;
    }
    for (ptrdiff_t c = c0; c < c1; c += CG_MR) {
        int mr = c1 - c < CG_MR ? (int)(c1 - c) : CG_MR;
        for (int t = 0; t < nt; t += 4)
            cg_dot_any(nt - t < 4 ? nt - t : 4, mr, kc, w + c * g->K + k0, g->K,
                       xt + t * CG_KC, first, out + c * P, P, dst + t);
    }
}
#endif

#endif

/* A packed float32 GEMM for convolutions whose B operand (the im2col matrix) is never
   written whole: each panel of it is gathered straight from the (zero-padded) input into an
   L1-sized buffer, then meets every block of output channels.

   out[n, c, p] = sum_k W[c, k] * X(n, k, p), k = (ci, i, j) a kernel tap of input channel ci,
   p = (oh, ow) an output pixel, X(n, k, p) = xpad[n, ci, oh*sh + i*dh, ow*sw + j*dw].

   Register tile: up to CG_MR output channels x CG_NB output pixels (CG_NVMAX vectors).
   The weights are not packed: a tile broadcasts them from CG_MR rows of W (K apart), which
   stay in L2 for a k block (CG_MR sequential streams). The pixels of a panel may run across
   images of a batch, so a batch of small planes (7x7) fills whole vectors. Partial sums of
   k blocks are added in the output.

   Every output element is one chain of multiply-adds in k order plus one add per k block
   (a batch's tail pixels, cg_tail_start: 16 such chains and a fixed reduction): the same
   arithmetic whichever task or tile computes it, so any split of the work gives the same
   bits. Small planes mostly read on the zero border (a 2x2 output of a padded 3x3
   reads it at 5 of its 9 taps) are computed one output position at a time over that
   position's own taps (cg_task_position), a choice made by the shapes alone. The vector
   width follows the compile level (setup.py builds three copies): AVX-512 zmm, AVX2 ymm,
   SSE2 xmm through GCC's vector extensions (a*b+c contracts to an FMA where the level has
   one). */
#ifndef EMBER_CONVGEMM_H
#define EMBER_CONVGEMM_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#if defined(__AVX512F__)
#define CG_VW 16
#define CG_MR 8
#define CG_NVMAX 3
#elif defined(__AVX2__)
#define CG_VW 8
#define CG_MR 6
#define CG_NVMAX 2
#else
#define CG_VW 4
#define CG_MR 6
#define CG_NVMAX 2
#endif
#define CG_NB (CG_VW * CG_NVMAX)      /* pixels per panel */
/* Taps per k block: a panel is CG_KC x CG_NB floats (36 KB with AVX-512: L1 plus a little;
   128 measured 5-10% slower at 1 thread, 384 no faster). It divides 576, 1152, 2304 and
   4608, ResNet's 3x3 taps per output channel. */
#ifndef CG_KC
#define CG_KC 192
#endif
/* pixels per outer block: its outputs stay in L2 while every k block passes over them */
#ifndef CG_NC
#define CG_NC (4 * CG_NB)
#endif

typedef float cg_vec __attribute__((vector_size(CG_VW * 4)));
/* the same vector read or written at any float-aligned address */
typedef float cg_uvec __attribute__((vector_size(CG_VW * 4), aligned(4)));

static inline int cg_panel_floats(void) { return CG_KC * CG_NB; }

/* A panel's pixels as runs along output rows: run i covers panel columns
   [col[i], col[i] + len[i]), reading from input offset src[i] (image and position; tap
   offsets come on top) and writing to output offset dst[i] (channel 0). */
typedef struct {
    int n;
    int col[CG_NB + 1], len[CG_NB + 1];
    ptrdiff_t src[CG_NB + 1], dst[CG_NB + 1];
    int y0[CG_NB + 1], x0[CG_NB + 1];  /* the run's first input row and column (direct) */
} cg_runs;

/* One tile: mr channels x nv vectors of pixels over kc taps. w: the first channel's weights
   at this k block (rows ldw apart); b: the panel (kc x CG_NB). direct 1: write into out
   (rows ldo apart; adding unless first), only `last` lanes of the last vector; 0: into t
   (CG_MR x CG_NB), for the caller to scatter; 2 (AVX-512): through t, scattered here by
   masked stores segment by segment of `runs` (out is then the output of the tile's first
   channel at pixel 0 of the batch). */
static inline __attribute__((always_inline)) void cg_tile(
        const int mr, const int nv, ptrdiff_t kc, const float* restrict w, ptrdiff_t ldw,
        const int* restrict kidx, const float* restrict b, int first, int direct, int last,
        float* restrict out, ptrdiff_t ldo, float* restrict t, const cg_runs* runs) {
    cg_vec acc[CG_MR][CG_NVMAX];
    for (int r = 0; r < mr; r++)
        for (int v = 0; v < nv; v++)
            acc[r][v] = (cg_vec){0};
    for (ptrdiff_t k = 0; k < kc; k++) {
        cg_vec bv[CG_NVMAX];
        for (int v = 0; v < nv; v++)
            bv[v] = *(const cg_vec*)(b + k * CG_NB + v * CG_VW);
        for (int r = 0; r < mr; r++) {
            /* vector * scalar: a broadcast, no add of 0 */
            float wr = w[r * ldw + (kidx ? kidx[k] : k)];
            for (int v = 0; v < nv; v++)
                acc[r][v] += bv[v] * wr;
        }
    }
    if (direct == 1) {
        for (int r = 0; r < mr; r++) {
            for (int v = 0; v < nv - 1; v++) {
                cg_uvec* o = (cg_uvec*)(out + r * ldo + v * CG_VW);
                *o = first ? acc[r][v] : *o + acc[r][v];
            }
            float* o = out + r * ldo + (nv - 1) * CG_VW;
            if (last == CG_VW) {
                *(cg_uvec*)o = first ? acc[r][nv - 1] : *(cg_uvec*)o + acc[r][nv - 1];
            } else {
                float l[CG_VW];
                *(cg_uvec*)l = acc[r][nv - 1];
                for (int e = 0; e < last; e++)
                    o[e] = first ? l[e] : o[e] + l[e];
            }
        }
    } else if (direct == 2) {
#if defined(__AVX512F__)
        /* segment by segment (pixels of one image, consecutive in the output): every row's
           vectors are loaded before any is stored, since with small planes the windows of
           neighbouring channel rows overlap (a load behind an overlapping masked store
           waits for it to retire) */
        for (int r = 0; r < mr; r++)
            for (int v = 0; v < nv; v++)
                *(cg_uvec*)(t + r * CG_NB + v * CG_VW) = acc[r][v];
        for (int u = 0; u < runs->n; u++) {
            int lo = runs->col[u], len = runs->len[u];
            float* base = out + runs->dst[u];
            __m512 x[CG_MR][CG_NVMAX];
            __mmask16 m[CG_NVMAX];
            int nvs = (len + CG_VW - 1) / CG_VW;
            for (int v = 0; v < nvs; v++) {
                int n = len - v * CG_VW < CG_VW ? len - v * CG_VW : CG_VW;
                m[v] = (__mmask16)((1u << n) - 1);
                for (int r = 0; r < mr; r++) {
                    x[r][v] = _mm512_maskz_loadu_ps(m[v], t + r * CG_NB + lo + v * CG_VW);
                    if (!first)
                        x[r][v] = _mm512_add_ps(x[r][v], _mm512_maskz_loadu_ps(
                            m[v], base + r * ldo + v * CG_VW));
                }
            }
            for (int v = 0; v < nvs; v++)
                for (int r = 0; r < mr; r++)
                    _mm512_mask_storeu_ps(base + r * ldo + v * CG_VW, m[v], x[r][v]);
        }
#else
        (void)runs;
#endif
    } else {
        for (int r = 0; r < mr; r++)
            for (int v = 0; v < nv; v++)
                *(cg_uvec*)(t + r * CG_NB + v * CG_VW) = acc[r][v];
    }
}

/* cg_tile with mr and nv compile-time constants, so the accumulators live in registers. */
#define CG_NV_CASES(R, KIDX) \
    switch (nv) { \
    case 1: cg_tile(R, 1, kc, w, ldw, KIDX, b, first, direct, last, out, ldo, t, runs); break; \
    case 2: cg_tile(R, 2, kc, w, ldw, KIDX, b, first, direct, last, out, ldo, t, runs); break; \
    CG_NV3(R, KIDX) \
    default: break; \
    }
#if CG_NVMAX > 2
#define CG_NV3(R, KIDX) \
    case 3: cg_tile(R, 3, kc, w, ldw, KIDX, b, first, direct, last, out, ldo, t, runs); break;
#else
#define CG_NV3(R, KIDX)
#endif
#define CG_MR_CASES(KIDX) \
    switch (mr) { \
    case 1: CG_NV_CASES(1, KIDX) break; \
    case 2: CG_NV_CASES(2, KIDX) break; \
    case 3: CG_NV_CASES(3, KIDX) break; \
    case 4: CG_NV_CASES(4, KIDX) break; \
    case 5: CG_NV_CASES(5, KIDX) break; \
    case 6: CG_NV_CASES(6, KIDX) break; \
    CG_MR78(KIDX) \
    default: break; \
    }
#if CG_MR > 6
#define CG_MR78(KIDX) case 7: CG_NV_CASES(7, KIDX) break; case 8: CG_NV_CASES(8, KIDX) break;
#else
#define CG_MR78(KIDX)
#endif
/* kidx: the taps of the k block, as indices into the weights' rows (NULL: kc in a row) */
static void cg_tile_any(int mr, int nv, ptrdiff_t kc, const float* restrict w, ptrdiff_t ldw,
                        const int* restrict kidx, const float* restrict b, int first,
                        int direct, int last, float* restrict out, ptrdiff_t ldo,
                        float* restrict t, const cg_runs* runs) {
    if (kidx) {
        CG_MR_CASES(kidx)
    } else {
        CG_MR_CASES(NULL)
    }
}

/* The geometry of one convolution over zero-padded input planes (PH x PW). */
typedef struct {
    ptrdiff_t C, PH, PW, M, K, kh, kw, sh, sw, dh, dw, OH, OW;
    ptrdiff_t H, W, ph, pw;  /* the unpadded plane and its padding */
    ptrdiff_t tail0;  /* batch pixels from here on are dot products (cg_tail_start) */
    /* border classes (convgemm_border.h): the batch's pixels in class order, or porder
       NULL for image order; nb images in the group */
    const int* porder;
    const int* cls_start;
    const uint64_t* cls_mask;
    ptrdiff_t nb;
    /* 1: the panels are gathered straight from the unpadded input (H x W planes), taps on
       the border masked to zeros (cg_pack_direct); 0: from the padded copy (PH x PW) */
    int direct;
} cg_geom;

/* the gathered-from planes' row and plane strides, and where padded (0, 0) sits in them */
static inline ptrdiff_t cg_xrow(const cg_geom* g) { return g->direct ? g->W : g->PW; }
static inline ptrdiff_t cg_xplane(const cg_geom* g) {
    return g->direct ? g->H * g->W : g->PH * g->PW;
}
static inline ptrdiff_t cg_xorigin(const cg_geom* g) {
    return g->direct ? -(g->ph * g->W + g->pw) : 0;
}

/* The last Q % 16 pixels (at most CG_TAIL_MAX) of a batch of Q output pixels that is one
   group of images at any thread count (the caller's rule) are computed as dot products
   along k (cg_dot_tile), not as a vector of 16 pixels that few of its lanes use: one 7x7
   plane (49 pixels) filled 49 of 64 lanes, and the last panel of one pixel read all the
   weights a second time; four of them (196) left a panel of 4. AVX-512 only (the copy
   conv.py routes here). A choice by the shapes alone, so the bits stay fixed. Returns the
   first tail pixel, or PTRDIFF_MAX for none. */
#ifndef CG_TAIL_MAX
#define CG_TAIL_MAX 8
#endif
static inline ptrdiff_t cg_tail_start(ptrdiff_t Q) {
#if defined(__AVX512F__)
    if (Q % CG_VW && Q % CG_VW <= CG_TAIL_MAX)
        return Q - Q % CG_VW;
#else
    (void)Q;
#endif
    return PTRDIFF_MAX;
}

/* convgemm_border.h: border classes, cg_pixel */
#include "convgemm_border.h"

static void cg_make_runs(const cg_geom* g, ptrdiff_t q0, ptrdiff_t q1, cg_runs* runs) {
    ptrdiff_t P = g->OH * g->OW, plane = cg_xplane(g), row = cg_xrow(g);
    runs->n = 0;
    for (ptrdiff_t q = q0; q < q1;) {
        ptrdiff_t img, p, len;
        if (g->porder) {  /* class order: consecutive positions of one row and class */
            ptrdiff_t idx;
            int c;
            cg_locate(g, q, &c, &img, &idx);
            p = g->porder[idx];
            for (len = 1; q + len < q1 && idx + len < g->cls_start[c + 1]
                          && g->porder[idx + len] == p + len && (p + len) % g->OW; len++) {
            }
        } else {
            img = q / P;
            p = q % P;
            len = g->OW - p % g->OW < q1 - q ? g->OW - p % g->OW : q1 - q;
        }
        ptrdiff_t oh = p / g->OW, ow = p % g->OW;
        int i = runs->n++;
        runs->col[i] = (int)(q - q0);
        runs->len[i] = (int)len;
        runs->src[i] = img * g->C * plane + oh * g->sh * row + ow * g->sw + cg_xorigin(g);
        runs->dst[i] = img * g->M * P + p;
        runs->y0[i] = (int)(oh * g->sh - g->ph);
        runs->x0[i] = (int)(ow * g->sw - g->pw);
        q += len;
    }
}

/* Floats of slack the caller leaves after the padded input and after a thread's panel
   buffer: AVX-512 packing copies whole vectors, reading up to 31 floats past a run and
   writing up to 15 past it (into columns a later run, a later row or the zero fill
   overwrites). */
#define CG_SLACK 32
/* the by-position path: outputs of at most this many pixels a plane, fewer than this many
   tenths of whose taps read the input. 8 takes ResNet's 3x3/2 from 4x4 planes (25 of 36
   taps read; 2 threads, 32x256x4x4 -> 512: 1.28-1.32 ms, im2col + OpenBLAS 1.86-2.08, the
   full taps here 2.16; torch 1.41-1.62), not its 3x3/2 from 8x8 (84%: 2.3 ms vs 2.2) */
#ifndef CG_POSITION_MAX_PIXELS
#define CG_POSITION_MAX_PIXELS 16
#endif
#ifndef CG_POSITION_MAX_TENTHS
#define CG_POSITION_MAX_TENTHS 8
#endif

/* convgemm_pack.h: cg_koffsets, cg_gather */
#include "convgemm_pack.h"

/* cg_tail: the dot products of a tail of pixels (AVX-512) */
#include "convgemm_tail.h"

/* One task: batch pixels [q0, q1) (pixel q of the batch is pixel q % P of image q / P)
   and output channels [c0, c1), every k block in order. xp: the padded input batch; w: the
   weights (M x K); out: the output batch (N x M x P); b: this thread's panel buffer
   (cg_panel_floats(), 64-byte aligned). Pixels from g->tail0 on go to cg_tail. In class
   order (g->porder) a block of CG_NC pixels keeps its sums in vout (c1 - c0 rows of CG_NC
   floats) until its last k block, then goes to the output run by run: scattering short
   runs after every k block (through the tile's masked stores) cost more than the skipped
   taps saved. */
static void cg_task(const cg_geom* g, const float* restrict xp, const float* restrict w,
                    float* restrict out, float* restrict b, float* restrict vout,
                    ptrdiff_t q0, ptrdiff_t q1, ptrdiff_t c0, ptrdiff_t c1) {
    ptrdiff_t P = g->OH * g->OW;
    ptrdiff_t koff[CG_KC], koffv[CG_KC], T = g->kh * g->kw;
    int kidx[CG_KC], ktap[CG_KC], ktapv[CG_KC];
    uint64_t full = T >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << T) - 1;
    cg_runs runs, segs;
    float t[CG_MR * CG_NB];
    for (ptrdiff_t qa = q0; qa < q1; qa += CG_NC) {
    ptrdiff_t qb = q1 - qa < CG_NC ? q1 : qa + CG_NC;
    for (ptrdiff_t k0 = 0; k0 < g->K; k0 += CG_KC) {
        ptrdiff_t kc = g->K - k0 < CG_KC ? g->K - k0 : CG_KC;
        int first = k0 == 0;
        cg_koffsets(g, k0, kc, koff, ktap);
        for (ptrdiff_t q = qa; q < qb; q += CG_NB) {
            int cols = qb - q < CG_NB ? (int)(qb - q) : CG_NB;
            if (q + cols > g->tail0) {  /* the tail: its own dot products */
                int tn = (int)(q + cols - (g->tail0 > q ? g->tail0 : q));
                cols -= tn;
#if defined(__AVX512F__)
                cg_tail(g, xp, w, out, q + cols, tn, c0, c1, k0, kc, koff, first);
#endif
                if (!cols)
                    continue;
            }
            int nv = (cols + CG_VW - 1) / CG_VW;
            cg_make_runs(g, q, q + cols, &runs);
            /* a panel of border classes: only the taps one of its pixels reads */
            ptrdiff_t kv = kc;
            if (g->porder) {
                uint64_t m = cg_panel_mask(g, q, q + cols) & full;
                if (m != full)
                    kv = cg_block_taps(g, m, k0, kc, koff, ktap, kidx, koffv, ktapv);
                if (kv == 0)  /* no tap read: the full block computes its zeros */
                    kv = kc;
            }
            cg_gather(g, xp, &runs, cols, kv < kc ? ktapv : ktap, kv < kc ? koffv : koff, kv,
                      b);
            /* pixels consecutive in the output (of one image), or a block of class order's
               sums (vout): the tile writes them itself */
            int direct = 1;
            for (int u = 1; u < runs.n && !vout; u++)
                direct &= runs.dst[u] - runs.dst[0] == runs.col[u];
#if defined(__AVX512F__)
            if (!direct) {  /* the runs merged into segments for the tile's scatter */
                direct = 2;
                segs.n = 0;
                for (int u = 0; u < runs.n; u++) {
                    int z = segs.n - 1;
                    if (z >= 0 && runs.dst[u] == segs.dst[z] + segs.len[z]) {
                        segs.len[z] += runs.len[u];
                    } else {
                        segs.n++;
                        segs.col[z + 1] = runs.col[u];
                        segs.len[z + 1] = runs.len[u];
                        segs.dst[z + 1] = runs.dst[u];
                    }
                }
            }
#endif
            int last = cols - (nv - 1) * CG_VW;
            for (ptrdiff_t c = c0; c < c1; c += CG_MR) {
                int mr = c1 - c < CG_MR ? (int)(c1 - c) : CG_MR;
                if (vout)
                    cg_tile_any(mr, nv, kv, w + c * g->K + k0, g->K, kv < kc ? kidx : NULL,
                                b, first, 1, last, vout + (c - c0) * CG_NC + (q - qa), CG_NC,
                                t, &segs);
                else
                    cg_tile_any(mr, nv, kv, w + c * g->K + k0, g->K, kv < kc ? kidx : NULL,
                                b, first, direct, last,
                                out + (direct == 1 ? runs.dst[0] : 0) + c * P, P, t, &segs);
                if (direct)  /* written by the tile */
                    continue;
                for (int r = 0; r < mr; r++)
                    for (int u = 0; u < runs.n; u++) {
                        float* o = out + runs.dst[u] + (c + r) * P;
                        const float* s = t + r * CG_NB + runs.col[u];
                        if (first)
                            memcpy(o, s, runs.len[u] * sizeof(float));
                        else
                            for (int e = 0; e < runs.len[u]; e++)
                                o[e] += s[e];
                    }
            }
        }
    }
    /* class order: the block's sums, complete, to their places in the output (the tail's
       pixels were written there by cg_tail) */
    ptrdiff_t qe = vout ? (qb < g->tail0 ? qb : g->tail0) : qa;
    for (ptrdiff_t q = qa; q < qe; q += CG_NB) {
        cg_make_runs(g, q, qe - q < CG_NB ? qe : q + CG_NB, &runs);
        for (int u = 0; u < runs.n; u++)
            for (ptrdiff_t c = c0; c < c1; c++)
                memcpy(out + runs.dst[u] + c * P, vout + (c - c0) * CG_NC + (q - qa)
                       + runs.col[u], runs.len[u] * sizeof(float));
    }
    }
}

/* Whether the taps on the zero border are so many (small planes: a 2x2 output of a padded
   3x3 reads it at 5 of 9 taps) that each output position is computed on its own taps
   (cg_task_position); a shape-only choice, so the bits stay fixed. */
static int cg_by_position(const cg_geom* g) {
    ptrdiff_t P = g->OH * g->OW, valid = 0;
    int ij[64];
    if (P > CG_POSITION_MAX_PIXELS || (g->ph == 0 && g->pw == 0) || g->kh * g->kw > 64)
        return 0;
    for (ptrdiff_t p = 0; p < P; p++)
        valid += cg_valid_offsets(g, p, ij);
    return valid * 10 < P * g->kh * g->kw * CG_POSITION_MAX_TENTHS;
}

/* Positions of the by-position path gathered side by side: each block of weights is read
   once for all of them (its rows stay in L1 from one position's tile to the next) */
#ifndef CG_POSITION_GROUP
#define CG_POSITION_GROUP 4
#endif
/* a thread's scratch for cg_task_position: ints of tap indices, floats of sums and panels */
static inline ptrdiff_t cg_position_kidx_ints(void) { return CG_POSITION_GROUP * CG_KC; }
static inline ptrdiff_t cg_position_acc_floats(ptrdiff_t M) {
    return CG_POSITION_GROUP * ((M + CG_MR - 1) / CG_MR * CG_MR) * CG_NB;
}

/* One task of the by-position path: images [n0, n1) and output channels [c0, c1) at every
   output position, each position over its own taps (the kernel offsets (i, j) that land
   inside the input, the same for every input channel). Positions go in groups of
   CG_POSITION_GROUP: per block of input channels, each one's panel (that pixel of up to
   CG_NB images) is gathered, then every tile of output channels runs over all of them,
   so its weights are read from memory once for the group. A panel's sums stay in acc (rows
   of CG_NB floats) across the blocks and reach the output once: scattering one pixel an
   image into the output after every block cost ~14% of a call (1 thread, 4.6 -> 3.97 ms).
   Tasks are not cut by position: the outputs of an image's positions share cache lines (4
   floats at 2x2), which two threads writing neighbouring positions kept stealing from each
   other (2 threads ran no faster than 1). Each output is one multiply-add chain over its
   position's taps in k order plus one add per block of input channels: fixed by the
   shapes. b: CG_POSITION_GROUP panels, pstride floats apart; kidx, acc: see above. */
static void cg_task_position(const cg_geom* g, const float* restrict xp,
                             const float* restrict w, float* restrict out,
                             float* restrict b, ptrdiff_t pstride, int* restrict kidx,
                             float* restrict acc, ptrdiff_t n0, ptrdiff_t n1, ptrdiff_t c0,
                             ptrdiff_t c1) {
    enum { PG = CG_POSITION_GROUP };
    ptrdiff_t P = g->OH * g->OW, plane = g->PH * g->PW, T = g->kh * g->kw;
    ptrdiff_t arows = (c1 - c0 + CG_MR - 1) / CG_MR * CG_MR;
    ptrdiff_t koff[CG_KC];
    cg_runs runs[PG];
    for (ptrdiff_t pg = 0; pg < P; pg += PG) {
        int np = P - pg < PG ? (int)(P - pg) : PG, cnt[PG], maxv = 0;
        int ij[PG][64];  /* kh * kw <= 64 here: cg_by_position */
        for (int q = 0; q < np; q++) {
            ptrdiff_t p = pg + q;
            cnt[q] = cg_valid_offsets(g, p, ij[q]);
            if (cnt[q] > maxv)
                maxv = cnt[q];
            if (cnt[q] == 0)
                for (ptrdiff_t n = n0; n < n1; n++)
                    for (ptrdiff_t c = c0; c < c1; c++)
                        out[(n * g->M + c) * P + p] = 0.0f;
        }
        if (maxv == 0)
            continue;
        ptrdiff_t cib = CG_KC / maxv;  /* input channels a block */
        for (ptrdiff_t n = n0; n < n1; n += CG_NB) {
            int cols = n1 - n < CG_NB ? (int)(n1 - n) : CG_NB;
            int nv = (cols + CG_VW - 1) / CG_VW;
            for (int q = 0; q < np; q++) {
                ptrdiff_t p = pg + q, oh = p / g->OW, ow = p % g->OW;
                runs[q].n = cols;
                for (int u = 0; u < cols; u++) {
                    runs[q].col[u] = u;
                    runs[q].len[u] = 1;
                    runs[q].src[u] = (n + u) * g->C * plane + oh * g->sh * g->PW + ow * g->sw;
                    runs[q].dst[u] = (n + u) * g->M * P + p;
                }
            }
            for (ptrdiff_t ci0 = 0; ci0 < g->C; ci0 += cib) {
                ptrdiff_t ci1 = g->C - ci0 < cib ? g->C : ci0 + cib;
                for (int q = 0; q < np; q++) {
                    int* kq = kidx + q * CG_KC;
                    ptrdiff_t k = 0;
                    for (ptrdiff_t ci = ci0; ci < ci1; ci++)
                        for (int e = 0; e < cnt[q]; e++, k++) {
                            int r = ij[q][e];
                            kq[k] = (int)(ci * T + r);
                            koff[k] = ci * plane + r / g->kw * g->dh * g->PW + r % g->kw * g->dw;
                        }
                    if (k)
                        cg_gather(g, xp, &runs[q], cols, NULL, koff, k, b + q * pstride);
                }
                for (ptrdiff_t c = c0; c < c1; c += CG_MR) {
                    int mr = c1 - c < CG_MR ? (int)(c1 - c) : CG_MR;
                    for (int q = 0; q < np; q++)
                        if (cnt[q])  /* whole vectors into acc's rows (CG_NB floats each) */
                            cg_tile_any(mr, nv, (ci1 - ci0) * cnt[q], w + c * g->K, g->K,
                                        kidx + q * CG_KC, b + q * pstride, ci0 == 0, 1, CG_VW,
                                        acc + (q * arows + c - c0) * CG_NB, CG_NB, NULL, NULL);
                }
            }
            for (int q = 0; q < np; q++) {
                if (!cnt[q])
                    continue;
                for (int u = 0; u < cols; u++) {
                    float* o = out + runs[q].dst[u];
                    const float* a = acc + q * arows * CG_NB + u;
                    for (ptrdiff_t c = c0; c < c1; c++)
                        o[c * P] = a[(c - c0) * CG_NB];
                }
            }
        }
    }
}

#endif

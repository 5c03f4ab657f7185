/* Border classes: the output positions of a padded convolution sorted by which kernel taps
   read the input (not its zero border), so a panel of pixels of one class, or of two
   neighbouring ones, gathers and multiplies only the taps some pixel of it reads. A part of
   convgemm.h, included by it before cg_task (it uses cg_geom from there).

   A tap on the border reads an exact 0 from the padded copy: its multiply-add leaves the
   running sum as it was (sums start at +0 and never become -0). Skipping it inside the same
   k blocks of CG_KC taps therefore gives the very bits of the full taps, whatever pixels
   share a panel: the order only moves work, never a result (but for which pixels of a
   batch are its tail of dot products, cg_tail_start, a choice of the shapes). */
#ifndef EMBER_CONVGEMM_BORDER_H
#define EMBER_CONVGEMM_BORDER_H

/* The kernel offsets i * kw + j of output position p that read the input, not its zero
   border (the same for every input channel), in k order, into ij (kh * kw ints at most);
   returns their count. rows_only: only the rows' border counts (every column reads). */
static int cg_valid_taps(const cg_geom* g, ptrdiff_t p, int rows_only, int* ij) {
    ptrdiff_t oh = p / g->OW, ow = p % g->OW;
    int n = 0;
    for (ptrdiff_t i = 0; i < g->kh; i++) {
        ptrdiff_t y = oh * g->sh + i * g->dh;
        if (y < g->ph || y >= g->ph + g->H)
            continue;
        for (ptrdiff_t j = 0; j < g->kw; j++) {
            ptrdiff_t x = ow * g->sw + j * g->dw;
            if (rows_only || (x >= g->pw && x < g->pw + g->W))
                ij[n++] = (int)(i * g->kw + j);
        }
    }
    return n;
}

static int cg_valid_offsets(const cg_geom* g, ptrdiff_t p, int* ij) {
    return cg_valid_taps(g, p, 0, ij);
}

static uint64_t cg_valid_mask(const cg_geom* g, ptrdiff_t p, int rows_only) {
    int ij[64];
    uint64_t m = 0;
    int n = cg_valid_taps(g, p, rows_only, ij);
    for (int e = 0; e < n; e++)
        m |= (uint64_t)1 << ij[e];
    return m;
}

static inline int cg_popcount(uint64_t m) { return __builtin_popcountll(m); }

/* Sorts the P output positions by border class (kh * kw <= 64): porder[cls_start[c] ..
   cls_start[c + 1]) are the positions of class c in row order, cls_mask[c] its taps (bit
   i * kw + j). The class of every tap comes first (ResNet's interior), then each next class
   is the one whose union of taps with the last is smallest (a panel that straddles the two
   computes that union), the larger first on a tie: 3x3 padding 1 goes round the border,
   top, top-left corner, left, ..., every neighbour pair reading 6 of 9 taps. rows_only:
   classes by rows alone (runs stay whole output rows). porder, cls_mask: P entries,
   cls_start P + 1. Returns the number of classes. */
static int cg_border_order(const cg_geom* g, int rows_only, int* porder, int* cls_start,
                           uint64_t* cls_mask) {
    ptrdiff_t P = g->OH * g->OW;
    int nclass = 0;
    for (ptrdiff_t p = 0; p < P; p++) {  /* distinct classes; sizes in cls_start */
        uint64_t m = cg_valid_mask(g, p, rows_only);
        int c = 0;
        while (c < nclass && cls_mask[c] != m)
            c++;
        if (c == nclass) {
            cls_mask[nclass] = m;
            cls_start[nclass++] = 0;
        }
        cls_start[c]++;
    }
    /* chain order by selection: entries [0, c) placed, the rest candidates */
    for (int c = 0; c < nclass; c++) {
        int best = c;
        for (int d = c; d < nclass; d++) {
            int bu = cg_popcount(c ? cls_mask[c - 1] | cls_mask[best] : ~cls_mask[best]);
            int du = cg_popcount(c ? cls_mask[c - 1] | cls_mask[d] : ~cls_mask[d]);
            if (du < bu || (du == bu && cls_start[d] > cls_start[best]))
                best = d;
        }
        uint64_t m = cls_mask[c];
        int s = cls_start[c];
        cls_mask[c] = cls_mask[best];
        cls_start[c] = cls_start[best];
        cls_mask[best] = m;
        cls_start[best] = s;
    }
    int at = 0;
    for (int c = 0; c < nclass; c++) {  /* sizes -> starts, positions in row order */
        cls_start[c] = at;
        for (ptrdiff_t p = 0; p < P; p++)
            if (cg_valid_mask(g, p, rows_only) == cls_mask[c])
                porder[at++] = (int)p;
    }
    cls_start[nclass] = at;
    return nclass;
}

/* Batch pixel q of a group of g->nb images in class order: class c (every image's pixels of
   class 0, then of class 1, ...; within a class image by image), image img, and its index
   idx into porder. */
static inline void cg_locate(const cg_geom* g, ptrdiff_t q, int* c, ptrdiff_t* img,
                             ptrdiff_t* idx) {
    int k = 0;
    while (q >= g->nb * g->cls_start[k + 1])
        k++;
    ptrdiff_t r = q - g->nb * g->cls_start[k], size = g->cls_start[k + 1] - g->cls_start[k];
    *c = k;
    *img = r / size;
    *idx = g->cls_start[k] + r % size;
}

/* Image and output position of batch pixel q (class order when g->porder is set) */
static inline void cg_pixel(const cg_geom* g, ptrdiff_t q, ptrdiff_t* img, ptrdiff_t* p) {
    ptrdiff_t P = g->OH * g->OW, idx;
    int c;
    if (!g->porder) {
        *img = q / P;
        *p = q % P;
        return;
    }
    cg_locate(g, q, &c, img, &idx);
    *p = g->porder[idx];
}

/* The taps any of batch pixels [q0, q1) reads (class order) */
static uint64_t cg_panel_mask(const cg_geom* g, ptrdiff_t q0, ptrdiff_t q1) {
    int a, b;
    ptrdiff_t img, idx;
    uint64_t m = 0;
    cg_locate(g, q0, &a, &img, &idx);
    cg_locate(g, q1 - 1, &b, &img, &idx);
    for (int c = a; c <= b; c++)
        m |= g->cls_mask[c];
    return m;
}

/* Thousandths of the taps of a group of g->nb images in class order that its panels
   (CG_NB pixels from pixel 0) skip: each panel computes the union of its classes' taps */
static ptrdiff_t cg_border_saving(const cg_geom* g) {
    ptrdiff_t Q = g->nb * g->OH * g->OW, T = g->kh * g->kw, saved = 0;
    uint64_t full = T >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << T) - 1;
    for (ptrdiff_t q = 0; q < Q; q += CG_NB) {
        ptrdiff_t cols = Q - q < CG_NB ? Q - q : CG_NB;
        saved += (T - cg_popcount(cg_panel_mask(g, q, q + cols) & full)) * cols;
    }
    return Q ? saved * 1000 / (Q * T) : 0;
}

/* The taps of k block [k0, k0 + kc) in mask (bit: tap % (kh * kw)) as indices into the
   block (kidx), their offsets (koffv, picked from koff) and kernel offsets (ktapv, from
   ktap); returns their count. */
static ptrdiff_t cg_block_taps(const cg_geom* g, uint64_t mask, ptrdiff_t k0, ptrdiff_t kc,
                               const ptrdiff_t* restrict koff, const int* restrict ktap,
                               int* restrict kidx, ptrdiff_t* restrict koffv,
                               int* restrict ktapv) {
    ptrdiff_t T = g->kh * g->kw, tap = k0 % T, n = 0;
    for (ptrdiff_t k = 0; k < kc; k++) {
        if (mask >> tap & 1) {
            kidx[n] = (int)k;
            ktapv[n] = ktap[k];
            koffv[n++] = koff[k];
        }
        if (++tap == T)
            tap = 0;
    }
    return n;
}

#endif

/* Batch norm's per-plane sweep (norm.pyx): the gradient sums of one (n, c) plane and the
 * eval-mode input gradient in one pass over it. In C for one reason: GCC's vector extension.
 * The running sums are vector values one register wide (of the level the copy is built
 * for), so they stay in registers for the whole plane; written in Cython (or as lane
 * arrays) they are spilled and re-gathered around every loop, and an `omp simd` reduction
 * into one double is a dependent chain (one add latency per vector: the old channel sums
 * ran at a third of a copy's speed). A 14x14 plane is 12 AVX-512 vectors: per-plane
 * overhead is what matters there.
 *
 * Up to BN_STEPS consecutive vectors are added in the storage type, then joined to double
 * accumulators, so a float32 rounding is that of a 4-term sum and the long sums are in
 * double; the tail of a plane (less than one vector) is added in double. The order of every
 * addition is fixed by this C for each copy, and a plane's sums do not depend on which
 * thread ran it. Instantiated for float and double; norm.pyx's fused wrapper picks one. */
#ifndef EMBER_NORM_H
#define EMBER_NORM_H
#include <stddef.h>
#include <string.h>

#define BN_STEPS 4

/* One register of the level the copy is built for: a wider generic vector is lowered
   through the stack on AVX2 (five times the instructions of the AVX-512 copy's sweep). So
   the float32 rounding of the 4-term sums depends on the copy's level, as the lane count
   does; within one copy it never depends on the thread count. */
#if defined(__AVX512F__)
#define BN_VEC_BYTES 64
#define BN_LO 0, 1, 2, 3, 4, 5, 6, 7
#define BN_HI 8, 9, 10, 11, 12, 13, 14, 15
#elif defined(__AVX__)
#define BN_VEC_BYTES 32
#define BN_LO 0, 1, 2, 3
#define BN_HI 4, 5, 6, 7
#else
#define BN_VEC_BYTES 16
#define BN_LO 0, 1
#define BN_HI 2, 3
#endif
#define BN_DLANES (BN_VEC_BYTES / 8)

typedef float bn_vec_float __attribute__((vector_size(BN_VEC_BYTES)));
typedef double bn_vec_double __attribute__((vector_size(BN_VEC_BYTES)));
typedef float bn_half_float __attribute__((vector_size(BN_VEC_BYTES / 2)));

/* acc[0..1] += p, widened to double: float's lanes as two halves, double's into acc[0].
   Halves by shuffle, not memcpy: taking p's address would keep the running sum in memory. */
static inline void bn_widen_add_float(bn_vec_float p, bn_vec_double* acc) {
    bn_half_float lo = __builtin_shufflevector(p, p, BN_LO);
    bn_half_float hi = __builtin_shufflevector(p, p, BN_HI);
    acc[0] += __builtin_convertvector(lo, bn_vec_double);
    acc[1] += __builtin_convertvector(hi, bn_vec_double);
}

static inline void bn_widen_add_double(bn_vec_double p, bn_vec_double* acc) {
    acc[0] += p;
}

/* the lanes of acc[0] + acc[1], added pairwise in a fixed order */
static inline double bn_total(const bn_vec_double* acc) {
    bn_vec_double v = acc[0] + acc[1];
    double s[BN_DLANES];
    memcpy(s, &v, sizeof s);
    for (int w = BN_DLANES / 2; w >= 1; w /= 2)
        for (int j = 0; j < w; j++) s[j] += s[j + w];
    return s[0];
}

/* one vector at offset i: its g and (x - m) * g into p1, p2; gx written when asked */
#define BN_LOAD(T, i, gv, pv)                                                                \
    bn_vec_##T gv, pv;                                                                       \
    {                                                                                        \
        bn_vec_##T xv_;                                                                      \
        memcpy(&gv, g + (i), sizeof gv);                                                     \
        memcpy(&xv_, x + (i), sizeof xv_);                                                   \
        pv = gv * (xv_ - mv);                                                                \
        if (gx) {                                                                            \
            bn_vec_##T ov_ = gv * kv;                                                        \
            memcpy(gx + (i), &ov_, sizeof ov_);                                              \
        }                                                                                    \
    }

#define EMBER_NORM_PLANE(T)                                                                  \
/* s = {sum(g), sum(g * (x - m))} over n elements, and gx = g * k unless gx is NULL (gx may  \
   be g: each vector is read before it is written). Four vectors are added as a tree, so no \
   dependent chain runs through the block; only the double sums carry across blocks. */    \
static inline void bn_grad_plane_##T(const T* g, const T* x, T* gx, ptrdiff_t n, T k, T m,  \
                                     double* s) {                                            \
    enum { W = sizeof(bn_vec_##T) / sizeof(T) };                                             \
    bn_vec_double a1[2] = {{0}, {0}}, a2[2] = {{0}, {0}};                                    \
    bn_vec_##T mv = (bn_vec_##T){0} + m, kv = (bn_vec_##T){0} + k;                           \
    double t1 = 0.0, t2 = 0.0;                                                               \
    ptrdiff_t i = 0;                                                                         \
    for (; i + BN_STEPS * W <= n; i += BN_STEPS * W) {                                       \
        BN_LOAD(T, i, g0, p0)                                                                \
        BN_LOAD(T, i + W, g1, p1)                                                            \
        BN_LOAD(T, i + 2 * W, g2, p2)                                                        \
        BN_LOAD(T, i + 3 * W, g3, p3)                                                        \
        bn_widen_add_##T((g0 + g1) + (g2 + g3), a1);                                         \
        bn_widen_add_##T((p0 + p1) + (p2 + p3), a2);                                         \
    }                                                                                        \
    for (; i + W <= n; i += W) {                                                             \
        BN_LOAD(T, i, g0, p0)                                                                \
        bn_widen_add_##T(g0, a1);                                                            \
        bn_widen_add_##T(p0, a2);                                                            \
    }                                                                                        \
    for (; i < n; i++) {                                                                     \
        T gs = g[i];                                                                         \
        t1 += (double)gs;                                                                    \
        t2 += (double)(gs * (x[i] - m));                                                     \
        if (gx) gx[i] = gs * k;                                                              \
    }                                                                                        \
    s[0] = bn_total(a1) + t1;                                                                \
    s[1] = bn_total(a2) + t2;                                                                \
}
EMBER_NORM_PLANE(float)
EMBER_NORM_PLANE(double)
#undef EMBER_NORM_PLANE
#undef BN_LOAD

#endif

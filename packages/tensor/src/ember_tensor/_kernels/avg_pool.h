/* Global average pooling's plane sums in C for GCC's vector extension (avg_pool.pyx's
   _plane_sum): a global pool sums thousands of short planes (10240 planes of 7x7 for
   MobileNetV2 at batch 8); reduce.pyx's row_sum gives the value that must come out (the
   pool equals mean(dim=(-2, -1)) bit for bit), but per plane it costs a call through
   another module's pointer, a generic loop set-up and a lane tree that gcc keeps on the
   stack. For a plane shorter than one block of 4 steps (EMBER_SUM_LANES *
   EMBER_SUM_STEPS = 64 elements) this is the same arithmetic in the same order as simd.h's
   ember_lanes_sum (16 double lanes, each adding its elements of every full 16-element
   block; the rest summed in order; the lanes added pairwise, 8 then 4, 2, 1; plus the
   rest), with the 16 lanes as two vector values that stay in registers.
   Instantiated for float and double; avg_pool.pyx's fused wrapper picks one. */
#ifndef EMBER_AVG_POOL_H
#define EMBER_AVG_POOL_H
#include <stddef.h>
#include <string.h>

/* the planes avg_pool.h sums itself: those with no 4-step block in simd.h's lanes_sum */
#define EMBER_POOL_SHORT_PLANE 64

typedef float ember_pool_v8f __attribute__((vector_size(32)));
typedef double ember_pool_v8d __attribute__((vector_size(64)));

#define EMBER_POOL_SHORT_SUM(T, S, LOAD8)                                                  \
static inline double ember_pool_short_sum_##S(const T* x, ptrdiff_t n) {                 \
    ember_pool_v8d lo = {0}, hi = {0};                                                    \
    ptrdiff_t k = 0;                                                                      \
    for (; k + 16 <= n; k += 16) {                                                        \
        lo += LOAD8(x + k);                                                               \
        hi += LOAD8(x + k + 8);                                                           \
    }                                                                                     \
    double tail = 0.0;                                                                    \
    for (; k < n; k++) tail += (double)x[k];                                              \
    ember_pool_v8d s = lo + hi;                  /* lane j + lane j + 8 */                \
    double t0 = s[0] + s[4], t1 = s[1] + s[5], t2 = s[2] + s[6], t3 = s[3] + s[7];        \
    double u0 = t0 + t2, u1 = t1 + t3;                                                    \
    return (u0 + u1) + tail;                                                              \
}

/* eight elements as doubles, loaded unaligned (macros: a function returning a 64-byte
   vector draws gcc's ABI warning in the builds below AVX-512) */
#define EMBER_POOL_LOAD8_F32(p) __extension__({                                          \
    ember_pool_v8f v_;                                                                    \
    memcpy(&v_, (p), sizeof v_);                                                          \
    __builtin_convertvector(v_, ember_pool_v8d);                                          \
})
#define EMBER_POOL_LOAD8_F64(p) __extension__({                                          \
    ember_pool_v8d v_;                                                                    \
    memcpy(&v_, (p), sizeof v_);                                                          \
    v_;                                                                                   \
})

EMBER_POOL_SHORT_SUM(float, f32, EMBER_POOL_LOAD8_F32)
EMBER_POOL_SHORT_SUM(double, f64, EMBER_POOL_LOAD8_F64)
#undef EMBER_POOL_SHORT_SUM

#endif

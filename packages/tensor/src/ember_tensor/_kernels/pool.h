/* Two pooling loops in C for GCC's vector extension (the max-pool row sweep is further
   down). Global average pooling's plane sums (pool.pyx's _plane_sum): a global pool sums
   thousands of short planes (10240 planes of 7x7 for
   MobileNetV2 at batch 8); reduce.pyx's row_sum gives the value that must come out (the
   pool equals mean(dim=(-2, -1)) bit for bit), but per plane it costs a call through
   another module's pointer, a generic loop set-up and a lane tree that gcc keeps on the
   stack. For a plane shorter than one block of 4 steps (EMBER_SUM_LANES *
   EMBER_SUM_STEPS = 64 elements) this is the same arithmetic in the same order as simd.h's
   ember_lanes_sum (16 double lanes, each adding its elements of every full 16-element
   block; the rest summed in order; the lanes added pairwise, 8 then 4, 2, 1; plus the
   rest), with the 16 lanes as two vector values that stay in registers.
   Instantiated for float and double; pool.pyx's fused wrapper picks one. */
#ifndef EMBER_POOL_H
#define EMBER_POOL_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* the planes pool.h sums itself: those with no 4-step block in simd.h's lanes_sum */
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

/* Max pooling's interior sweep (pool.pyx's max_pool_plane) for float32: the outputs of one
   output row whose every column tap is inside the row, at column stride 1 or 2 (every max
   pool of the torchvision models). The Cython sweep keeps each output's running max and
   argmax in the output arrays across the taps (they may alias the input as far as gcc
   knows) and gcc keeps its NaN test a branch, so a ResNet stem pool 32x64x32x32 cost
   ~8 us a 16x16 plane, most of it mispredicted branches. Here 8 outputs at a time keep
   their max and argmax in vector registers over all taps (GCC's vector extension: the
   compare is a mask, never a branch), a stride-2 tap is two loads and a shuffle, and the
   block is stored once. Taps go in the same row-major order with the same rule (a strictly
   greater value or a NaN replaces the max), so values and indices are the sweep's exactly.
   The last block of a row overlaps the one before rather than running a scalar tail
   (recomputing an output gives the same bits). A row of n < 8 outputs (AlexNet-sized
   planes: adaptive 13 -> 6 is a 3x3/2 pool with 6 outputs a row) runs one block whose
   lanes past n read input beyond the row and are not stored; the caller makes sure that
   input exists (pool.pyx's _max_row_blocked). Positions are tracked as int32 within the
   plane (the caller keeps planes under 2^31 elements) and widened to the int64 indices at
   the store: an 8 x int64 vector is two registers below AVX-512, and gcc kept it on the
   stack, ~40 instructions a tap in the AVX2 copy. */
typedef float ember_pool_v8sf __attribute__((vector_size(32)));
typedef int32_t ember_pool_v8si __attribute__((vector_size(32)));
typedef int64_t ember_pool_v8di __attribute__((vector_size(64)));

#define EMBER_MAX_ROW_F32(SW, LOAD)                                                         \
static inline void ember_max_row_s##SW##_f32(                                               \
        const float* x, ptrdiff_t W, float* out, int64_t* idx, ptrdiff_t n, ptrdiff_t base, \
        ptrdiff_t rows, ptrdiff_t dh, ptrdiff_t kw, ptrdiff_t dw) {                         \
    const ember_pool_v8si lane = {0, SW, 2 * SW, 3 * SW, 4 * SW, 5 * SW, 6 * SW, 7 * SW};   \
    for (ptrdiff_t o = 0;; o += 8) {                                                        \
        if (o + 8 > n) o = n > 8 ? n - 8 : 0;                                               \
        ptrdiff_t p0 = base + o * SW;                                                       \
        ember_pool_v8sf m = LOAD(x + p0);                                                   \
        ember_pool_v8si b = lane + (int32_t)p0;                                             \
        for (ptrdiff_t r = 0; r < rows; r++) {                                              \
            for (ptrdiff_t j = 0; j < kw; j++) {                                            \
                ptrdiff_t p = p0 + r * dh * W + j * dw;                                     \
                ember_pool_v8sf v = LOAD(x + p);                                            \
                ember_pool_v8si c = (v > m) | (v != v);                                     \
                m = (ember_pool_v8sf)(((ember_pool_v8si)v & c) | ((ember_pool_v8si)m & ~c)); \
                b = ((lane + (int32_t)p) & c) | (b & ~c);                                   \
            }                                                                               \
        }                                                                                   \
        ember_pool_v8di b64 = __builtin_convertvector(b, ember_pool_v8di);                  \
        if (n < 8) {                                                                        \
            memcpy(out, &m, (size_t)n * sizeof(float));                                    \
            memcpy(idx, &b64, (size_t)n * sizeof(int64_t));                                 \
            return;                                                                         \
        }                                                                                   \
        memcpy(out + o, &m, sizeof m);                                                      \
        memcpy(idx + o, &b64, sizeof b64);                                                  \
        if (o + 8 == n) return;                                                             \
    }                                                                                       \
}

/* x[0..7] */
#define EMBER_POOL_LOAD_S1(p) __extension__({                                              \
    ember_pool_v8sf v_;                                                                   \
    memcpy(&v_, (p), sizeof v_);                                                          \
    v_;                                                                                   \
})
/* x[0], x[2], ..., x[14]: the second load starts at x[7] so it never reads past x[14] */
#define EMBER_POOL_LOAD_S2(p) __extension__({                                              \
    ember_pool_v8sf lo_, hi_;                                                             \
    memcpy(&lo_, (p), sizeof lo_);                                                        \
    memcpy(&hi_, (p) + 7, sizeof hi_);                                                    \
    __builtin_shufflevector(lo_, hi_, 0, 2, 4, 6, 9, 11, 13, 15);                         \
})

/* n >= 1 outputs in both; n < 8 reads lanes past the row (see above) */
EMBER_MAX_ROW_F32(1, EMBER_POOL_LOAD_S1)
EMBER_MAX_ROW_F32(2, EMBER_POOL_LOAD_S2)
#undef EMBER_MAX_ROW_F32

#endif

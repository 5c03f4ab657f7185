/* Max pooling's interior sweep (max_pool.pyx's max_pool_plane) for float32: the outputs of
   one output row whose every column tap is inside the row, at column stride 1 or 2 (every max
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
   input exists (max_pool.pyx's _max_row_blocked). Positions are tracked as int32 within
   the plane (the caller keeps planes under 2^31 elements) and widened to the int64 indices at
   the store: an 8 x int64 vector is two registers below AVX-512, and gcc kept it on the
   stack, ~40 instructions a tap in the AVX2 copy. */
#ifndef EMBER_MAX_POOL_H
#define EMBER_MAX_POOL_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/* The kernels' one SIMD header: float32 exp, sigmoid, tanh and erf written for the
 * vectoriser, and the row loops (sum, squared deviations, dot, max, gradient sums, a*x + b)
 * every kernel module shares. Cython reaches them through simd.pxd, whose fused inline
 * wrappers pick the float32 or float64 copy, so no kernel spells a per-dtype name.
 *
 * libm's expf/tanhf are one call per element, so a loop over them never becomes SIMD code.
 * These are straight-line inline functions: every special case (NaN, +-inf, overflow,
 * underflow, tiny arguments) is handled by computing the ordinary answer on a clamped input
 * and then *selecting* the special answer, never by branching, so gcc/clang turn the loops
 * that call them into vector code. Checked against double-precision libm over every float32
 * input of the ranges that matter (tests/tensor/test_elementwise_fast_math.py samples them):
 * exp within 1.01 ulp, sigmoid within 2.5 ulp (1/(1 + e^-x), as torch: 0 below -88.72),
 * tanh within 1.33 ulp, erf within 3 ulp.
 */
#ifndef EMBER_SIMD_H
#define EMBER_SIMD_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

/* Above EMBER_EXPF_HI (just past ln(FLT_MAX)) exp(x) is inf in float32; below EMBER_EXPF_LO
   (ln(2^-150), half the smallest subnormal) it rounds to 0. Clamping to them keeps 2^n within
   two float exponents. */
#define EMBER_EXPF_HI 88.72283935546875f
#define EMBER_EXPF_LO -103.97283935546875f

/* e^xc for xc in [EMBER_EXPF_LO, EMBER_EXPF_HI] (never NaN): the arithmetic the exps below
   share; they clamp their argument into that range and select the special answers. */
static inline float ember_expf_in_range(float xc)
{
    /* x = n*ln2 + r with |r| <= ln2/2. ln2 is split in a 9-bit head (n*head is exact for
       |n| <= 2^15) and a tail, so r keeps its low bits (Cody-Waite). */
    const float log2e = 1.44269504088896341f;
    const float ln2_hi = 0.693359375f;
    const float ln2_lo = -2.12194440e-4f;
    /* adding 1.5*2^23 rounds to the nearest integer in the low mantissa bits; no call */
    const float shifter = 12582912.0f;
    float t = xc * log2e + shifter;
    float fn = t - shifter;
    float r = xc - fn * ln2_hi;
    r = r - fn * ln2_lo;
    /* e^r on [-ln2/2, ln2/2]: minimax polynomial (Cephes expf), error below 1 ulp */
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    /* 2^n as two factors: n spans [-150, 128], beyond one float exponent either way, and
       splitting keeps both factors normal so a subnormal result is rounded only once */
    int32_t n = (int32_t)fn;
    int32_t n1 = n >> 1;
    union { float f; int32_t i; } s1, s2;
    s1.i = (n1 + 127) << 23;
    s2.i = (n - n1 + 127) << 23;
    return (p * s1.f) * s2.f;
}

static inline float ember_fast_expf(float x)
{
    float xc = x < EMBER_EXPF_LO ? EMBER_EXPF_LO : x;
    xc = xc > EMBER_EXPF_HI ? EMBER_EXPF_HI : xc;
    xc = xc == xc ? xc : 0.0f; /* NaN: compute anything, the select below restores it */
    float out = ember_expf_in_range(xc);
    out = x > EMBER_EXPF_HI ? INFINITY : out;
    out = x < EMBER_EXPF_LO ? 0.0f : out;
    return x == x ? out : x;
}

/* ember_fast_expf for x <= 0 or NaN only, as softmax's x - max(x) always is: nothing can
   overflow, so of the selects only underflow and NaN remain. The same bits as
   ember_fast_expf on that domain (checked over every such float32) in ~40% fewer vector
   instructions: softmax's exp pass over 64x1000 went 28 -> 16 us (AVX-512, 1 thread). */
static inline float ember_fast_exp_nonposf(float x)
{
    float xc = x >= EMBER_EXPF_LO ? x : EMBER_EXPF_LO; /* NaN -> LO: computes anything */
    float out = ember_expf_in_range(xc);
    out = x >= EMBER_EXPF_LO ? out : 0.0f;
    return x == x ? out : x;
}

static inline float ember_fast_sigmoidf(float x)
{
    /* exp(-x) overflowing to inf gives 1/inf = 0, the right limit; NaN propagates */
    return 1.0f / (1.0f + ember_fast_expf(-x));
}

static inline float ember_fast_tanhf(float x)
{
    /* Worked on |x|, the sign put back last (so tanh(-0.0) is -0.0). Near 0,
       1 - 2/(e^2|x| + 1) cancels catastrophically: use an odd polynomial there (Cephes tanhf,
       |x| < 0.625). Beyond, the exp form loses under a bit; e^2|x| overflows to inf for large
       |x| and gives exactly 1. Both are computed, one is selected. */
    float ax = fabsf(x);
    float z = ax * ax;
    float small = -5.70498872745e-3f;
    small = small * z + 2.06390887954e-2f;
    small = small * z - 5.37397155531e-2f;
    small = small * z + 1.33314422036e-1f;
    small = small * z - 3.33332819422e-1f;
    small = small * z * ax + ax;
    float big = 1.0f - 2.0f / (ember_fast_expf(2.0f * ax) + 1.0f);
    return copysignf(ax < 0.625f ? small : big, x); /* NaN fails the test: big is NaN */
}

static inline float ember_fast_erff(float x)
{
    /* Worked on |x|, the sign put back last. |x| < 1: erf(x)/x as a degree-5 polynomial in
       x^2. 1 <= |x| < 4: 1 - e^-x^2 * Q(|x|) with Q ~ erfc(x)*e^x^2 a degree-10 polynomial
       (least squares on Chebyshev nodes, float32 coefficients). From 4 on erf is 1 in float32;
       Q's argument is clamped so it stays on its fitted range. Within 3 ulp. */
    float ax = fabsf(x);
    float z = ax * ax;
    float s = -5.6967133e-04f;
    s = s * z + 4.9345191e-03f;
    s = s * z - 2.6726989e-02f;
    s = s * z + 1.1280789e-01f;
    s = s * z - 3.7612414e-01f;
    s = s * z + 1.1283791e+00f;
    s = s * ax;
    float t = ax < 4.0f ? ax : 4.0f;
    float q = 1.6718018e-06f;
    q = q * t - 4.8181129e-05f;
    q = q * t + 6.2823482e-04f;
    q = q * t - 4.9121566e-03f;
    q = q * t + 2.5758350e-02f;
    q = q * t - 9.6099682e-02f;
    q = q * t + 2.6451391e-01f;
    q = q * t - 5.5056977e-01f;
    q = q * t + 8.8079065e-01f;
    q = q * t - 1.0854113e+00f;
    q = q * t + 9.9293190e-01f;
    float big = 1.0f - ember_fast_expf(-z) * q;
    big = ax >= 4.0f ? 1.0f : big;
    return copysignf(ax < 1.0f ? s : big, x); /* NaN fails both tests: big is e^NaN, NaN */
}

/* Row loops, written once and instantiated for float (S = f32) and double (S = f64).
   `omp simd reduction` grants the reassociation that plain C forbids (a + b + c is not
   a + (b + c) in floating point), so a float32 row is summed several double lanes at a time.
   Without OpenMP the pragmas are ignored and the loops run scalar, still correct. */
#define EMBER_SIMD_ROWS(T, S)                                                               \
static inline double ember_sum_##S(const T* x, ptrdiff_t n) {                              \
    double s = 0.0;                                                                         \
    _Pragma("omp simd reduction(+:s)")                                                      \
    for (ptrdiff_t k = 0; k < n; k++) s += (double)x[k];                                    \
    return s;                                                                               \
}                                                                                           \
static inline double ember_sqdev_##S(const T* x, ptrdiff_t n, double m) {                  \
    double s = 0.0;                                                                         \
    _Pragma("omp simd reduction(+:s)")                                                      \
    for (ptrdiff_t k = 0; k < n; k++) { double d = (double)x[k] - m; s += d * d; }          \
    return s;                                                                               \
}                                                                                           \
static inline double ember_dot_##S(const T* a, const T* b, ptrdiff_t n) {                  \
    double s = 0.0;                                                                         \
    _Pragma("omp simd reduction(+:s)")                                                      \
    for (ptrdiff_t k = 0; k < n; k++) s += (double)a[k] * (double)b[k];                     \
    return s;                                                                               \
}                                                                                           \
/* n >= 1; NaN is not propagated (callers that need it check separately) */               \
static inline T ember_max_##S(const T* x, ptrdiff_t n) {                                   \
    T m = x[0];                                                                             \
    _Pragma("omp simd reduction(max:m)")                                                    \
    for (ptrdiff_t k = 1; k < n; k++) m = x[k] > m ? x[k] : m;                              \
    return m;                                                                               \
}                                                                                           \
/* *s1 += sum(g * w), *s2 += sum(g * w * (x - m)); w == NULL means weight 1 */              \
static inline void ember_grad_sums_##S(const T* g, const T* x, const double* w,            \
                                       ptrdiff_t n, double m, double* s1, double* s2) {     \
    double a = 0.0, b = 0.0;                                                                \
    if (w) {                                                                                \
        _Pragma("omp simd reduction(+:a,b)")                                                \
        for (ptrdiff_t k = 0; k < n; k++) {                                                 \
            double gw = (double)g[k] * w[k]; a += gw; b += gw * ((double)x[k] - m);         \
        }                                                                                   \
    } else {                                                                                \
        _Pragma("omp simd reduction(+:a,b)")                                                \
        for (ptrdiff_t k = 0; k < n; k++) {                                                 \
            double gv = (double)g[k]; a += gv; b += gv * ((double)x[k] - m);                \
        }                                                                                   \
    }                                                                                       \
    *s1 += a;                                                                               \
    *s2 += b;                                                                               \
}                                                                                           \
/* out = x * a + b, then max(., 0) when relu */                                            \
static inline void ember_axpb_##S(const T* x, T* out, ptrdiff_t n, T a, T b, int relu) {   \
    if (relu) {                                                                             \
        _Pragma("omp simd")                                                                 \
        for (ptrdiff_t k = 0; k < n; k++) { T v = x[k] * a + b; out[k] = v > (T)0 ? v : (T)0; } \
    } else {                                                                                \
        _Pragma("omp simd")                                                                 \
        for (ptrdiff_t k = 0; k < n; k++) out[k] = x[k] * a + b;                            \
    }                                                                                       \
}                                                                                           \
/* out = x * a + y * b + c */                                                              \
static inline void ember_axpbyc_##S(const T* x, const T* y, T* out, ptrdiff_t n, T a, T b, \
                                    T c) {                                                  \
    _Pragma("omp simd")                                                                     \
    for (ptrdiff_t k = 0; k < n; k++) out[k] = x[k] * a + y[k] * b + c;                     \
}
EMBER_SIMD_ROWS(float, f32)
EMBER_SIMD_ROWS(double, f64)
#undef EMBER_SIMD_ROWS

/* Long sums, fast and deterministic. EMBER_SUM_LANES independent lanes each add
   EMBER_SUM_STEPS consecutive values of their own in the input's type, then the lane totals
   join double accumulators: the float32 rounding is that of a 4-term sum, the long chain is
   in double, and no dependency chain runs through one register (the single-double loops
   above run at one add latency per vector, 2x slower). Nothing is reassociated: the order of
   every addition is fixed by this C, so a result is the same for every vector width the
   kernels are compiled for (baseline, AVX2, AVX-512). 16 lanes of 4 steps streamed from
   memory faster than wider blocks and kept the per-row cost of 1000-element rows low (Zen 4).
   Outer sums (add_rows) add EMBER_SUM_ROW_STEPS = 16 rows in the input's type, as a tree
   of depth 4, before converting: there the conversion is per element, and 8 rows beat 4;
   16 as a tree beat a chain of 8 (1000x1000 dim=0, 1 thread AVX-512, C harness: 70 -> 65 us)
   and round less (depth 4 against a chain of 7 adds).
   ember_lanes_sum_seq is that scheme; float32 rows of 64 and more take ember_lanes_sum_f32
   below, float64 rows and short float32 rows (whose bits avg_pool.h reproduces) take it as is. */
#define EMBER_SUM_LANES 16  /* ember_lanes_sum folds 16 lanes in halves, written out */
#define EMBER_SUM_STEPS 4
#define EMBER_SUM_ROW_STEPS 16
#define EMBER_SUM_LOOPS(T, S)                                                               \
static inline double ember_lanes_sum_seq_##S(const T* x, ptrdiff_t n) {                        \
    double acc[EMBER_SUM_LANES];                                                            \
    ptrdiff_t k = 0;                                                                        \
    for (int j = 0; j < EMBER_SUM_LANES; j++) acc[j] = 0.0;                                 \
    for (; k + EMBER_SUM_LANES * EMBER_SUM_STEPS <= n;                                      \
         k += EMBER_SUM_LANES * EMBER_SUM_STEPS) {                                          \
        for (int j = 0; j < EMBER_SUM_LANES; j++) {                                         \
            T p = x[k + j];                                                                 \
            for (int i = 1; i < EMBER_SUM_STEPS; i++) p += x[k + i * EMBER_SUM_LANES + j];  \
            acc[j] += (double)p;                                                            \
        }                                                                                   \
    }                                                                                       \
    for (; k + EMBER_SUM_LANES <= n; k += EMBER_SUM_LANES)                                  \
        for (int j = 0; j < EMBER_SUM_LANES; j++) acc[j] += (double)x[k + j];              \
    double tail = 0.0;                                                                      \
    for (; k < n; k++) tail += (double)x[k];                                                \
    /* the lanes folded in halves, 8 then 4, 2, 1 (the order a loop over w gives, written   \
       out: gcc left that loop rolled, through memory, the most of a 1000-element row) */   \
    for (int j = 0; j < 8; j++) acc[j] += acc[j + 8];                                       \
    for (int j = 0; j < 4; j++) acc[j] += acc[j + 4];                                       \
    for (int j = 0; j < 2; j++) acc[j] += acc[j + 2];                                       \
    return (acc[0] + acc[1]) + tail;                                                        \
}                                                                                           \
/* acc[c] += sum over r < nrows of x[r * stride + c], for c < n: an outer (dim=0-like) sum   \
   that sweeps whole rows, vectorised along them. EMBER_SUM_ROW_STEPS rows are added in T  \
   as a tree (rows 2i and 2i+1, then pairs of those, ...), then their total joins the      \
   double accumulator; leftover rows are added in double. */                               \
static inline void ember_add_rows_##S(const T* x, ptrdiff_t stride, ptrdiff_t nrows,       \
                                      ptrdiff_t n, double* __restrict acc) {                \
    ptrdiff_t r = 0;                                                                        \
    for (; r + EMBER_SUM_ROW_STEPS <= nrows; r += EMBER_SUM_ROW_STEPS) {                    \
        const T* q = x + r * stride;                                                        \
        for (ptrdiff_t c = 0; c < n; c++) {                                                 \
            T a0 = q[c] + q[stride + c], a1 = q[2 * stride + c] + q[3 * stride + c];        \
            T a2 = q[4 * stride + c] + q[5 * stride + c];                                   \
            T a3 = q[6 * stride + c] + q[7 * stride + c];                                   \
            T a4 = q[8 * stride + c] + q[9 * stride + c];                                   \
            T a5 = q[10 * stride + c] + q[11 * stride + c];                                 \
            T a6 = q[12 * stride + c] + q[13 * stride + c];                                 \
            T a7 = q[14 * stride + c] + q[15 * stride + c];                                 \
            acc[c] += (double)(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)));          \
        }                                                                                   \
    }                                                                                       \
    for (; r < nrows; r++) {                                                                \
        const T* row = x + r * stride;                                                      \
        for (ptrdiff_t c = 0; c < n; c++) acc[c] += (double)row[c];                         \
    }                                                                                       \
}
EMBER_SUM_LOOPS(float, f32)
EMBER_SUM_LOOPS(double, f64)
#undef EMBER_SUM_LOOPS

static inline double ember_lanes_sum_f64(const double* x, ptrdiff_t n) {
    return ember_lanes_sum_seq_f64(x, n);
}

/* A float32 row of 64 or more, written with GCC's vector types so that the 16 double lanes
   stay in registers (two 8-double vectors) and the row's end costs one masked block instead
   of a serial tail: in blocks of 128, each lane adds its 8 values in float32 as a tree of
   depth 3 (the rounding bound of the old 4-term chain), converts once and joins its double
   lane; then blocks of 64 (a depth-2 tree), then of 16, then the last 1-15 values padded
   with zeros as one block of 16; the lanes fold in halves as ember_lanes_sum_seq's do. Every
   step is an elementwise vector operation in an order fixed here, so baseline, AVX2 and
   AVX-512 builds give the same bits, and so do 1 and 2 threads (reduce.pyx splits long rows
   by shape only). Against ember_lanes_sum_seq, 1000 rows of 1000 (1 thread, AVX-512, C
   harness): 54 -> 46 us, as fast as a plain float32 loop with four vector accumulators;
   its float32 partials are of 8 values, where torch's float32 sum chains many more. */
/* A block of 16 float lanes and the 16 double lanes it joins. With AVX-512 one 64-byte
   vector each; below it two and four 32-byte ones, which gcc keeps in registers (with 64-byte
   vectors its AVX2 code shuffled the double lanes through memory, 2.5x slower; with 32-byte
   ones the AVX-512 code lost its gain). Lane j's arithmetic is the same in both. */
typedef float ember_sum_v8f __attribute__((vector_size(32)));
typedef double ember_sum_v4d __attribute__((vector_size(32)));
#ifdef __AVX512F__
typedef float ember_sum_v16f __attribute__((vector_size(64)));
typedef double ember_sum_v8d __attribute__((vector_size(64)));
typedef ember_sum_v16f ember_sum_block;
typedef struct { ember_sum_v8d lo, hi; } ember_sum_acc;
#define EMBER_SUM_LOAD(p) __extension__({                                                   \
    ember_sum_v16f v_;                                                                      \
    memcpy(&v_, (p), sizeof v_);                                                            \
    v_;                                                                                     \
})
#define EMBER_SUM_ADD(a, b) ((a) + (b))
/* Each half widened by one 8-lane vcvtps2pd. Written as a shuffle and __builtin_convertvector,
   gcc converted four quarters through xmm registers and put them back together (9
   instructions a block instead of 3): a 1000-float row 0.042 -> 0.034 ns/element, 1e7
   floats 0.090 -> 0.085 (1 thread, C harness). The same conversions and adds: same bits. */
#define EMBER_SUM_JOIN(acc, blk) do {                                                       \
    __m512 b_ = (__m512)(blk);                                                              \
    (acc).lo += (ember_sum_v8d)_mm512_cvtps_pd(_mm512_castps512_ps256(b_));                 \
    (acc).hi += (ember_sum_v8d)_mm512_cvtps_pd(_mm256_castpd_ps(                            \
        _mm512_extractf64x4_pd(_mm512_castps_pd(b_), 1)));                                  \
} while (0)
/* lanes j and j + 8, then j and j + 4: four doubles */
#define EMBER_SUM_FOLD4(acc) __extension__({                                                \
    ember_sum_v8d s_ = (acc).lo + (acc).hi;                                                 \
    (ember_sum_v4d){s_[0] + s_[4], s_[1] + s_[5], s_[2] + s_[6], s_[3] + s_[7]};            \
})
#else
typedef struct { ember_sum_v8f lo, hi; } ember_sum_block;
typedef struct { ember_sum_v4d q0, q1, q2, q3; } ember_sum_acc;
#define EMBER_SUM_LOAD8(p) __extension__({                                                  \
    ember_sum_v8f v_;                                                                       \
    memcpy(&v_, (p), sizeof v_);                                                            \
    v_;                                                                                     \
})
#define EMBER_SUM_LOAD(p) ((ember_sum_block){EMBER_SUM_LOAD8(p), EMBER_SUM_LOAD8((p) + 8)})
#define EMBER_SUM_ADD(a, b) __extension__({                                                 \
    ember_sum_block a_ = (a), b_ = (b);                                                     \
    (ember_sum_block){a_.lo + b_.lo, a_.hi + b_.hi};                                        \
})
#if defined(__AVX2__)
/* one 4-lane vcvtps2pd a quarter; from the generic form below gcc made two 2-lane ones, a move
   and an insert (sum over dim 1 of 1000x1000, 1 thread: 64.8 -> 55.5 us; same values) */
#define EMBER_SUM_QUARTER(v, i) ((ember_sum_v4d)_mm256_cvtps_pd(                            \
    (i) ? _mm256_extractf128_ps((__m256)(v), 1) : _mm256_castps256_ps128((__m256)(v))))
#else
#define EMBER_SUM_QUARTER(v, i) __builtin_convertvector(                                    \
    __builtin_shufflevector(v, v, i, i + 1, i + 2, i + 3), ember_sum_v4d)
#endif
#define EMBER_SUM_JOIN(acc, blk) do {                                                       \
    ember_sum_block b_ = (blk);                                                             \
    (acc).q0 += EMBER_SUM_QUARTER(b_.lo, 0);                                                \
    (acc).q1 += EMBER_SUM_QUARTER(b_.lo, 4);                                                \
    (acc).q2 += EMBER_SUM_QUARTER(b_.hi, 0);                                                \
    (acc).q3 += EMBER_SUM_QUARTER(b_.hi, 4);                                                \
} while (0)
#define EMBER_SUM_FOLD4(acc) (((acc).q0 + (acc).q2) + ((acc).q1 + (acc).q3))
#endif

static inline double ember_lanes_sum_f32(const float* x, ptrdiff_t n) {
    if (n < EMBER_SUM_LANES * EMBER_SUM_STEPS)
        return ember_lanes_sum_seq_f32(x, n);
    ember_sum_acc acc;
    memset(&acc, 0, sizeof acc);
    ptrdiff_t k = 0;
    for (; k + 128 <= n; k += 128) {
        /* lane j: ((x[j] + x[j+64]) + (x[j+16] + x[j+80]))
                 + ((x[j+32] + x[j+96]) + (x[j+48] + x[j+112])) */
        const float* q = x + k;
        ember_sum_block a = EMBER_SUM_ADD(EMBER_SUM_LOAD(q), EMBER_SUM_LOAD(q + 64));
        ember_sum_block b = EMBER_SUM_ADD(EMBER_SUM_LOAD(q + 16), EMBER_SUM_LOAD(q + 80));
        ember_sum_block c = EMBER_SUM_ADD(EMBER_SUM_LOAD(q + 32), EMBER_SUM_LOAD(q + 96));
        ember_sum_block d = EMBER_SUM_ADD(EMBER_SUM_LOAD(q + 48), EMBER_SUM_LOAD(q + 112));
        EMBER_SUM_JOIN(acc, EMBER_SUM_ADD(EMBER_SUM_ADD(a, b), EMBER_SUM_ADD(c, d)));
    }
    for (; k + 64 <= n; k += 64) {
        /* lane j: (x[j] + x[j+16]) + (x[j+32] + x[j+48]) */
        const float* q = x + k;
        EMBER_SUM_JOIN(acc, EMBER_SUM_ADD(EMBER_SUM_ADD(EMBER_SUM_LOAD(q), EMBER_SUM_LOAD(q + 16)),
                                          EMBER_SUM_ADD(EMBER_SUM_LOAD(q + 32),
                                                        EMBER_SUM_LOAD(q + 48))));
    }
    for (; k + 16 <= n; k += 16)
        EMBER_SUM_JOIN(acc, EMBER_SUM_LOAD(x + k));
    if (k < n) {  /* the last 1-15 values, padded with zeros to a block */
        float last[16];
        int left = (int)(n - k);
#if defined(__AVX512F__)
        _mm512_storeu_ps(last, _mm512_maskz_loadu_ps((__mmask16)((1u << left) - 1u), x + k));
#elif defined(__AVX2__)
        __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        __m256i lo = _mm256_cmpgt_epi32(_mm256_set1_epi32(left), idx);
        __m256i hi = _mm256_cmpgt_epi32(_mm256_set1_epi32(left - 8), idx);
        _mm256_storeu_ps(last, _mm256_maskload_ps(x + k, lo));
        _mm256_storeu_ps(last + 8, _mm256_maskload_ps(x + k + 8, hi));
#else
        for (int j = 0; j < 16; j++)
            last[j] = j < left ? x[k + j] : 0.0f;
#endif
        EMBER_SUM_JOIN(acc, EMBER_SUM_LOAD(last));
    }
    /* lanes j and j + 8, then j and j + 4, 2, 1: ember_lanes_sum_seq's fold */
    ember_sum_v4d s = EMBER_SUM_FOLD4(acc);
    return (s[0] + s[2]) + (s[1] + s[3]);
}
#undef EMBER_SUM_LOAD
#undef EMBER_SUM_LOAD8
#undef EMBER_SUM_ADD
#undef EMBER_SUM_QUARTER
#undef EMBER_SUM_JOIN
#undef EMBER_SUM_FOLD4

/* Softmax's float32 exp loops; m is the max of x (row or column), so x - m <= 0 or NaN. An
   exp loop that also accumulates in double stays scalar in gcc, so exponentials and sums are
   separate passes. */
static inline void ember_exp_sub_f32(const float* x, float* y, ptrdiff_t n, float m) {
    for (ptrdiff_t k = 0; k < n; k++) y[k] = ember_fast_exp_nonposf(x[k] - m);
}

/* y = exp(x - m) and s += y, column by column (one row of a column block) */
static inline void ember_exp_cols_f32(const float* x, const float* m, float* y, double* s,
                                      ptrdiff_t n) {
    for (ptrdiff_t c = 0; c < n; c++) y[c] = ember_fast_exp_nonposf(x[c] - m[c]);
    for (ptrdiff_t c = 0; c < n; c++) s[c] += y[c];
}

/* gx = g - exp(y) * s: log_softmax's backward; s is one value (row) or one per column */
static inline void ember_lsm_bwd_f32(const float* g, const float* y, float* gx, ptrdiff_t n,
                                     float s) {
    _Pragma("omp simd")
    for (ptrdiff_t k = 0; k < n; k++) gx[k] = g[k] - ember_fast_expf(y[k]) * s;
}

static inline void ember_lsm_bwd_cols_f32(const float* g, const float* y, float* gx,
                                          const float* s, ptrdiff_t n) {
    _Pragma("omp simd")
    for (ptrdiff_t c = 0; c < n; c++) gx[c] = g[c] - ember_fast_expf(y[c]) * s[c];
}

/* hardswish over a float32 row, x * min(max(x + 3, 0), 6) / 6: torch's operations in torch's
   order (the division kept: x * t * (1/6) rounds differently), so the bits of the generated
   one-expression loop. What changes is the clamp: gcc vectorised the expression's two selects
   as three compares and two blends a vector; here they are x86's max(0, t) and min(6, t),
   which return their second operand t when it is NaN, as the selects do (NaN stays NaN), and
   give the selects' answer everywhere else (t = x + 3 is never -0). */
static inline float ember_hardswishf(float x)
{
    float t = x + 3.0f;
    t = t < 0.0f ? 0.0f : t;
    t = t > 6.0f ? 6.0f : t;
    return x * t / 6.0f;
}

/* one vector width's loop body: P the intrinsics' prefix, V the vector type, W its lanes */
#define EMBER_HARDSWISH_VECTORS(P, V, W)                                                    \
    const V zero = P##_setzero_ps(), three = P##_set1_ps(3.0f), six = P##_set1_ps(6.0f);   \
    for (; i + (W) <= n; i += (W)) {                                                        \
        V v = P##_loadu_ps(x + i);                                                          \
        V t = P##_min_ps(six, P##_max_ps(zero, P##_add_ps(v, three)));                      \
        P##_storeu_ps(o + i, P##_div_ps(P##_mul_ps(v, t), six));                            \
    }

static inline void ember_hardswish_f32(const float* x, float* o, ptrdiff_t n)
{
    ptrdiff_t i = 0;
#if defined(__AVX512F__)
    EMBER_HARDSWISH_VECTORS(_mm512, __m512, 16)
#elif defined(__AVX2__)
    EMBER_HARDSWISH_VECTORS(_mm256, __m256, 8)
#endif
    for (; i < n; i++) o[i] = ember_hardswishf(x[i]);
}
#undef EMBER_HARDSWISH_VECTORS

#endif

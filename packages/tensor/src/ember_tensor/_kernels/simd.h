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
   Outer sums (add_rows) add EMBER_SUM_ROW_STEPS rows in the input's type before converting:
   there the conversion is per element, and 8 rows beat 4. */
#define EMBER_SUM_LANES 16  /* ember_lanes_sum folds 16 lanes in halves, written out */
#define EMBER_SUM_STEPS 4
#define EMBER_SUM_ROW_STEPS 8
#define EMBER_SUM_LOOPS(T, S)                                                               \
static inline double ember_lanes_sum_##S(const T* x, ptrdiff_t n) {                        \
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
   that sweeps whole rows, vectorised along them. EMBER_SUM_ROW_STEPS rows are added in T,  \
   then their total joins the double accumulator; leftover rows are added in double. */    \
static inline void ember_add_rows_##S(const T* x, ptrdiff_t stride, ptrdiff_t nrows,       \
                                      ptrdiff_t n, double* __restrict acc) {                \
    ptrdiff_t r = 0;                                                                        \
    for (; r + EMBER_SUM_ROW_STEPS <= nrows; r += EMBER_SUM_ROW_STEPS) {                    \
        const T* rows = x + r * stride;                                                     \
        for (ptrdiff_t c = 0; c < n; c++) {                                                 \
            T p = rows[c];                                                                  \
            for (int i = 1; i < EMBER_SUM_ROW_STEPS; i++) p += rows[i * stride + c];        \
            acc[c] += (double)p;                                                            \
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

#endif

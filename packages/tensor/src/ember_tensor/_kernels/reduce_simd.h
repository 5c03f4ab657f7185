/* Row reductions the compiler may vectorise. `omp simd reduction` grants the reassociation
   that plain C forbids (a + b + c != a + (b + c) in floating point), so a float32 row is
   summed several lanes at a time in double. Without OpenMP the pragma is ignored and the
   loops run scalar, still correct. */
#ifndef EMBER_REDUCE_SIMD_H
#define EMBER_REDUCE_SIMD_H
#include <stddef.h>

static inline double ember_sum_f32(const float* x, ptrdiff_t n) {
    double s = 0.0;
#pragma omp simd reduction(+:s)
    for (ptrdiff_t k = 0; k < n; k++) s += (double)x[k];
    return s;
}

static inline double ember_sum_f64(const double* x, ptrdiff_t n) {
    double s = 0.0;
#pragma omp simd reduction(+:s)
    for (ptrdiff_t k = 0; k < n; k++) s += x[k];
    return s;
}

static inline double ember_sqdev_f32(const float* x, ptrdiff_t n, double mean) {
    double s = 0.0;
#pragma omp simd reduction(+:s)
    for (ptrdiff_t k = 0; k < n; k++) { double d = (double)x[k] - mean; s += d * d; }
    return s;
}

static inline double ember_sqdev_f64(const double* x, ptrdiff_t n, double mean) {
    double s = 0.0;
#pragma omp simd reduction(+:s)
    for (ptrdiff_t k = 0; k < n; k++) { double d = x[k] - mean; s += d * d; }
    return s;
}
#endif

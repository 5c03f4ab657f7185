/* SGD's two everyday settings, and Adam/AdamW's, as straight loops (optim.pyx's *_range
 * dispatch to them).
 *
 * The general sgd_range tests its settings (maximize, weight decay, momentum, first step,
 * Nesterov) inside the loop. gcc vectorised it where it stayed a function of its own (the
 * threaded path), but the 1-thread path inlined it into the Python wrapper and compiled
 * that copy to scalar code: 3 cycles an element, 2x torch's whole step on ResNet-18's 11.7M
 * parameters. Here each setting is one branch-free loop that `omp simd` vectorises wherever
 * it is inlined. The arithmetic is the general loop's, term for term:
 *   momentum:  b = buf*momentum + (1 - dampening)*g;  buf = b;  p = p - lr*b
 *   plain:     p = p - lr*g
 * p, g and buf are whole arrays of one size (optim.pyx checks it): element k of one is only
 * ever combined with element k of the others, so even p == g would be safe. */
#ifndef EMBER_OPTIM_H
#define EMBER_OPTIM_H
#include <math.h>
#include <stddef.h>

#define EMBER_SGD_LOOPS(T, S, SQRT)                                                             \
static inline void ember_sgd_momentum_##S(T* p, const T* g, T* buf, ptrdiff_t n, T lr,     \
                                          T momentum, T one_minus_dampening) {             \
    _Pragma("omp simd")                                                                     \
    for (ptrdiff_t k = 0; k < n; k++) {                                                     \
        T b = buf[k] * momentum + one_minus_dampening * g[k];                              \
        buf[k] = b;                                                                         \
        p[k] = p[k] - lr * b;                                                               \
    }                                                                                       \
}                                                                                           \
static inline void ember_sgd_plain_##S(T* p, const T* g, ptrdiff_t n, T lr) {              \
    _Pragma("omp simd")                                                                     \
    for (ptrdiff_t k = 0; k < n; k++) p[k] = p[k] - lr * g[k];                              \
}                                                                                           \
/* Adam and AdamW without amsgrad or maximize, weight decay none or decoupled: `decay` is   \
   1 - lr*weight_decay for AdamW and exactly 1 otherwise (p*1 is p, bit for bit). The     \
   general loop's terms: torch's lerp (exact at both ends of its weight), then the step.  \
   The 1-thread path had the same scalar-inlining problem as SGD: 3.2 ns an element. */  \
static inline void ember_adam_plain_##S(T* p, const T* g, T* m, T* v, ptrdiff_t n,         \
                                        T neg_step_size, T one_minus_beta1, T beta2,       \
                                        T one_minus_beta2, T bc2_sqrt, T eps, T decay) {   \
    const int near_a = (one_minus_beta1 < 0 ? -one_minus_beta1 : one_minus_beta1) < (T)0.5; \
    _Pragma("omp simd")                                                                     \
    for (ptrdiff_t k = 0; k < n; k++) {                                                     \
        T d = g[k];                                                                         \
        T pi = p[k] * decay;                                                                \
        T mk = m[k];                                                                        \
        T mi = near_a ? mk + one_minus_beta1 * (d - mk)                                     \
                      : d - (d - mk) * (1 - one_minus_beta1);                               \
        m[k] = mi;                                                                          \
        T vi = v[k] * beta2 + one_minus_beta2 * d * d;                                      \
        v[k] = vi;                                                                          \
        p[k] = pi + neg_step_size * (mi / (SQRT(vi) / bc2_sqrt + eps));                     \
    }                                                                                       \
}
EMBER_SGD_LOOPS(float, f32, sqrtf)
EMBER_SGD_LOOPS(double, f64, sqrt)
#undef EMBER_SGD_LOOPS

#endif

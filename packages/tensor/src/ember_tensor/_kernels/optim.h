/* SGD's two everyday settings as straight loops (optim.pyx's sgd_range dispatches to them).
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
#include <stddef.h>

#define EMBER_SGD_LOOPS(T, S)                                                               \
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
}
EMBER_SGD_LOOPS(float, f32)
EMBER_SGD_LOOPS(double, f64)
#undef EMBER_SGD_LOOPS

#endif

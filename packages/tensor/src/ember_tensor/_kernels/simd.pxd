# The kernels' SIMD helpers (simd.h). Kernels call the fused wrappers below (row_max,
# simd_sum, dot, ...) with float or double pointers; each wrapper is resolved at compile time
# to the C copy for that type, so no kernel names a per-dtype function.
from .types cimport real

cdef extern from "simd.h" nogil:
    float ember_fast_expf(float x)
    float ember_fast_sigmoidf(float x)
    float ember_fast_tanhf(float x)
    float ember_fast_erff(float x)
    void ember_hardswish_f32(const float* x, float* o, Py_ssize_t n)

    double ember_sum_f32(const float* x, Py_ssize_t n)
    double ember_sum_f64(const double* x, Py_ssize_t n)
    double ember_sqdev_f32(const float* x, Py_ssize_t n, double m)
    double ember_sqdev_f64(const double* x, Py_ssize_t n, double m)
    double ember_dot_f32(const float* a, const float* b, Py_ssize_t n)
    double ember_dot_f64(const double* a, const double* b, Py_ssize_t n)
    float ember_max_f32(const float* x, Py_ssize_t n)
    double ember_max_f64(const double* x, Py_ssize_t n)
    void ember_grad_sums_f32(const float* g, const float* x, const double* w, Py_ssize_t n,
                             double m, double* s1, double* s2)
    void ember_grad_sums_f64(const double* g, const double* x, const double* w, Py_ssize_t n,
                             double m, double* s1, double* s2)
    void ember_axpb_f32(const float* x, float* out, Py_ssize_t n, float a, float b, int relu)
    void ember_axpb_f64(const double* x, double* out, Py_ssize_t n, double a, double b,
                        int relu)
    void ember_axpbyc_f32(const float* x, const float* y, float* out, Py_ssize_t n, float a,
                          float b, float c)
    void ember_axpbyc_f64(const double* x, const double* y, double* out, Py_ssize_t n,
                          double a, double b, double c)

    double ember_lanes_sum_f32(const float* x, Py_ssize_t n)
    double ember_lanes_sum_f64(const double* x, Py_ssize_t n)
    void ember_add_rows_f32(const float* x, Py_ssize_t stride, Py_ssize_t nrows, Py_ssize_t n,
                            double* acc)
    void ember_add_rows_f64(const double* x, Py_ssize_t stride, Py_ssize_t nrows, Py_ssize_t n,
                            double* acc)

    void ember_exp_sub_f32(const float* x, float* y, Py_ssize_t n, float m)
    void ember_exp_cols_f32(const float* x, const float* m, float* y, double* s, Py_ssize_t n)
    void ember_lsm_bwd_f32(const float* g, const float* y, float* gx, Py_ssize_t n, float s)
    void ember_lsm_bwd_cols_f32(const float* g, const float* y, float* gx, const float* s,
                                Py_ssize_t n)


cdef inline double simd_sum(const real* x, Py_ssize_t n) noexcept nogil:
    """Sum of one row in double, vector lanes reassociated (see row_sum for long rows)."""
    if real is float:
        return ember_sum_f32(x, n)
    else:
        return ember_sum_f64(x, n)


cdef inline double simd_sqdev(const real* x, Py_ssize_t n, double m) noexcept nogil:
    """Sum of (x - m)^2 over one row, in double."""
    if real is float:
        return ember_sqdev_f32(x, n, m)
    else:
        return ember_sqdev_f64(x, n, m)


cdef inline double dot(const real* a, const real* b, Py_ssize_t n) noexcept nogil:
    if real is float:
        return ember_dot_f32(a, b, n)
    else:
        return ember_dot_f64(a, b, n)


cdef inline real row_max(const real* x, Py_ssize_t n) noexcept nogil:
    """Largest of x[0..n), n >= 1."""
    if real is float:
        return ember_max_f32(x, n)
    else:
        return ember_max_f64(x, n)


cdef inline void grad_row_sums(const real* g, const real* x, const double* w, Py_ssize_t n,
                               double m, double* s1, double* s2) noexcept nogil:
    """*s1 += sum(g * w), *s2 += sum(g * w * (x - m)); w NULL means weight 1."""
    if real is float:
        ember_grad_sums_f32(g, x, w, n, m, s1, s2)
    else:
        ember_grad_sums_f64(g, x, w, n, m, s1, s2)


cdef inline void axpb(const real* x, real* out, Py_ssize_t n, real a, real b,
                      bint relu) noexcept nogil:
    """out = x * a + b (ReLU'd when asked); out may be x."""
    if real is float:
        ember_axpb_f32(x, out, n, a, b, relu)
    else:
        ember_axpb_f64(x, out, n, a, b, relu)


cdef inline void axpbyc(const real* x, const real* y, real* out, Py_ssize_t n, real a, real b,
                        real c) noexcept nogil:
    """out = x * a + y * b + c; out may be x."""
    if real is float:
        ember_axpbyc_f32(x, y, out, n, a, b, c)
    else:
        ember_axpbyc_f64(x, y, out, n, a, b, c)


cdef inline double lanes_sum(const real* x, Py_ssize_t n) noexcept nogil:
    """Sum of a long row: 16 lanes of 4-term sums in x's type, totals in double; the order
    is fixed, so every vector width gives the same result (simd.h)."""
    if real is float:
        return ember_lanes_sum_f32(x, n)
    else:
        return ember_lanes_sum_f64(x, n)


cdef inline void add_rows(const real* x, Py_ssize_t stride, Py_ssize_t nrows, Py_ssize_t n,
                          double* acc) noexcept nogil:
    """acc[c] += sum over r < nrows of x[r * stride + c], c < n, sweeping whole rows."""
    if real is float:
        ember_add_rows_f32(x, stride, nrows, n, acc)
    else:
        ember_add_rows_f64(x, stride, nrows, n, acc)

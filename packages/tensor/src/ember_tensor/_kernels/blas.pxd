# Matrix products straight into the cblas of NumPy's bundled OpenBLAS (ILP64: 64-bit ints),
# resolved by address at import (``ember_tensor._team``), run without the GIL on the OpenMP
# team. See blas.pyx.
from libc.stdint cimport int64_t

cdef enum:
    CBLAS_ROW_MAJOR = 101
    CBLAS_NO_TRANS = 111
    CBLAS_TRANS = 112

# cblas_?gemm / cblas_?gemv of an ILP64 OpenBLAS (order and transposes are C enums, sizes
# and strides 64-bit)
ctypedef void (*sgemm_fn)(int, int, int, int64_t, int64_t, int64_t, float, const float*,
                          int64_t, const float*, int64_t, float, float*, int64_t) noexcept nogil
ctypedef void (*dgemm_fn)(int, int, int, int64_t, int64_t, int64_t, double, const double*,
                          int64_t, const double*, int64_t, double, double*,
                          int64_t) noexcept nogil
ctypedef void (*sgemv_fn)(int, int, int64_t, int64_t, float, const float*, int64_t,
                          const float*, int64_t, float, float*, int64_t) noexcept nogil
ctypedef void (*dgemv_fn)(int, int, int64_t, int64_t, double, const double*, int64_t,
                          const double*, int64_t, double, double*, int64_t) noexcept nogil
# openblas_set_num_threads_local: the calling thread's BLAS threads; returns the old count
ctypedef int (*blas_threads_fn)(int) noexcept nogil

# One BLAS call of a product: a GEMM ``c = op(a) @ op(b)`` (m x n, inner k), or when
# ``gemv`` a GEMV ``c = op(a) @ b`` with ``a`` stored m x n (row-major, leading dim lda),
# ``b`` read every ldb elements and ``c`` written every ldc.
cdef struct Call:
    bint gemv
    int ta
    int tb
    int64_t m
    int64_t n
    int64_t k
    const char* a
    int64_t lda
    const char* b
    int64_t ldb
    char* c
    int64_t ldc

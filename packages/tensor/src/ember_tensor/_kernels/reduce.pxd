# Reductions over a contiguous [outer, reduce, inner] block: out[o, i] = op over r of
# x[o, r, i]. Callers move the reduced dims into the middle (a free reshape when they are
# adjacent in a contiguous array, one copy otherwise), so one kernel covers every `dim`.
from .types cimport real, numeric
from libc.stdint cimport int64_t

# Columns handled per task when inner > 1: the accumulators live on the stack and one row of
# the block is one contiguous read.
# Output type of a sum: a float32 sum taken in stages keeps its partials in double.
ctypedef fused out_real:
    float
    double

cdef enum:
    COL_BLOCK = 256
    # elements a dynamically scheduled chunk of tasks should hold at least
    TASK_WORK = 16384

cdef double row_sum(const real* x, Py_ssize_t n) noexcept nogil

cdef double row_sqdev(const real* x, Py_ssize_t n, double mean) noexcept nogil

cdef void row_extreme(const numeric* x, Py_ssize_t n, numeric* out, int64_t* idx,
                      bint want_max) noexcept nogil

cdef void sum_block(const real* x, out_real* out, Py_ssize_t R, Py_ssize_t inner,
                    Py_ssize_t col0, Py_ssize_t ncols) noexcept nogil

cdef void extreme_block(const numeric* x, numeric* out, int64_t* idx, Py_ssize_t R,
                        Py_ssize_t inner, Py_ssize_t col0, Py_ssize_t ncols,
                        bint want_max) noexcept nogil

cdef void moments_block(const real* x, real* out, Py_ssize_t R, Py_ssize_t inner,
                        Py_ssize_t col0, Py_ssize_t ncols, double correction,
                        bint take_sqrt) noexcept nogil

# Softmax / log-softmax over the middle axis of a contiguous [outer, D, inner] block, and their
# backwards from the forward's output. Callers make the reduced dim the middle one (a free
# reshape of a contiguous array), so one kernel covers every `dim`.
from .types cimport real

# Columns per task when the softmax dim is not innermost: the per-column max and sum live on
# the stack, and every row of the block is one contiguous read.
cdef enum:
    SOFTMAX_COLS = 128

cdef void softmax_row(const real* x, real* y, Py_ssize_t D, bint take_log) noexcept nogil

cdef void softmax_cols(const real* x, real* y, Py_ssize_t D, Py_ssize_t inner,
                       Py_ssize_t n, bint take_log) noexcept nogil

cdef void softmax_backward_row(const real* g, const real* y, real* gx, Py_ssize_t D,
                               bint take_log) noexcept nogil

cdef void softmax_backward_cols(const real* g, const real* y, real* gx, Py_ssize_t D,
                                Py_ssize_t inner, Py_ssize_t n, bint take_log) noexcept nogil

# Embedding: a row gather from a (num, D) table, and its backward, a row scatter-add.
# Indices are range-checked in the def wrappers before any loop reads the table.
from libc.stdint cimport int32_t, int64_t

from .types cimport real

ctypedef fused index_t:
    int32_t
    int64_t

cdef bint indices_in_range(const index_t* idx, Py_ssize_t n, Py_ssize_t num) noexcept nogil

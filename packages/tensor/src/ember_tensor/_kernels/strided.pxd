# The iteration machinery every elementwise kernel runs under.
#
# A kernel sees only contiguous runs: ``p[0]`` is the output, ``p[1:]`` the inputs, all ``n``
# elements long, ``prm`` its scalar parameters. It returns 0, or a nonzero error code (integer
# division by zero) that ``launch`` hands back to Python, since kernels run without the GIL.
ctypedef int (*kernel_fn)(char** p, Py_ssize_t n, const double* prm) noexcept nogil

cdef enum:
    MAX_ARGS = 4       # output + up to three inputs
    MAX_DIMS = 64      # NumPy's own limit
    MAX_PARAMS = 4

from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t

# Integer storage types (types.pxd has none without the floats): bitwise ops, integer division.
ctypedef fused integral:
    int64_t
    int32_t
    int16_t
    int8_t
    uint8_t

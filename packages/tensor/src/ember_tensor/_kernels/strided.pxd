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


# One launch's operands after broadcasting (strided.launch fills it, _collapse merges dims).
cdef struct Plan:
    kernel_fn f
    int nargs
    int ndim
    Py_ssize_t shape[MAX_DIMS]
    Py_ssize_t strides[MAX_ARGS][MAX_DIMS]   # bytes
    char* base[MAX_ARGS]
    Py_ssize_t itemsize[MAX_ARGS]
    double params[MAX_PARAMS]
    # scalar_f[k]: the kernel with input k read once at p[k][0] (binary.pyx's broadcast
    # variants), or NULL: a stride-0 inner operand is then filled into a block buffer per row
    kernel_fn scalar_f[MAX_ARGS]


cdef enum:
    # Elements a kernel call handles at most on the strided path: the buffers of all
    # operands (8 bytes each) stay inside L1.
    BLOCK = 1024


# The per-thread block buffers of the strided paths (strided_buffers.pxd fills them).
cdef struct Scratch:
    # One per thread. A stride-0 (broadcast) operand is filled into its buffer once and reused
    # while the same source element and at least as many columns are wanted: a scalar operand
    # is filled once per thread, not once per block.
    char buf[MAX_ARGS][BLOCK * 8]
    const char* filled[MAX_ARGS]
    Py_ssize_t filled_n[MAX_ARGS]


from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t

# Integer storage types (types.pxd has none without the floats): bitwise ops, integer division.
ctypedef fused integral:
    int64_t
    int32_t
    int16_t
    int8_t
    uint8_t

# Line-aligned float buffers for the convolution kernels' packed operands and scratch
# (convgemm, conv_direct): their zmm loads of packed weights are aligned ones, and a
# buffer that starts on a cache line never splits a vector across two. Free with free().
cdef extern from "<stdlib.h>" nogil:
    void* aligned_alloc(size_t alignment, size_t size)

cdef enum:
    LINE_BYTES = 64


cdef inline float* alloc_floats(size_t n) except NULL:
    """``n`` floats starting on a 64-byte line (aligned_alloc wants a whole number of
    lines, and at least one); MemoryError where there is no memory."""
    cdef size_t size = (n * sizeof(float) + LINE_BYTES - 1) // LINE_BYTES * LINE_BYTES
    cdef float* p = <float*>aligned_alloc(LINE_BYTES, size if size else LINE_BYTES)
    if p == NULL:
        raise MemoryError()
    return p

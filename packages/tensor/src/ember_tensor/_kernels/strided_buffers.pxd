# The block buffers of the strided elementwise paths (strided.pyx's rows, strided_tiles.pyx's
# tiles): operands that cannot be passed to a kernel in place are gathered into a buffer,
# a broadcast one filled once, and a strided output scattered back. Inline, so each loop
# compiles into the module that walks the operands.
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from libc.stdlib cimport malloc
from libc.string cimport memcpy

from .strided cimport MAX_ARGS, Plan, Scratch


cdef inline void gather(char* dst, const char* src, Py_ssize_t stride, Py_ssize_t n,
                        Py_ssize_t size) noexcept nogil:
    cdef Py_ssize_t i
    if size == 4:
        for i in range(n):
            (<uint32_t*>dst)[i] = (<const uint32_t*>(src + i * stride))[0]
    elif size == 8:
        for i in range(n):
            (<uint64_t*>dst)[i] = (<const uint64_t*>(src + i * stride))[0]
    elif size == 1:
        for i in range(n):
            (<uint8_t*>dst)[i] = (<const uint8_t*>(src + i * stride))[0]
    else:
        for i in range(n):
            memcpy(dst + i * size, src + i * stride, size)


cdef inline void fill(char* dst, const char* src, Py_ssize_t n, Py_ssize_t size) noexcept nogil:
    """``n`` copies of the element at ``src``: the value is read once, so the stores vectorise
    (a stride-0 ``gather`` reloads it per element, one element per cycle)."""
    cdef Py_ssize_t i
    cdef uint32_t v4
    cdef uint64_t v8
    cdef uint8_t v1
    if size == 4:
        v4 = (<const uint32_t*>src)[0]
        for i in range(n):
            (<uint32_t*>dst)[i] = v4
    elif size == 8:
        v8 = (<const uint64_t*>src)[0]
        for i in range(n):
            (<uint64_t*>dst)[i] = v8
    elif size == 1:
        v1 = (<const uint8_t*>src)[0]
        for i in range(n):
            (<uint8_t*>dst)[i] = v1
    else:
        gather(dst, src, 0, n, size)


cdef inline void scatter(char* dst, Py_ssize_t stride, const char* src, Py_ssize_t n,
                         Py_ssize_t size) noexcept nogil:
    cdef Py_ssize_t i
    if size == 4:
        for i in range(n):
            (<uint32_t*>(dst + i * stride))[0] = (<const uint32_t*>src)[i]
    elif size == 8:
        for i in range(n):
            (<uint64_t*>(dst + i * stride))[0] = (<const uint64_t*>src)[i]
    elif size == 1:
        for i in range(n):
            (<uint8_t*>(dst + i * stride))[0] = (<const uint8_t*>src)[i]
    else:
        for i in range(n):
            memcpy(dst + i * stride, src + i * size, size)


cdef inline Scratch* new_scratch() noexcept nogil:
    cdef Scratch* s = <Scratch*>malloc(sizeof(Scratch))
    cdef int k
    if s != NULL:
        for k in range(MAX_ARGS):
            s.filled[k] = NULL
            s.filled_n[k] = 0
    return s


cdef inline int scalar_operand(const Plan* pl) noexcept nogil:
    """The input read as one value per row by a broadcast variant of the kernel, or 0: the
    first with a stride-0 last dim that has one."""
    cdef int k
    for k in range(1, pl.nargs):
        if pl.strides[k][pl.ndim - 1] == 0 and pl.scalar_f[k] != NULL:
            return k
    return 0


cdef inline char* filled(Scratch* scratch, int k, const char* src, Py_ssize_t ncols,
                         Py_ssize_t size) noexcept nogil:
    """Operand ``k``'s block buffer holding ``ncols`` copies of the element at ``src``: a
    broadcast row is the same value throughout, filled once per source element."""
    if scratch.filled[k] != src or scratch.filled_n[k] < ncols:
        fill(scratch.buf[k], src, ncols, size)
        scratch.filled[k] = src
        scratch.filled_n[k] = ncols
    return scratch.buf[k]

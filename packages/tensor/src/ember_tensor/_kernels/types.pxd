# Shared fused types for the kernels. One place, so every kernel agrees on what a dtype is.
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t

# Floating types: every math kernel is instantiated for these two.
ctypedef fused real:
    float
    double

# Every storage type Ember computes on (bool travels as uint8: same size, same bits).
ctypedef fused numeric:
    float
    double
    int64_t
    int32_t
    int16_t
    int8_t
    uint8_t


cdef inline object for_dtype(dtype, tuple kernels, str op):
    """The specialisation in ``kernels`` for ``dtype``: the one dtype dispatch of every kernel.

    ``kernels`` lists a fused function's specialisations in the fused type's order (``real``:
    float32, float64; ``numeric``: then int64, int32, int16, int8, uint8), built once at import,
    so a call costs a tuple index. An unlisted dtype is a RuntimeError naming ``op``.
    """
    cdef Py_ssize_t i = -1
    cdef str kind = dtype.kind
    cdef Py_ssize_t size = dtype.itemsize
    if kind == "f":
        i = 0 if size == 4 else 1 if size == 8 else -1
    elif kind == "i":
        i = 2 if size == 8 else 3 if size == 4 else 4 if size == 2 else 5
    elif kind == "u" and size == 1:
        i = 6
    if i < 0 or i >= len(kernels):
        names = ("float32", "float64", "int64", "int32", "int16", "int8", "uint8")
        raise RuntimeError(f"{op}: dtype {dtype} not supported "
                           f"({'/'.join(names[:len(kernels)])} only)")
    return kernels[i]

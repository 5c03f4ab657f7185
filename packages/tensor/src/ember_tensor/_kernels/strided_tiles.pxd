from .strided cimport Plan

# A 2-D plan with a transposed-like input (strided.pyx's launcher asks, then runs it here).
cdef bint tiles_pay(const Plan* pl) noexcept nogil
cdef int run_tiled(const Plan* pl) noexcept nogil

# Patch gathering for convolution: im2col lays every receptive field out as a column so a
# convolution becomes one GEMM; col2im is its adjoint (scatter-add), used by backward.
from .types cimport real

cdef void col2im_plane(const real* row, real* plane, Py_ssize_t H, Py_ssize_t W,
                       Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t i, Py_ssize_t j,
                       Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw,
                       Py_ssize_t dh, Py_ssize_t dw) noexcept nogil

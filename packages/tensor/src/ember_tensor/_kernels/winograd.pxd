# Winograd F(2x2, 3x3) transforms for 3x3, stride-1, padding-1 convolutions: the filter,
# input and output transforms around the 16 batched GEMMs that do the multiplies.
# Tiles are numbered by "tile row" r = n*TH + th (TH = ceil(H/2) tile rows per image), each
# holding TW = ceil(W/2) tiles; a block is a range of tile rows [row0, row1).
from .types cimport real

# U, V and M are 16 matrices ``ks`` elements apart (ks >= rows*cols; see winograd.pyx).
cdef void filter_transform_rows(const real* w, real* U, Py_ssize_t Cout, Py_ssize_t Cin,
                                Py_ssize_t ks, Py_ssize_t r0, Py_ssize_t r1,
                                bint flipped) noexcept nogil

# V = B^T d B of input tiles, or with grad V = A g A^T of output-gradient tiles
cdef void tile_transform_rows(const real* x, real* V, Py_ssize_t ks, Py_ssize_t C,
                              Py_ssize_t H, Py_ssize_t W, Py_ssize_t row0, Py_ssize_t row1,
                              bint grad, real* scratch) noexcept nogil

cdef void output_transform_rows(const real* M, Py_ssize_t ks, real* y, const real* bias,
                                Py_ssize_t Cout, Py_ssize_t H, Py_ssize_t W,
                                Py_ssize_t row0, Py_ssize_t row1,
                                real* scratch) noexcept nogil

cdef void filter_grad_transform_rows(const real* dU, Py_ssize_t ks, real* gw, Py_ssize_t Cout,
                                     Py_ssize_t Cin, Py_ssize_t r0, Py_ssize_t r1) noexcept nogil

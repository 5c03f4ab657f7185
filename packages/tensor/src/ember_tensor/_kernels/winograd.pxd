# Winograd F(2x2, 3x3) transforms for 3x3, stride-1, padding-1 convolutions: the filter,
# input and output transforms around the 16 batched GEMMs that do the multiplies.
# Tiles are numbered by "tile row" r = n*TH + th (TH = ceil(H/2) tile rows per image), each
# holding TW = ceil(W/2) tiles; a block is a range of tile rows [row0, row1).
from .types cimport real

# U, V and M are 16 matrices ``ks`` elements apart (ks >= rows*cols; see winograd.pyx).
# rows [r0, r1) of U = G w G^T, written from U on (row a at U + (a - r0)*S)
cdef void filter_transform_into(const real* w, real* U, Py_ssize_t Cout, Py_ssize_t Cin,
                                Py_ssize_t ks, Py_ssize_t r0, Py_ssize_t r1,
                                bint flipped) noexcept nogil

# V = B^T d B of input tiles, or with grad V = A g A^T of output-gradient tiles
cdef void tile_transform_rows(const real* x, real* V, Py_ssize_t ks, Py_ssize_t C,
                              Py_ssize_t H, Py_ssize_t W, Py_ssize_t row0, Py_ssize_t row1,
                              bint grad, real* scratch) noexcept nogil
# channels [c0, c1) only, channel c's rows ldv apart from V on: V + (c - c0)*ldv
cdef void tile_transform_span(const real* x, real* V, Py_ssize_t ks, Py_ssize_t ldv,
                              Py_ssize_t C, Py_ssize_t H, Py_ssize_t W, Py_ssize_t row0,
                              Py_ssize_t row1, Py_ssize_t c0, Py_ssize_t c1, bint grad,
                              real* scratch) noexcept nogil

# y = A^T M A (+ bias) for tile rows [row0, row1) and output channels [co0, co1), channel
# co's rows read at M + (co - co0)*ldm
cdef void output_transform_span(const real* M, Py_ssize_t ks, Py_ssize_t ldm, real* y,
                                const real* bias, Py_ssize_t Cout, Py_ssize_t H,
                                Py_ssize_t W, Py_ssize_t row0, Py_ssize_t row1,
                                Py_ssize_t co0, Py_ssize_t co1,
                                real* scratch) noexcept nogil

cdef void filter_grad_transform_rows(const real* dU, Py_ssize_t ks, real* gw, Py_ssize_t Cout,
                                     Py_ssize_t Cin, Py_ssize_t r0, Py_ssize_t r1) noexcept nogil

# 2-D grid sampling (F.grid_sample): input (N, C, H, W), grid (N, OH, OW, 2) of normalised
# (x, y) in [-1, 1], output (N, C, OH, OW). Bilinear and nearest go by blocks of output
# points of one row: the block's taps (offsets, inside flags, weights) are computed once in
# vectorisable passes, then every channel gathers them. One forward task is one output row
# of one image; the backward scatters into the input's gradient, so its task is one image.
from .types cimport real

cdef enum GridInterp:
    GS_BILINEAR = 0
    GS_NEAREST = 1
    GS_BICUBIC = 2

cdef enum GridPadding:
    GS_ZEROS = 0
    GS_BORDER = 1
    GS_REFLECTION = 2

cdef enum:
    # output points of one block: its taps fill a few KB of stack, and a channel's pass over
    # them is long enough to vectorise
    GS_BLOCK = 64

cdef void gs_forward_block(const real* x, const real* g, real* out, Py_ssize_t C,
                           Py_ssize_t H, Py_ssize_t W, Py_ssize_t plane_out, Py_ssize_t n,
                           int interp, int padding, bint align) noexcept nogil

cdef void gs_backward_block(const real* go, const real* x, const real* g, real* gx,
                            real* gg, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W,
                            Py_ssize_t plane_out, Py_ssize_t n, int interp, int padding,
                            bint align) noexcept nogil

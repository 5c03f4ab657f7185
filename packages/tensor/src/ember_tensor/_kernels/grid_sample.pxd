# 2-D grid sampling (F.grid_sample): input (N, C, H, W), grid (N, OH, OW, 2) of normalised
# (x, y) in [-1, 1], output (N, C, OH, OW). One task is one output row of one image for the
# forward; the backward scatters into the input's gradient, so its task is one image.
from .types cimport real

cdef enum GridInterp:
    GS_BILINEAR = 0
    GS_NEAREST = 1
    GS_BICUBIC = 2

cdef enum GridPadding:
    GS_ZEROS = 0
    GS_BORDER = 1
    GS_REFLECTION = 2

cdef void gs_forward_row(const real* x, const real* grow, real* out, Py_ssize_t C,
                         Py_ssize_t H, Py_ssize_t W, Py_ssize_t plane_out, Py_ssize_t OW,
                         int interp, int padding, bint align) noexcept nogil

cdef void gs_backward_row(const real* go, const real* x, const real* grow, real* gx,
                          real* ggrow, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W,
                          Py_ssize_t plane_out, Py_ssize_t OW, int interp, int padding,
                          bint align) noexcept nogil

# Depthwise convolution, one plane at a time: a plane is one (image, channel) pair, so
# planes run in parallel with no shared writes. Geometry: kernel kh x kw, stride sh/sw,
# padding ph/pw, dilation dh/dw; H x W input plane, OH x OW output plane.
from .types cimport real

cdef void dw_plane_forward(const real* x, const real* w, real* out, real bias, Py_ssize_t H,
                           Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t kh,
                           Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph,
                           Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw) noexcept nogil

# stride 1: out (+= when add) = bias + the taps of w over x, through the scratch plane pad
# (gather_pad_size elements); padding may be negative (the grad-input gather's (k - 1)*d - p)
cdef void dw_plane_gather(const real* x, const real* w, real* out, real bias, bint add,
                          real* pad, Py_ssize_t H, Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW,
                          Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t ph, Py_ssize_t pw,
                          Py_ssize_t dh, Py_ssize_t dw) noexcept nogil

cdef void dw_plane_grad_input(const real* go, const real* w, real* gx, Py_ssize_t H,
                              Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t kh,
                              Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph,
                              Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw) noexcept nogil

cdef void dw_plane_grad_weight(const real* go, const real* x, real* gw, Py_ssize_t H,
                               Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t kh,
                               Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph,
                               Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw,
                               real* part) noexcept nogil

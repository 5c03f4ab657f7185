# Depthwise convolution, one plane at a time: a plane is one (image, channel) pair, so
# planes run in parallel with no shared writes. Geometry: kernel kh x kw, stride sh/sw,
# padding ph/pw, dilation dh/dw; H x W input plane, OH x OW output plane. The plane loops
# read the input through the scratch plane pad (phase_plane_size elements) and the taps'
# offsets into it, koff (depthwise.pyx's _tap_offsets).
from .types cimport real

cdef Py_ssize_t phase_plane_size(Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t kh, Py_ssize_t kw,
                                 Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t dh, Py_ssize_t dw,
                                 Py_ssize_t* Hp, Py_ssize_t* Wq) noexcept nogil

# out (+= when add) = bias + the taps of w over x; padding may be negative (the stride-1
# grad-input gather's (k - 1)*d - p)
cdef void dw_plane_gather(const real* x, const real* w, real* out, real bias, bint add,
                          real* pad, const Py_ssize_t* koff, Py_ssize_t H, Py_ssize_t W,
                          Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t kh, Py_ssize_t kw,
                          Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw,
                          Py_ssize_t dh, Py_ssize_t dw) noexcept nogil

# any stride; gx is overwritten, with the scratch plane pad's sums, which start from zero
# unless add (a later depth multiplier of the same input channel)
cdef void dw_plane_grad_input(const real* go, const real* w, real* gx, bint add, real* pad,
                              const Py_ssize_t* koff, Py_ssize_t H, Py_ssize_t W,
                              Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t kh, Py_ssize_t kw,
                              Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw,
                              Py_ssize_t dh, Py_ssize_t dw) noexcept nogil

cdef void dw_plane_grad_weight(const real* go, const real* x, real* gw, real* pad,
                               const Py_ssize_t* koff, Py_ssize_t H, Py_ssize_t W,
                               Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t kh, Py_ssize_t kw,
                               Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw,
                               Py_ssize_t dh, Py_ssize_t dw) noexcept nogil

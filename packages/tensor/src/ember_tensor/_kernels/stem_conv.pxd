# Direct 2-D convolution for inputs with few channels (ResNet's 7x7/2 stem over RGB), and
# its weight gradient: see stem_conv.pyx. Geometry of one call, computed once by the
# checked entry points.
cdef struct Geom:
    Py_ssize_t N, C, H, W, Cout, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW
    Py_ssize_t T      # taps, C*kh*kw, in the weight's (c, i, j) order
    Py_ssize_t L      # lanes of one register of the dtype (stem_conv.h)
    Py_ssize_t Wq     # columns of one column phase of the scratch
    Py_ssize_t Wrow   # one padded input row of the scratch: sw phases of Wq columns
    Py_ssize_t rows   # output rows of a band (the most; the last may have fewer)
    Py_ssize_t rin    # padded input rows a band's scratch holds
    Py_ssize_t plane  # one channel of the scratch: rin * Wrow

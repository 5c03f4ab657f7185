# Direct float32 convolution with vectors along output channels (conv_direct.h, AVX-512
# only); conv_direct.pyx wraps it for nn/conv.py.
cdef extern from "conv_direct.h" nogil:
    ctypedef struct cd_geom:
        Py_ssize_t C, PH, PW, M, K, kh, kw, sh, sw, dh, dw, OH, OW
    int CD_CO
    int CD_PX
    int CD_AVAILABLE
    void cd_pack_weights(const float* w, float* wp, Py_ssize_t M, Py_ssize_t K,
                         Py_ssize_t b0, Py_ssize_t b1)
    void cd_image(const cd_geom* g, const float* x, Py_ssize_t H, Py_ssize_t W,
                  Py_ssize_t ph, Py_ssize_t pw, float* xp, const float* wp, float* out,
                  Py_ssize_t gblocks, int whole)

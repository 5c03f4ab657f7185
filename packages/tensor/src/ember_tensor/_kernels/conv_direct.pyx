"""Float32 convolutions (groups 1) computed directly, with vectors along output channels
(``conv_direct.h``, AVX-512 copy only: ``AVAILABLE``).

The weights are packed once a call into blocks of 32 output channels ([block][tap][32]);
each image's input is copied into a zero-bordered scratch of the thread's before its tiles
(skipped without padding); a register tile of 32
channels x up to 14 pixels of one or two output rows sums every tap in registers, each
pixel's input value broadcast from its plane, so a stride of 2 costs no gather. Work is cut
by images among the threads (a task an image, the scratch a thread's own); every output
element is one chain of fused multiply-adds in tap order, so the bits are the same on any
number of threads.
"""
from cython.parallel cimport prange, threadid
from libc.stdlib cimport free

cimport numpy as cnp

from .aligned cimport alloc_floats
from .parallel cimport omp_get_max_threads

cnp.import_array()

AVAILABLE = bool(CD_AVAILABLE)

# bytes of packed weights a group of channel blocks holds while it sweeps an image's
# pixel tiles (L2 is 1 MB a core on Zen 4; the image's scratch shares it)
cdef Py_ssize_t _group_bytes = 1 << 18


# Each image's padded copy is made whole before its tiles, plane by plane (one sequential
# stream a plane, which the prefetchers follow); copied a band of rows at a time just before
# the tiles that read them, the copy read 64-256 planes' rows at once from a cold input and
# stalled on it (7% of perf's samples at 2 threads, 16x64x56x56 -> 128 3x3/2). In-process
# A/B, cache flushed before each call, best of 6 medians of 7: whole / bands 2 threads
# 0.952 (16x64x56x56 -> 128), 0.965 (16x128x28x28 -> 256); 1 thread 0.953, 0.961.
cdef int _pad_whole = 1


def set_pad_whole(bint on):
    """A/B switch: pad each image whole before its tiles (True) or a band of rows before
    the tiles that read it (False); returns the previous setting. The same bits."""
    global _pad_whole
    previous = bool(_pad_whole)
    _pad_whole = on
    return previous


def set_group_bytes(Py_ssize_t n):
    """A/B switch: bytes of packed weights a group of channel blocks holds; returns the
    previous value. No value changes a bit of the result."""
    global _group_bytes
    previous = _group_bytes
    _group_bytes = n
    return previous


def conv2d(cnp.ndarray x, cnp.ndarray w, cnp.ndarray out, tuple stride, tuple padding,
           tuple dilation):
    """``out = conv2d(x, w)`` (no bias, groups 1) for float32 C-contiguous NCHW ``x``,
    ``w`` (Cout, C, kh, kw) and ``out`` (N, Cout, OH, OW); returns ``out``. Strides 1 or 2
    along the width. Raises where this build has no direct path (``AVAILABLE``)."""
    if not CD_AVAILABLE:
        raise RuntimeError("conv_direct: not available at this CPU level")
    if not all(cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT and cnp.PyArray_NDIM(a) == 4
               and cnp.PyArray_IS_C_CONTIGUOUS(a) for a in (x, w, out)):
        raise ValueError("conv_direct.conv2d takes float32 C-contiguous 4-D arrays")
    if not cnp.PyArray_ISWRITEABLE(out):
        raise ValueError("conv_direct.conv2d: out is read-only")
    cdef cd_geom g
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t ph = padding[0], pw = padding[1]
    g.C, g.M, g.kh, g.kw = C, w.shape[0], w.shape[2], w.shape[3]
    g.sh, g.sw, g.dh, g.dw = stride[0], stride[1], dilation[0], dilation[1]
    if (w.shape[1] != C or min(g.sh, g.sw, g.dh, g.dw) <= 0 or min(ph, pw) < 0
            or g.sw > 2):
        raise ValueError("conv_direct.conv2d: bad geometry")
    g.OH = (H + 2 * ph - g.dh * (g.kh - 1) - 1) // g.sh + 1
    g.OW = (W + 2 * pw - g.dw * (g.kw - 1) - 1) // g.sw + 1
    if (out.shape[0] != N or out.shape[1] != g.M or out.shape[2] != g.OH
            or out.shape[3] != g.OW or g.OH <= 0 or g.OW <= 0):
        raise ValueError("conv_direct.conv2d: out has the wrong shape")
    if out.size == 0:
        return out
    g.K = C * g.kh * g.kw
    if g.K == 0:
        out[...] = 0
        return out
    # padded planes hold only the rows and columns the taps reach; unpadded input is read
    # where it is
    cdef bint copy = ph > 0 or pw > 0
    g.PH, g.PW = H, W
    if copy:
        g.PH = (g.OH - 1) * g.sh + (g.kh - 1) * g.dh + 1
        g.PW = (g.OW - 1) * g.sw + (g.kw - 1) * g.dw + 1
    _run(&g, N, H, W, ph, pw, copy, <const float*>cnp.PyArray_DATA(x),
         <const float*>cnp.PyArray_DATA(w), <float*>cnp.PyArray_DATA(out))
    return out


cdef int _run(cd_geom* g, Py_ssize_t N, Py_ssize_t H, Py_ssize_t W, Py_ssize_t ph,
              Py_ssize_t pw, bint copy, const float* x, const float* w,
              float* out) except -1:
    cdef Py_ssize_t nb = (g.M + CD_CO - 1) // CD_CO
    # groups of channel blocks as even as the byte budget allows
    cdef Py_ssize_t per = max(1, _group_bytes // (g.K * CD_CO * <Py_ssize_t>sizeof(float)))
    cdef Py_ssize_t groups = (nb + per - 1) // per
    cdef Py_ssize_t gblocks = (nb + groups - 1) // groups
    cdef int team = omp_get_max_threads()
    if team > N:
        team = <int>N
    if team < 1:
        team = 1
    cdef Py_ssize_t xsize = g.C * H * W
    cdef Py_ssize_t pad_floats = g.C * g.PH * g.PW + 64 if copy else 0
    cdef Py_ssize_t scratch = (pad_floats + 15) // 16 * 16
    cdef Py_ssize_t wfloats = nb * g.K * CD_CO
    cdef size_t size = wfloats + team * scratch
    cdef float* buf = _take(&size)
    cdef float* wp = buf
    cdef float* sc = buf + wfloats
    cdef Py_ssize_t b, n
    with nogil:
        for b in prange(nb, num_threads=team, schedule="static"):
            cd_pack_weights(w, wp, g.M, g.K, b, b + 1)
        for n in prange(N, num_threads=team, schedule="static"):
            cd_image(g, x + n * xsize, H, W, ph, pw,
                     sc + threadid() * scratch if copy else NULL, wp,
                     out + n * g.M * g.OH * g.OW, gblocks, _pad_whole)
    _give(buf, size)
    return 0


# One buffer (packed weights and the threads' scratch) kept between calls: a fresh one of
# layer4's 4.7 MB faulted its pages in on every call, which took longer than packing into
# them (2 threads, 2x256x14x14 -> 512 3x3/2: the packing region ~1 ms of a 2.3-ms call; a
# warm buffer packs in 0.12 ms on one thread). Taken and given back under the GIL, so
# concurrent calls each get a buffer of their own.
cdef float* _cached = NULL
cdef size_t _cached_floats = 0
# The largest buffer kept: ResNet's routed layers need up to ~5 MB (layer4.0's packed
# weights); the padded planes of large images can reach hundreds of MB, which are freed
# after their call rather than held for the life of the process.
cdef size_t _keep_max_floats = (32 << 20) // sizeof(float)


def _set_keep_max_floats(size_t n):
    """Set the largest buffer kept between calls, in floats (a kept one past it is freed);
    returns the previous value."""
    global _keep_max_floats, _cached
    previous = _keep_max_floats
    _keep_max_floats = n
    if _cached != NULL and _cached_floats > n:
        free(_cached)
        _cached = NULL
    return previous


def _kept_floats():
    """Floats of the buffer kept for the next call (0: none)."""
    return _cached_floats if _cached != NULL else 0


cdef float* _take(size_t* n) except NULL:
    """A buffer of at least n[0] floats: the kept one if it is big enough (n[0] is then its
    size)."""
    global _cached, _cached_floats
    cdef float* p
    if _cached != NULL and _cached_floats >= n[0]:
        p = _cached
        n[0] = _cached_floats
        _cached = NULL
        return p
    return alloc_floats(n[0])


cdef void _give(float* p, size_t n) noexcept:
    """Keep p (n floats, from _take) for the next call if it is the bigger and at most
    _keep_max_floats, else free it."""
    global _cached, _cached_floats
    if n > _keep_max_floats:
        free(p)
        return
    if _cached != NULL and _cached_floats >= n:
        free(p)
        return
    if _cached != NULL:
        free(_cached)
    _cached = p
    _cached_floats = n

"""Strided subsamples of NCHW planes, copied contiguous: the column matrix of an unpadded 1x1
convolution with a stride (ResNet's downsamples), ``x[:, :, ::sh, ::sw]`` cut to its output
rows and columns.

NumPy's strided copy walks the short rows of these planes (8 columns at 64 px) at about a
nanosecond an element: 3 us of a 20 us downsample on one 64x16x16 image. Here the rows are
``subsample.h``'s loops (stride 2 a constant, no overlap test), the arrays reached through
their data pointers (memoryviews cost ~1 us a call), and planes run in parallel when there
are enough of them (a batch).
"""
cimport numpy as cnp
from cython.parallel cimport prange

from .parallel cimport omp_get_max_threads

cnp.import_array()

cdef enum:
    # Output elements from which the planes are copied on every thread of the team (a
    # memory-bound copy: below this a second thread's wake-up costs about what it saves).
    # 2-thread A/B on a quiet machine: 65536, 262144 (this), 1048576
    SPLIT_ELEMENTS = 262144

cdef extern from "subsample.h" nogil:
    void ss_plane_float(const float* x, float* o, Py_ssize_t xrow, Py_ssize_t sw,
                        Py_ssize_t rows, Py_ssize_t OW)
    void ss_plane_double(const double* x, double* o, Py_ssize_t xrow, Py_ssize_t sw,
                         Py_ssize_t rows, Py_ssize_t OW)


cdef void _planes(const char* x, char* o, bint dbl, Py_ssize_t planes, Py_ssize_t plane,
                  Py_ssize_t xrow, Py_ssize_t sw, Py_ssize_t rows, Py_ssize_t OW,
                  int nt) noexcept nogil:
    # plane p: x + p*plane elements in, o + p*rows*OW out
    cdef Py_ssize_t p
    if nt <= 1:
        for p in range(planes):
            if dbl:
                ss_plane_double(<const double*>x + p * plane, <double*>o + p * rows * OW, xrow,
                                sw, rows, OW)
            else:
                ss_plane_float(<const float*>x + p * plane, <float*>o + p * rows * OW, xrow,
                               sw, rows, OW)
        return
    for p in prange(planes, schedule="static", num_threads=nt):
        if dbl:
            ss_plane_double(<const double*>x + p * plane, <double*>o + p * rows * OW, xrow,
                            sw, rows, OW)
        else:
            ss_plane_float(<const float*>x + p * plane, <float*>o + p * rows * OW, xrow, sw,
                           rows, OW)


def subsample(cnp.ndarray x, cnp.ndarray out, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t oh0,
              Py_ssize_t oh1, Py_ssize_t OW, bint team=False):
    """``out`` (any C-contiguous shape of ``N*C*(oh1 - oh0)*OW`` elements, read as
    ``(N, C, oh1 - oh0, OW)``) = ``x[:, :, oh0*sh:oh1*sh:sh, :OW*sw:sw]`` for a C-contiguous
    ``x`` (N, C, H, W) of float32 or float64.

    ``team``: the caller runs its next step (the product) on the team, so the planes are
    shared at any size: the copy's region wakes the sleeping team threads while there is
    work for them, and they are awake when the product starts. 1x1/2 convolutions, 2
    threads, exclusive lock, 3 alternating process pairs, best of 5 medians: 1x64x56x56
    114-116 -> 92-93 us, 1x128x28x28 91-92 -> 85, 1x256x14x14 90 -> 85-86, 16x256x14x14
    1265-1276 -> 1193-1205. Splitting every copy from 8192 output elements instead lost on
    a 1x64x32x32, whose product runs on one thread (53 -> 77 us: a team woken for nothing)."""
    if (cnp.PyArray_NDIM(x) != 4 or not cnp.PyArray_IS_C_CONTIGUOUS(x)
            or not cnp.PyArray_IS_C_CONTIGUOUS(out)):
        raise RuntimeError("subsample: x must be 4-D and both arrays C-contiguous")
    cdef int t = cnp.PyArray_TYPE(x)
    if cnp.PyArray_TYPE(out) != t or (t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64):
        raise RuntimeError("subsample: x and out must be both float32 or both float64")
    cdef cnp.npy_intp* s = cnp.PyArray_DIMS(x)
    cdef Py_ssize_t planes = s[0] * s[1], H = s[2], W = s[3], rows = oh1 - oh0
    if (sh <= 0 or sw <= 0 or OW < 0 or oh0 < 0 or rows < 0 or (rows > 0 and (
            (oh1 - 1) * sh >= H or (OW > 0 and (OW - 1) * sw >= W)))):
        raise RuntimeError("subsample: rows or columns outside the input")
    if cnp.PyArray_SIZE(out) != planes * rows * OW:
        raise RuntimeError("subsample: out has the wrong size")
    if not cnp.PyArray_SIZE(out):
        return
    cdef Py_ssize_t item = cnp.PyArray_ITEMSIZE(x)
    cdef const char* px = <const char*>cnp.PyArray_DATA(x) + oh0 * sh * W * item
    cdef char* po = <char*>cnp.PyArray_DATA(out)
    cdef int nt = 1
    if (team or planes * rows * OW >= SPLIT_ELEMENTS) and planes > 1:
        nt = <int>min(<Py_ssize_t>omp_get_max_threads(), planes)
    with nogil:
        _planes(px, po, t == cnp.NPY_FLOAT64, planes, H * W, sh * W, sw, rows, OW, nt)

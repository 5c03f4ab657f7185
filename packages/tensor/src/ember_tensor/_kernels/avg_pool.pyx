"""Average pooling on ``(planes, H, W)`` contiguous arrays, forward and backward: fixed
windows (``avg_pool2d``), torch's adaptive windows (``adaptive_avg_pool2d``) and the whole
plane (``global_avg_pool2d``, as ``mean(dim=(-2, -1))`` rounds it). Window sums are in double.

The Python side (``ember_tensor.nn.pooling``) computes output sizes and checks arguments in
torch's words; the ``def`` functions here re-check what memory safety depends on (shapes,
dtypes, contiguity) before any loop runs.
"""
from cython.parallel cimport prange
from libc.stdlib cimport free, malloc

from .parallel cimport threads_for
from .pool_windows cimport axis_windows
from .reduce cimport row_sum
from .types cimport for_dtype, real

from .pool_windows import (geometry_ok as _geometry_ok, planes as _planes,
                           same_float as _same_float)

cdef extern from "avg_pool.h" nogil:
    Py_ssize_t EMBER_POOL_SHORT_PLANE
    double ember_pool_short_sum_f32(const float* x, Py_ssize_t n)
    double ember_pool_short_sum_f64(const double* x, Py_ssize_t n)


cdef inline Py_ssize_t _avg_divisor(Py_ssize_t h0, Py_ssize_t h1, Py_ssize_t hs, Py_ssize_t w0,
                                    Py_ssize_t w1, Py_ssize_t ws, bint include_pad,
                                    Py_ssize_t divisor) noexcept nogil:
    if divisor > 0:
        return divisor
    if include_pad:
        return hs * ws
    return (h1 - h0) * (w1 - w0)


cdef void _avg_plane(const real* src, real* dst, Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW,
                     const Py_ssize_t* win, bint include_pad, Py_ssize_t divisor,
                     bint backward) noexcept nogil:
    # forward: dst (OH, OW) = the mean of src (H, W) over each window; backward (src =
    # grad_output, dst = grad_input): every input of a window gets the window's share.
    # win: the rows' lo, hi, span (OH each), then the columns' (OW each); see axis_windows
    cdef Py_ssize_t oh, ow, ih, iw, h0, h1, w0, w1, div
    cdef double acc
    cdef real g
    for oh in range(OH):
        h0 = win[oh]
        h1 = win[OH + oh]
        for ow in range(OW):
            w0 = win[3 * OH + ow]
            w1 = win[3 * OH + OW + ow]
            if h0 >= h1 or w0 >= w1:
                if not backward:
                    dst[oh * OW + ow] = 0
                continue
            div = _avg_divisor(h0, h1, win[2 * OH + oh], w0, w1, win[3 * OH + 2 * OW + ow],
                               include_pad, divisor)
            if backward:
                g = src[oh * OW + ow] / div
                for ih in range(h0, h1):
                    for iw in range(w0, w1):
                        dst[ih * W + iw] += g
            else:
                acc = 0
                for ih in range(h0, h1):
                    for iw in range(w0, w1):
                        acc = acc + src[ih * W + iw]
                dst[oh * OW + ow] = <real>(acc / div)


cdef void _avg_pool(const real* src, real* dst, Py_ssize_t planes, Py_ssize_t H, Py_ssize_t W,
                    Py_ssize_t OH, Py_ssize_t OW, const Py_ssize_t* win, bint include_pad,
                    Py_ssize_t divisor, bint backward, int nt) noexcept nogil:
    # forward: dst (OH, OW) planes = the mean of src (H, W) planes over each window;
    # backward (src = grad_output, dst = grad_input): every input of a window gets its share
    cdef Py_ssize_t p
    for p in prange(planes, nogil=True, schedule="static", num_threads=nt):
        if backward:
            _avg_plane(src + p * OH * OW, dst + p * H * W, W, OH, OW, win, include_pad,
                       divisor, True)
        else:
            _avg_plane(src + p * H * W, dst + p * OH * OW, W, OH, OW, win, include_pad,
                       divisor, False)


cdef void _global_avg(const real* x, real* out, Py_ssize_t planes, Py_ssize_t n,
                      int nt) noexcept nogil:
    # a 1x1 output is ``mean(dim=(-2, -1))`` (torch routes it there too), rounded as that
    # rounds: the plane's double sum to the dtype, then divided in the dtype
    cdef Py_ssize_t p
    for p in prange(planes, nogil=True, schedule="static", num_threads=nt):
        out[p] = <real>_plane_sum(x + p * n, n) / <real>n


cdef inline double _plane_sum(const real* x, Py_ssize_t n) noexcept nogil:
    # row_sum's exact result; a short plane's in registers (avg_pool.h): 10240 planes of
    # 7x7 took 184 us through row_sum, 74-82 us this way (1 thread, loaded machine)
    if n >= EMBER_POOL_SHORT_PLANE:
        return row_sum(x, n)
    if real is float:
        return 0.0 + ember_pool_short_sum_f32(x, n)
    else:
        return 0.0 + ember_pool_short_sum_f64(x, n)


cdef void _global_avg_back(const real* go, real* gx, Py_ssize_t planes, Py_ssize_t n,
                           int nt) noexcept nogil:
    # the mean's gradient, written (not accumulated), so the caller need not zero gx
    cdef Py_ssize_t p, i
    cdef real g
    cdef real* plane
    for p in prange(planes, nogil=True, schedule="static", num_threads=nt):
        g = go[p] / <real>n
        plane = gx + p * n
        for i in range(n):
            plane[i] = g


# ---- checked entry points ---------------------------------------------------------------

def _avg_pool_entry(src, dst, args, bint count_include_pad, Py_ssize_t divisor, bint backward,
                    str op):
    # avg_pool2d and adaptive_avg_pool2d, forward and backward; args None means adaptive
    P, _H, _W = _planes(dst if backward else src, "grad_input" if backward else "input")
    P2, _OH, _OW = _planes(src if backward else dst, "grad_output" if backward else "output")
    if P2 != P:
        what = "grad_output" if backward else "output"
        raise RuntimeError(f"{op}: {what} does not match the input")
    if args is None:
        kh = kw = sh = sw = 1
        ph = pw = 0
    else:
        kh, kw, sh, sw, ph, pw = args
        _geometry_ok((kh, kw, sh, sw, ph, pw, 1, 1))
    if dst.size == 0 or (backward and src.size == 0):
        return
    if args is None and not backward and (_H == 0 or _W == 0):
        raise RuntimeError(f"{op}: empty input plane")
    # elements read and written: window taps, or for adaptive windows (which overlap by at
    # most one row or column) both sides once
    windows = src if backward else dst
    work = src.size + dst.size if args is None else windows.size * kh * kw
    nt = threads_for(work, P)
    for_dtype(_same_float(src, dst), _AVG_POOL, op)(
        src, dst, (0, 0, sh, sw, ph, pw) if args is None else args, count_include_pad,
        divisor, backward, nt)


cdef _avg_pool_typed(real[:, :, ::1] src, real[:, :, ::1] dst, tuple args, bint include_pad,
                     Py_ssize_t divisor, bint backward, int nt):
    cdef Py_ssize_t kh, kw, sh, sw, ph, pw
    kh, kw, sh, sw, ph, pw = args
    # the (planes, H, W) input side and the (planes, OH, OW) output side
    cdef real[:, :, ::1] inp = dst if backward else src
    cdef real[:, :, ::1] outp = src if backward else dst
    cdef Py_ssize_t H = inp.shape[1], W = inp.shape[2], OH = outp.shape[1], OW = outp.shape[2]
    cdef Py_ssize_t* win = <Py_ssize_t*>malloc(3 * (OH + OW) * sizeof(Py_ssize_t))
    if win == NULL:
        raise MemoryError()
    with nogil:
        axis_windows(win, win + OH, win + 2 * OH, OH, H, kh, sh, ph)
        axis_windows(win + 3 * OH, win + 3 * OH + OW, win + 3 * OH + 2 * OW, OW, W, kw, sw, pw)
        _avg_pool(&src[0, 0, 0], &dst[0, 0, 0], inp.shape[0], H, W, OH, OW, win, include_pad,
                  divisor, backward, nt)
    free(win)


_AVG_POOL = (_avg_pool_typed[float], _avg_pool_typed[double])


def avg_pool2d(x, out, args, bint count_include_pad, Py_ssize_t divisor):
    """``args`` = (kh, kw, sh, sw, ph, pw); ``divisor`` 0 means none."""
    _avg_pool_entry(x, out, args, count_include_pad, divisor, False, "avg_pool2d")


def avg_pool2d_backward(go, gx, args, bint count_include_pad, Py_ssize_t divisor):
    """Add ``go``'s share to every input of each window into ``gx``."""
    _avg_pool_entry(go, gx, args, count_include_pad, divisor, True, "avg_pool2d_backward")


def adaptive_avg_pool2d(x, out):
    """torch's adaptive windows, averaged."""
    _avg_pool_entry(x, out, None, False, 0, False, "adaptive_avg_pool2d")


def adaptive_avg_pool2d_backward(go, gx):
    _avg_pool_entry(go, gx, None, False, 0, True, "adaptive_avg_pool2d_backward")


def global_avg_pool2d(x, out):
    """``out`` (planes,) = each (planes, H, W) plane's mean, as ``mean(dim=(-2, -1))``."""
    P, H, W = _planes(x, "input")
    if out.ndim != 1 or out.shape[0] != P or not out.flags.c_contiguous:
        raise RuntimeError("global_avg_pool2d: output does not match the input")
    if P == 0:
        return
    if H == 0 or W == 0:
        raise RuntimeError("global_avg_pool2d: empty input plane")
    nt = threads_for(x.size, P)
    for_dtype(_same_float(x, out), _GLOBAL_AVG_POOL, "global_avg_pool2d")(x, out, nt)


cdef _global_avg_pool_typed(real[:, :, ::1] x, real[::1] out, int nt):
    with nogil:
        _global_avg(&x[0, 0, 0], &out[0], x.shape[0], x.shape[1] * x.shape[2], nt)


_GLOBAL_AVG_POOL = (_global_avg_pool_typed[float], _global_avg_pool_typed[double])


def global_avg_pool2d_backward(go, gx):
    """Write (not add) ``go[p] / (H*W)`` over each plane of ``gx`` (planes, H, W)."""
    P, _H, _W = _planes(gx, "grad_input")
    if go.ndim != 1 or go.shape[0] != P or not go.flags.c_contiguous:
        raise RuntimeError("global_avg_pool2d_backward: grad_output does not match the input")
    if gx.size == 0:
        return
    nt = threads_for(gx.size, P)
    for_dtype(_same_float(go, gx), _GLOBAL_AVG_POOL_BACKWARD,
              "global_avg_pool2d_backward")(go, gx, nt)


cdef _global_avg_pool_backward_typed(real[::1] go, real[:, :, ::1] gx, int nt):
    with nogil:
        _global_avg_back(&go[0], &gx[0, 0, 0], gx.shape[0], gx.shape[1] * gx.shape[2], nt)


_GLOBAL_AVG_POOL_BACKWARD = (_global_avg_pool_backward_typed[float],
                             _global_avg_pool_backward_typed[double])

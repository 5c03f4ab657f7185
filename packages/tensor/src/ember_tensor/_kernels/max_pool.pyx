"""Max pooling on ``(planes, H, W)`` contiguous arrays: fixed windows (``max_pool2d`` and
its backward) and torch's adaptive windows (``adaptive_max_pool2d``, which runs the fixed
windows' row sweeps where its windows are regular). Values and int64 indices follow torch's
rule: the first maximum wins, a NaN beats everything.

The Python side (``ember_tensor.nn.pooling``) computes output sizes and checks arguments in
torch's words; the ``def`` functions here re-check what memory safety depends on (shapes,
dtypes, contiguity, index ranges) before any loop runs.
"""
cimport numpy as cnp
from cython.parallel cimport prange
from libc.math cimport INFINITY, isnan
from libc.stdlib cimport free, malloc
from libc.stdint cimport (INT8_MIN, INT16_MIN, INT32_MIN, INT64_MIN, int8_t, int16_t, int32_t,
                          int64_t, uint8_t)

from .parallel cimport threads_for
from .pool_windows cimport axis_windows
from .reduce cimport row_extreme
from .types cimport for_dtype, numeric, real

import numpy as np

cnp.import_array()

from .pool_windows import (geometry_ok as _geometry_ok, planes as _planes,
                           same_float as _same_float)

cdef extern from "max_pool.h" nogil:
    void ember_max_row_s1_f32(const float* x, Py_ssize_t W, float* out, int64_t* idx,
                              Py_ssize_t n, Py_ssize_t base, Py_ssize_t rows, Py_ssize_t dh,
                              Py_ssize_t kw, Py_ssize_t dw)
    void ember_max_row_s2_f32(const float* x, Py_ssize_t W, float* out, int64_t* idx,
                              Py_ssize_t n, Py_ssize_t base, Py_ssize_t rows, Py_ssize_t dh,
                              Py_ssize_t kw, Py_ssize_t dw)


cdef enum:
    # rows with at least this many interior outputs run max_pool.h's block sweep (float32)
    MIN_BLOCKED_ROW = 2
    # ... in planes of at most this many elements: the sweep tracks positions as int32
    MAX_BLOCKED_PLANE = 2147483584


cdef inline bint _beats(numeric v, numeric m) noexcept nogil:
    # torch's rule: first maximum wins, and a NaN beats everything
    if numeric is float or numeric is double:
        return v > m or isnan(v)
    else:
        return v > m


cdef inline Py_ssize_t _span(Py_ssize_t o, Py_ssize_t s, Py_ssize_t p, Py_ssize_t k,
                             Py_ssize_t d, Py_ssize_t n, Py_ssize_t* end) noexcept nogil:
    # first in-range tap of output o's dilated window along one axis; *end is one past
    # the last (first >= *end means the window lies wholly in the padding)
    cdef Py_ssize_t i0 = o * s - p
    end[0] = i0 + (k - 1) * d + 1
    if end[0] > n:
        end[0] = n
    while i0 < 0:
        i0 += d
    return i0


cdef inline numeric _lowest(numeric like) noexcept nogil:
    # what torch's max-pool starts from; `like` only selects the type
    if numeric is float or numeric is double:
        return -INFINITY
    elif numeric is int64_t:
        return INT64_MIN
    elif numeric is int32_t:
        return INT32_MIN
    elif numeric is int16_t:
        return INT16_MIN
    elif numeric is int8_t:
        return INT8_MIN
    else:
        return 0


cdef inline void _max_window(const numeric* x, numeric* out, int64_t* idx, Py_ssize_t W,
                             Py_ssize_t ih0, Py_ssize_t ih1, Py_ssize_t dh, Py_ssize_t iw0,
                             Py_ssize_t iw1, Py_ssize_t dw) noexcept nogil:
    # one window in torch's row-major order; used where the window is clipped by the edge
    cdef Py_ssize_t ih, iw, pos, best = ih0 * W + iw0
    cdef numeric v, m
    cdef bint c
    if ih0 >= ih1 or iw0 >= iw1:
        # a dilated window can miss the input entirely; torch then gives the lowest value
        # and this (out-of-plane) index, which the backward's range check refuses
        out[0] = _lowest(x[0])
        idx[0] = best
        return
    # the window's first element seeds the maximum (integers have no -inf)
    m = x[best]
    ih = ih0
    while ih < ih1:
        iw = iw0
        while iw < iw1:
            # selects, not a branch: "v beats the max" mispredicts on real data (adaptive
            # max pooling, all windows: 8x256x13x13 -> 6x6 took 1.2 ms branching)
            pos = ih * W + iw
            v = x[pos]
            c = _beats(v, m)
            m = v if c else m
            best = pos if c else best
            iw += dw
        ih += dh
    out[0] = m
    idx[0] = best


cdef inline bint _max_row_blocked(const numeric* x, numeric* out, int64_t* idx, Py_ssize_t W,
                                  Py_ssize_t n, Py_ssize_t base, Py_ssize_t rows,
                                  Py_ssize_t dh, Py_ssize_t sw, Py_ssize_t kw,
                                  Py_ssize_t dw, Py_ssize_t avail) noexcept nogil:
    # max_pool.h's register-blocked interior sweep, for float32 rows of stride 1 or 2;
    # False leaves the row to max_pool_plane's own sweep. A row of n < 8 outputs runs one
    # 8-lane block whose spare lanes read past the row, so only where x has that much input
    # left (avail elements): the last rows of the last plane stay on the sweep.
    if numeric is float:
        if n < 8 and base + (rows - 1) * dh * W + (kw - 1) * dw + 7 * sw >= avail:
            return False
        if sw == 2:
            ember_max_row_s2_f32(x, W, out, idx, n, base, rows, dh, kw, dw)
            return True
        if sw == 1:
            ember_max_row_s1_f32(x, W, out, idx, n, base, rows, dh, kw, dw)
            return True
    return False


cdef void max_pool_plane(const numeric* x, numeric* out, int64_t* idx, Py_ssize_t H,
                         Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t kh,
                         Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph,
                         Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw,
                         Py_ssize_t avail) noexcept nogil:
    # avail: elements readable from x on (this plane and those after it), which lets short
    # rows run max_pool.h's block sweep
    cdef Py_ssize_t oh, ow, ih, ih0, ih1, iw0, iw1, j, pos, off, a0, b0, a, b
    cdef numeric v
    cdef numeric* orow
    cdef int64_t* irow
    cdef bint c
    # outputs a..b-1 have every column tap inside the row; they run as whole-row sweeps,
    # tap by tap in the same row-major order, with selects instead of branches (a branch
    # on "v beats the max" mispredicts on real data and cost ~4x)
    a0 = (pw + sw - 1) // sw
    b0 = (W - 1 + pw - (kw - 1) * dw) // sw + 1 if W - 1 + pw >= (kw - 1) * dw else 0
    if b0 > OW:
        b0 = OW
    if a0 > b0:
        a0 = b0
    for oh in range(OH):
        ih0 = _span(oh, sh, ph, kh, dh, H, &ih1)
        orow = out + oh * OW
        irow = idx + oh * OW
        a, b = a0, b0
        if ih0 >= ih1:
            a = b = 0  # no row of this window is in range: every output goes the slow way
        # (iw0 is computed first: C leaves the order of argument evaluation open)
        for ow in range(a):
            iw0 = _span(ow, sw, pw, kw, dw, W, &iw1)
            _max_window(x, orow + ow, irow + ow, W, ih0, ih1, dh, iw0, iw1, dw)
        for ow in range(b, OW):
            iw0 = _span(ow, sw, pw, kw, dw, W, &iw1)
            _max_window(x, orow + ow, irow + ow, W, ih0, ih1, dh, iw0, iw1, dw)
        if b - a >= MIN_BLOCKED_ROW and H * W <= MAX_BLOCKED_PLANE and _max_row_blocked(
                x, orow + a, irow + a, W, b - a, ih0 * W - pw + a * sw,
                (ih1 - ih0 + dh - 1) // dh, dh, sw, kw, dw, avail):
            continue
        off = ih0 * W - pw
        for ow in range(a, b):
            orow[ow] = x[off + ow * sw]
            irow[ow] = off + ow * sw
        ih = ih0
        while ih < ih1:
            for j in range(kw):
                off = ih * W + j * dw - pw
                for ow in range(a, b):
                    pos = off + ow * sw
                    v = x[pos]
                    c = _beats(v, orow[ow])
                    orow[ow] = v if c else orow[ow]
                    irow[ow] = pos if c else irow[ow]
            ih += dh


cdef void _max_pool(const numeric* x, numeric* out, int64_t* idx, Py_ssize_t planes,
                    Py_ssize_t H,
                    Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t kh, Py_ssize_t kw,
                    Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t dh,
                    Py_ssize_t dw, int nt) noexcept nogil:
    cdef Py_ssize_t p
    for p in prange(planes, nogil=True, schedule="static", num_threads=nt):
        max_pool_plane(x + p * H * W, out + p * OH * OW, idx + p * OH * OW, H, W, OH, OW,
                       kh, kw, sh, sw, ph, pw, dh, dw, (planes - p) * H * W)


cdef Py_ssize_t _max_pool_back(const real* go, const int64_t* idx, real* gx,
                               Py_ssize_t planes, Py_ssize_t HW, Py_ssize_t OHW,
                               bint zeroed, int nt) noexcept nogil:
    # each plane is zeroed (unless the caller's allocation already is) and scattered into by
    # the thread that owns it (while it is in that thread's cache), and indices are
    # range-checked on the way rather than in serial passes before: returns how many fell
    # outside their plane (those are skipped)
    cdef Py_ssize_t p, o, j, bad = 0
    cdef int64_t k
    cdef real* plane
    for p in prange(planes, nogil=True, schedule="static", num_threads=nt):
        plane = gx + p * HW
        if not zeroed:
            for j in range(HW):
                plane[j] = 0
        for o in range(OHW):
            k = idx[p * OHW + o]
            if k < 0 or k >= HW:
                bad += 1
            else:
                plane[k] += go[p * OHW + o]
    return bad


cdef void _adaptive_max(const real* x, real* out, int64_t* idx, Py_ssize_t planes,
                        Py_ssize_t H, Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW,
                        const Py_ssize_t* win, int nt) noexcept nogil:
    # torch's adaptive windows, each scanned as a max-pool window of unit stride/dilation;
    # win: the rows' lo, hi, span (OH each), then the columns' (OW each), see axis_windows
    # (computed once: two integer divisions per output cost ~15% of a 13x13 -> 6x6 pool)
    cdef Py_ssize_t p, oh, ow, h0, h1, o
    if OH == 1 and OW == 1:
        # the window is the whole contiguous plane: the reductions' branch-free row scan,
        # except where it finds a NaN, whose index rule (torch's pool keeps the last NaN,
        # max() the first) only the window scan follows
        for p in prange(planes, nogil=True, schedule="static", num_threads=nt):
            row_extreme(x + p * H * W, H * W, out + p, idx + p, True)
            if out[p] != out[p]:
                _max_window(x + p * H * W, out + p, idx + p, W, 0, H, 1, 0, W, 1)
        return
    for p in prange(planes, nogil=True, schedule="static", num_threads=nt):
        for oh in range(OH):
            h0 = win[oh]
            h1 = win[OH + oh]
            for ow in range(OW):
                o = (p * OH + oh) * OW + ow
                _max_window(x + p * H * W, out + o, idx + o, W, h0, h1, 1, win[3 * OH + ow],
                            win[3 * OH + OW + ow], 1)


# ---- checked entry points ---------------------------------------------------------------

def _with_indices(x, out, idx, op):
    """The input's (planes, H, W), once output and int64 indices are checked to match it."""
    P, H, W = _planes(x, "input")
    P2, _OH, _OW = _planes(out, "output")
    if P2 != P or idx.shape != out.shape or idx.dtype != np.int64 or not idx.flags.c_contiguous:
        raise RuntimeError(f"{op}: output/indices do not match the input")
    return P, H, W


def max_pool2d(x, out, idx, args):
    """``args`` = (kh, kw, sh, sw, ph, pw, dh, dw). Fills ``out`` and ``idx`` (int64)."""
    P, H, W = _with_indices(x, out, idx, "max_pool2d")
    _geometry_ok(args)
    kh, kw = args[0], args[1]
    if out.size == 0:
        return
    if H == 0 or W == 0:
        raise RuntimeError("max_pool2d: empty input plane")
    if x.dtype != out.dtype:
        raise RuntimeError("max_pool2d: input and output must share a float32/float64 or "
                           "integer dtype")
    nt = threads_for(x.size + out.size * kh * kw, P)
    for_dtype(x.dtype, _MAX_POOL, "max_pool2d")(x, out, idx, args, nt)


cdef _max_pool_typed(numeric[:, :, ::1] x, numeric[:, :, ::1] out, int64_t[:, :, ::1] idx,
                     tuple args, int nt):
    cdef Py_ssize_t kh, kw, sh, sw, ph, pw, dh, dw
    kh, kw, sh, sw, ph, pw, dh, dw = args
    with nogil:
        _max_pool(&x[0, 0, 0], &out[0, 0, 0], &idx[0, 0, 0], x.shape[0], x.shape[1],
                  x.shape[2], out.shape[1], out.shape[2], kh, kw, sh, sw, ph, pw, dh, dw, nt)


_MAX_POOL = (_max_pool_typed[float], _max_pool_typed[double], _max_pool_typed[int64_t],
             _max_pool_typed[int32_t], _max_pool_typed[int16_t], _max_pool_typed[int8_t],
             _max_pool_typed[uint8_t])


# Whether max_pool2d_backward's zeroing counts toward its parallel threshold (1x64x32x32:
# 16K scattered, 64K zeroed; torch splits it). Alone, with the team awake, counting it won
# (quiet A/B, 2 threads, 1x64x32x32 20.7 -> 15.5 us). Inside the training step 1x64 the
# team has gone to sleep by then (the ops before it are serial), and the wake costs more
# than the split saves: the call (Python side included) 90-111 -> 54-57 us, 3 alternating
# rounds of 30 steps, 2 threads, exclusive lock. From 4 images the scatter alone passes
# the threshold, so larger inputs split as before.
BACKWARD_COUNTS_ZEROING = False


def max_pool2d_backward(go, idx, gx, bint zeroed=False):
    """Fill ``gx`` (planes, H, W) with ``go`` summed at the flat per-plane ``idx`` (zero
    elsewhere); ``zeroed``: ``gx`` is all zeros already, so only the scatter runs."""
    P, _H, _W = _planes(gx, "grad_input")
    P2, _OH, _OW = _planes(go, "grad_output")
    if P2 != P or idx.shape != go.shape or idx.dtype != np.int64 or not idx.flags.c_contiguous:
        raise RuntimeError("max_pool2d_backward: grad_output/indices do not match")
    if go.size == 0:
        if not zeroed:
            gx[...] = 0
        return
    # the threads are sized by the scatter, or by the scatter plus the zeroing (see
    # BACKWARD_COUNTS_ZEROING)
    nt = threads_for(go.size + (gx.size if BACKWARD_COUNTS_ZEROING and not zeroed else 0), P)
    run = for_dtype(_same_float(go, gx), _MAX_POOL_BACKWARD, "max_pool2d_backward")
    if run(go, idx, gx, zeroed, nt):
        raise RuntimeError("max_pool2d_backward: index out of range of the input plane")


cdef Py_ssize_t _max_pool_backward_typed(real[:, :, ::1] go, int64_t[:, :, ::1] idx,
                                         real[:, :, ::1] gx, bint zeroed, int nt):
    cdef Py_ssize_t bad
    with nogil:
        bad = _max_pool_back(&go[0, 0, 0], &idx[0, 0, 0], &gx[0, 0, 0], gx.shape[0],
                             gx.shape[1] * gx.shape[2], go.shape[1] * go.shape[2], zeroed,
                             nt)
    return bad


_MAX_POOL_BACKWARD = (_max_pool_backward_typed[float], _max_pool_backward_typed[double])


# ---- the usual backward call, in one C call -----------------------------------------------
# At ResNet's 1x64x32x32 the scatter is ~10 us and the Python around it (the general form's
# nd/_check_grad/kernel_array/reshapes, this module's _planes/same_float/for_dtype and three
# typed memoryviews) was ~5 us more. backward_plain checks the arrays with NumPy's C API,
# allocates the gradient itself and runs the same loop on raw pointers.

cdef inline bint _plain_array(object a, int typ) noexcept:
    # an exact ndarray of this type, C-contiguous, aligned, native byte order
    if type(a) is not np.ndarray:
        return False
    cdef cnp.ndarray arr = <cnp.ndarray>a
    return (cnp.PyArray_TYPE(arr) == typ and cnp.PyArray_ISCARRAY_RO(arr)
            and cnp.PyArray_ISNOTSWAPPED(arr))


def backward_plain(go, idx, tuple in_shape):
    """The input's gradient (a new ndarray of ``in_shape``) of a max pool whose output
    gradient is ``go`` and argmax ``idx``, as ``max_pool2d_backward`` computes it (same loop,
    same threads, same bits); None unless ``go`` is a C-contiguous float32/float64 ndarray of
    3 or 4 non-empty dims, ``idx`` a C-contiguous int64 ndarray of its shape and ``in_shape``
    the same leading dims with a non-empty plane: the caller then takes the general form,
    which checks everything in torch's words. Raises as that form does for an index outside
    its plane."""
    cdef int typ, nd, d
    cdef cnp.ndarray g, ix, gx
    cdef cnp.npy_intp dims[4]
    cdef Py_ssize_t planes = 1, HW, OHW, bad
    if _plain_array(go, cnp.NPY_FLOAT32):
        typ = cnp.NPY_FLOAT32
    elif _plain_array(go, cnp.NPY_FLOAT64):
        typ = cnp.NPY_FLOAT64
    else:
        return None
    if not _plain_array(idx, cnp.NPY_INT64):
        return None
    g = <cnp.ndarray>go
    ix = <cnp.ndarray>idx
    nd = cnp.PyArray_NDIM(g)
    if (nd != 3 and nd != 4) or cnp.PyArray_NDIM(ix) != nd or len(in_shape) != nd:
        return None
    for d in range(nd):
        if cnp.PyArray_DIMS(ix)[d] != cnp.PyArray_DIMS(g)[d] or cnp.PyArray_DIMS(g)[d] <= 0:
            return None
        if type(in_shape[d]) is not int:
            return None
        dims[d] = in_shape[d]
        if dims[d] <= 0 or (d < nd - 2 and dims[d] != cnp.PyArray_DIMS(g)[d]):
            return None
        if d < nd - 2:
            planes *= dims[d]
    HW = dims[nd - 2] * dims[nd - 1]
    OHW = cnp.PyArray_DIMS(g)[nd - 2] * cnp.PyArray_DIMS(g)[nd - 1]
    gx = cnp.PyArray_EMPTY(nd, dims, typ, 0)
    # the general form's thread count (BACKWARD_COUNTS_ZEROING is off there for this call)
    cdef int nt = threads_for(planes * OHW + (planes * HW if BACKWARD_COUNTS_ZEROING else 0),
                              planes)
    cdef void* gp = cnp.PyArray_DATA(g)
    cdef const int64_t* ip = <const int64_t*>cnp.PyArray_DATA(ix)
    cdef void* xp = cnp.PyArray_DATA(gx)
    with nogil:
        if typ == cnp.NPY_FLOAT32:
            bad = _max_pool_back(<const float*>gp, ip, <float*>xp, planes, HW, OHW, False, nt)
        else:
            bad = _max_pool_back(<const double*>gp, ip, <double*>xp, planes, HW, OHW, False,
                                 nt)
    if bad:
        raise RuntimeError("max_pool2d_backward: index out of range of the input plane")
    return gx


def adaptive_max_pool2d(x, out, idx):
    """torch's adaptive windows; fills ``out`` and ``idx`` (int64 ``h*W + w`` per plane)."""
    P, H, W = _with_indices(x, out, idx, "adaptive_max_pool2d")
    if out.size == 0:
        return
    if H == 0 or W == 0:
        raise RuntimeError("adaptive_max_pool2d: empty input plane")
    nt = threads_for(x.size + out.size, P)
    for_dtype(_same_float(x, out), _ADAPTIVE_MAX_POOL, "adaptive_max_pool2d")(x, out, idx, nt)


cdef bint _regular_axis(const Py_ssize_t* lo, const Py_ssize_t* span, Py_ssize_t on,
                        Py_ssize_t* k, Py_ssize_t* s) noexcept nogil:
    # whether one axis's adaptive windows are all k long and start every s (> 0), as a max
    # pool's of kernel k, stride s and no padding are (13 -> 6: 3 every 2); adaptive windows
    # never reach past the input, so their ends follow
    cdef Py_ssize_t o
    k[0] = span[0]
    s[0] = lo[1] - lo[0] if on > 1 else 1
    if s[0] < 1:
        return False
    for o in range(on):
        if span[o] != k[0] or lo[o] != o * s[0]:
            return False
    return True


cdef _adaptive_max_pool_typed(real[:, :, ::1] x, real[:, :, ::1] out, int64_t[:, :, ::1] idx,
                              int nt):
    cdef Py_ssize_t H = x.shape[1], W = x.shape[2], OH = out.shape[1], OW = out.shape[2]
    cdef Py_ssize_t kh, kw, sh, sw
    cdef Py_ssize_t* win = <Py_ssize_t*>malloc(3 * (OH + OW) * sizeof(Py_ssize_t))
    if win == NULL:
        raise MemoryError()
    with nogil:
        axis_windows(win, win + OH, win + 2 * OH, OH, H, 0, 1, 0)
        axis_windows(win + 3 * OH, win + 3 * OH + OW, win + 3 * OH + 2 * OW, OW, W, 0, 1, 0)
        if (OH > 1 or OW > 1) and _regular_axis(win, win + 2 * OH, OH, &kh, &sh) \
                and _regular_axis(win + 3 * OH, win + 3 * OH + 2 * OW, OW, &kw, &sw):
            # the same windows, taps in the same order under the same rule: max pooling's
            # row sweeps give the window scan's values and indices
            _max_pool(&x[0, 0, 0], &out[0, 0, 0], &idx[0, 0, 0], x.shape[0], H, W, OH, OW,
                      kh, kw, sh, sw, 0, 0, 1, 1, nt)
        else:
            _adaptive_max(&x[0, 0, 0], &out[0, 0, 0], &idx[0, 0, 0], x.shape[0], H, W, OH,
                          OW, win, nt)
    free(win)


_ADAPTIVE_MAX_POOL = (_adaptive_max_pool_typed[float], _adaptive_max_pool_typed[double])

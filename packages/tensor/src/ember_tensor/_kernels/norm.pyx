"""Batch-norm kernels over contiguous ``(N, C, L)`` arrays (``L`` = product of spatial dims).

Four entry points, one call per direction: ``train_forward``/``train_backward`` and
``eval_forward``/``eval_backward``. They take the parameters and statistics as they are
(float32 or float64) and compute the statistics and per-channel constants in double,
whatever ``real`` is; the sweeps below them are not exported on their own.
Every pass is one sweep over memory with SIMD inner loops; threads take channels (statistics)
or ``(n, c)`` rows (elementwise passes and the eval backward, whose per-plane sums are added
up afterwards in a fixed order) dynamically, so a thread the OS preempts on a busy machine
does not hold the others at the barrier.
"""
cimport numpy as cnp
from cython.parallel cimport prange
from libc.math cimport sqrt
from libc.stdlib cimport free, malloc

from .parallel cimport threads_for
from .simd cimport axpb, axpbyc, grad_row_sums, simd_sqdev, simd_sum
from .types cimport real

import numpy as np

cnp.import_array()

cdef enum:
    # elements per statistics block: small enough that its second read hits L1
    BLOCK = 2048
    # elements a dynamically scheduled chunk of rows should hold at least
    CHUNK_WORK = 8192
    # rows shorter than this are summed position by position (_stats_short_rows), not by
    # channel_moments
    SHORT_ROW = 64


cdef inline Py_ssize_t _rows_per_chunk(Py_ssize_t L) noexcept nogil:
    if L >= CHUNK_WORK:
        return 1
    return CHUNK_WORK // (L if L > 0 else 1)


cdef void channel_moments(const real* x, Py_ssize_t N, Py_ssize_t stride, Py_ssize_t L,
                          double* mean, double* m2) noexcept nogil:
    # Chan et al.'s pairwise merge of block moments: as stable as two full passes, but the
    # second read of each block comes from L1 instead of memory.
    cdef Py_ssize_t n, l0, cnt
    cdef double tot = 0, mu = 0, acc = 0, bm, bm2, delta, newtot
    cdef const real* row
    for n in range(N):
        row = x + n * stride
        l0 = 0
        while l0 < L:
            cnt = L - l0 if L - l0 < BLOCK else BLOCK
            bm = simd_sum(row + l0, cnt) / cnt
            bm2 = simd_sqdev(row + l0, cnt, bm)
            newtot = tot + cnt
            delta = bm - mu
            mu = mu + delta * (cnt / newtot)
            acc = acc + bm2 + delta * delta * (tot * cnt / newtot)
            tot = newtot
            l0 = l0 + cnt
    mean[0] = mu
    m2[0] = acc


cdef void _stats(const real* x, double* mean, double* var, Py_ssize_t N, Py_ssize_t C,
                 Py_ssize_t L, int nt) noexcept nogil:
    cdef Py_ssize_t c, t
    cdef double* acc
    if L < SHORT_ROW:
        acc = <double*>malloc(2 * C * L * sizeof(double))
        if acc != NULL:
            # channel blocks, one a thread; each channel is summed in the same order
            # whatever the blocks, so the bits do not follow the thread count
            for t in prange(nt, nogil=True, schedule="static", num_threads=nt):
                _stats_short_rows(x, mean, var, N, C, L, t * C // nt, (t + 1) * C // nt,
                                  acc)
            free(acc)
            return
    for c in prange(C, nogil=True, schedule="dynamic", num_threads=nt):
        channel_moments(x + c * L, N, C * L, L, &mean[c], &var[c])
        var[c] = var[c] / (N * L)


cdef void _stats_short_rows(const real* x, double* mean, double* var, Py_ssize_t N,
                            Py_ssize_t C, Py_ssize_t L, Py_ssize_t c0, Py_ssize_t c1,
                            double* scratch) noexcept nogil:
    # Late layers' planes (2x2, 4x4) of channels [c0, c1): one channel at a time is a chain
    # of dependent adds a few elements long per row, so each image's run of those channels
    # is added position by position into per-position sums (independent lanes: the loop
    # vectorises), which are added up per channel at the end. Two exact passes (mean, then
    # squared deviations); the runs are small enough to be read twice from cache.
    # scratch: 2*C*L doubles, of which positions [c0*L, c1*L) of each half are used.
    cdef Py_ssize_t n, c, l, j
    cdef Py_ssize_t j0 = c0 * L, j1 = c1 * L
    cdef double* acc = scratch
    cdef double* mpos = scratch + C * L
    cdef const real* row
    cdef double m, d
    for j in range(j0, j1):
        acc[j] = 0
    for n in range(N):
        row = x + n * C * L
        for j in range(j0, j1):
            acc[j] += row[j]
    for c in range(c0, c1):
        m = 0
        for l in range(L):
            m += acc[c * L + l]
        mean[c] = m / (N * L)
        for l in range(L):
            mpos[c * L + l] = mean[c]
            acc[c * L + l] = 0
    for n in range(N):
        row = x + n * C * L
        for j in range(j0, j1):
            d = row[j] - mpos[j]
            acc[j] += d * d
    for c in range(c0, c1):
        m = 0
        for l in range(L):
            m += acc[c * L + l]
        var[c] = m / (N * L)


cdef inline void _affine_rows(const real* x, real* out, const double* scale,
                              const double* shift, Py_ssize_t p, Py_ssize_t p1, Py_ssize_t C,
                              Py_ssize_t L, bint relu) noexcept nogil:
    # rows p..p1 of the (N*C, L) view; the channel steps along instead of costing a division
    # per row (an idiv is a tenth of a 196-element row's sweep)
    cdef Py_ssize_t c = p % C
    while p < p1:
        axpb(x + p * L, out + p * L, L, <real>scale[c], <real>shift[c], relu)
        p += 1
        c += 1
        if c == C:
            c = 0


cdef void _affine(const real* x, real* out, const double* scale, const double* shift,
                  Py_ssize_t N, Py_ssize_t C, Py_ssize_t L, bint relu, int nt) noexcept nogil:
    cdef Py_ssize_t t, rows = N * C
    cdef Py_ssize_t chunk = _rows_per_chunk(L)
    for t in prange((rows + chunk - 1) // chunk, nogil=True, schedule="dynamic",
                    num_threads=nt):
        _affine_rows(x, out, scale, shift, t * chunk, min(t * chunk + chunk, rows), C, L, relu)


cdef void _channel_dots(const real* go, const real* x, Py_ssize_t N, Py_ssize_t stride,
                        Py_ssize_t L, double m, double* s1, double* s2) noexcept nogil:
    cdef Py_ssize_t n
    s1[0] = 0
    s2[0] = 0
    for n in range(N):
        grad_row_sums(go + n * stride, x + n * stride, NULL, L, m, s1, s2)


cdef void _grad_sums(const real* go, const real* x, const double* mean, double* sum_go,
                     double* sum_go_xc, Py_ssize_t N, Py_ssize_t C, Py_ssize_t L,
                     int nt) noexcept nogil:
    # sum(go) and sum(go * (x - mean)) per channel
    cdef Py_ssize_t c
    for c in prange(C, nogil=True, schedule="dynamic", num_threads=nt):
        _channel_dots(go + c * L, x + c * L, N, C * L, L, mean[c], &sum_go[c], &sum_go_xc[c])


cdef void _grad_input(const real* go, const real* x, real* gx, const double* a,
                      const double* b, const double* d, Py_ssize_t N, Py_ssize_t C,
                      Py_ssize_t L, int nt) noexcept nogil:
    # gx = a * go + b * x + d: the per-channel constants fold mean and the two sums, so the
    # sweep is one fused multiply-add pair per element in the storage type
    cdef Py_ssize_t p
    cdef Py_ssize_t chunk = _rows_per_chunk(L)
    for p in prange(N * C, nogil=True, schedule="dynamic", chunksize=chunk, num_threads=nt):
        axpbyc(go + p * L, x + p * L, gx + p * L, L, <real>a[p % C], <real>b[p % C],
               <real>d[p % C])


# ---- eval mode: each direction in one call and one sweep -----------------------------------
# The running statistics are constants, so the forward is one scale-and-shift pass and the
# backward one pass that scales the gradient and sums it per plane. The entry points take
# ndarrays and read their pointers (no memoryview per argument), and compute the per-channel
# constants themselves: a ResNet layer3 batch norm is ~100 us of sweeping, and the dozen
# NumPy calls on C-element vectors this replaces cost a tenth of that.

cdef extern from "norm.h" nogil:
    void bn_grad_plane_float(const float* g, const float* x, float* gx, Py_ssize_t n, float k,
                             float m, double* s)
    void bn_grad_plane_double(const double* g, const double* x, double* gx, Py_ssize_t n,
                              double k, double m, double* s)


cdef inline void _grad_plane(const real* g, const real* x, real* gx, Py_ssize_t n, real k,
                             real m, double* s) noexcept nogil:
    """s = {sum(g), sum(g * (x - m))} over one plane; gx = g * k unless gx is NULL."""
    if real is float:
        bn_grad_plane_float(g, x, gx, n, k, m, s)
    else:
        bn_grad_plane_double(g, x, gx, n, k, m, s)


cdef inline void _eval_grad_rows(const real* go, const real* x, real* gx, const double* k,
                                 const double* mean, double* part, Py_ssize_t p,
                                 Py_ssize_t p1, Py_ssize_t C, Py_ssize_t L) noexcept nogil:
    cdef Py_ssize_t c = p % C
    while p < p1:
        _grad_plane(go + p * L, x + p * L, gx + p * L if gx != NULL else NULL, L, <real>k[c],
                    <real>mean[c], part + 2 * p)
        p += 1
        c += 1
        if c == C:
            c = 0


cdef void _eval_grad(const real* go, const real* x, real* gx, const double* k,
                     const double* mean, double* part, Py_ssize_t N, Py_ssize_t C,
                     Py_ssize_t L, int nt) noexcept nogil:
    # Planes in memory order, a few per task (a 14x14 plane is 196 elements), each plane's
    # two sums into part[2p], part[2p + 1]: the sweep is the affine pass's, and the sums are
    # the same whichever thread ran a plane.
    cdef Py_ssize_t t, rows = N * C
    cdef Py_ssize_t chunk = _rows_per_chunk(L)
    for t in prange((rows + chunk - 1) // chunk, nogil=True, schedule="dynamic",
                    num_threads=nt):
        _eval_grad_rows(go, x, gx, k, mean, part, t * chunk, min(t * chunk + chunk, rows), C,
                        L)


cdef inline double _at(cnp.ndarray v, Py_ssize_t c, double default) noexcept:
    # element c of a contiguous float32/float64 vector (checked by _param), or the default
    if v is None:
        return default
    if cnp.PyArray_TYPE(v) == cnp.NPY_FLOAT32:
        return (<const float*>cnp.PyArray_DATA(v))[c]
    return (<const double*>cnp.PyArray_DATA(v))[c]


cdef inline void _put(cnp.ndarray v, Py_ssize_t c, double value) noexcept:
    # element c of a contiguous float32/float64 vector (checked by _out_vector)
    if cnp.PyArray_TYPE(v) == cnp.NPY_FLOAT32:
        (<float*>cnp.PyArray_DATA(v))[c] = <float>value
    else:
        (<double*>cnp.PyArray_DATA(v))[c] = value


cdef _param(v, Py_ssize_t C, name):
    if v is None:
        return None
    if not isinstance(v, np.ndarray) or cnp.PyArray_SIZE(v) != C \
            or cnp.PyArray_TYPE(v) not in (cnp.NPY_FLOAT32, cnp.NPY_FLOAT64) \
            or not cnp.PyArray_IS_C_CONTIGUOUS(v):
        raise RuntimeError(f"norm: {name} must be a contiguous float32/float64 vector of {C}")
    return v


cdef int _block_type(x, cnp.ndarray like, bint write) except -1:
    """x's type number after checking it is a C-contiguous 3-d float32/float64 ndarray (of
    ``like``'s shape and type when given; writeable when ``write``)."""
    if not isinstance(x, np.ndarray):
        raise RuntimeError("norm: arrays must be ndarrays")
    cdef cnp.ndarray a = x
    cdef int typ = cnp.PyArray_TYPE(a)
    if a.ndim != 3 or not cnp.PyArray_IS_C_CONTIGUOUS(a):
        raise RuntimeError("norm: arrays must be contiguous (N, C, L) of one shape")
    if typ != cnp.NPY_FLOAT32 and typ != cnp.NPY_FLOAT64:
        raise RuntimeError("norm: float32/float64 only")
    if like is not None:
        if a.shape[0] != like.shape[0] or a.shape[1] != like.shape[1] \
                or a.shape[2] != like.shape[2]:
            raise RuntimeError("norm: arrays must be contiguous (N, C, L) of one shape")
        if typ != cnp.PyArray_TYPE(like):
            raise RuntimeError("norm: arrays must share a dtype")
    if write and not cnp.PyArray_ISWRITEABLE(a):
        raise RuntimeError("norm: output array is read-only")
    return typ


cdef _out_vector(v, Py_ssize_t C, int typ, name):
    if v is None:
        return None
    if not isinstance(v, np.ndarray) or cnp.PyArray_SIZE(v) != C \
            or cnp.PyArray_TYPE(v) != typ or not cnp.PyArray_IS_C_CONTIGUOUS(v) \
            or not cnp.PyArray_ISWRITEABLE(v):
        raise RuntimeError(f"norm: {name} must be a writeable contiguous vector of {C} in the "
                           "input's dtype")
    return v


cdef int _forward_blocks(x, out, mean_out, invstd_out, name) except -1:
    """x's type number, after checking ``x``/``out`` (see ``_block_type``) and the two
    statistics a forward writes (``_out_vector``, both required)."""
    cdef int typ = _block_type(x, None, False)
    _block_type(out, x, True)
    cdef Py_ssize_t C = (<cnp.ndarray>x).shape[1]
    if (_out_vector(mean_out, C, typ, "mean_out") is None
            or _out_vector(invstd_out, C, typ, "invstd_out") is None):
        raise RuntimeError(f"norm: {name} needs mean_out and invstd_out")
    return typ


cdef int _backward_blocks(go, x, gx, mean, invstd, name) except -1:
    """go's type number, after checking ``go``, ``x`` and ``gx`` (None allowed) as
    ``_block_type`` does and the two statistics (``_param``, both required)."""
    cdef int typ = _block_type(go, None, False)
    _block_type(x, go, False)
    if gx is not None:
        _block_type(gx, go, True)
    cdef Py_ssize_t C = (<cnp.ndarray>go).shape[1]
    if _param(mean, C, "mean") is None or _param(invstd, C, "invstd") is None:
        raise RuntimeError(f"norm: {name} needs mean and invstd")
    return typ


cdef void _affine_any(int typ, const void* x, void* out, const double* scale,
                      const double* shift, Py_ssize_t N, Py_ssize_t C, Py_ssize_t L, bint relu,
                      int nt) noexcept:
    """``_affine`` on float32 (``typ`` NPY_FLOAT32) or float64 data, without the GIL."""
    with nogil:
        if typ == cnp.NPY_FLOAT32:
            _affine(<const float*>x, <float*>out, scale, shift, N, C, L, relu, nt)
        else:
            _affine(<const double*>x, <double*>out, scale, shift, N, C, L, relu, nt)


def eval_forward(x, out, running_mean, running_var, weight, bias, double eps, bint relu,
                 mean_out, invstd_out):
    """Eval batch norm of contiguous ``(N, C, L)`` ``x`` into ``out`` (same shape and dtype,
    may be ``x``): ``out = x * scale[c] + shift[c]`` (ReLU'd when asked) with, in double,
    ``invstd = 1 / sqrt(running_var + eps)``, ``scale = invstd * weight``, ``shift = bias -
    running_mean * scale`` (weight None means 1, bias None 0). ``mean_out``/``invstd_out``
    (C values in x's dtype) receive running_mean and invstd, what the backward takes. The
    four parameters are contiguous float32/float64 vectors of the channel count."""
    cdef int typ = _forward_blocks(x, out, mean_out, invstd_out, "eval_forward")
    cdef cnp.ndarray xa = x, oa = out, m_out = mean_out, i_out = invstd_out
    cdef Py_ssize_t N = xa.shape[0], C = xa.shape[1], L = xa.shape[2], c
    cdef cnp.ndarray rm = _param(running_mean, C, "running_mean")
    cdef cnp.ndarray rv = _param(running_var, C, "running_var")
    cdef cnp.ndarray w = _param(weight, C, "weight")
    cdef cnp.ndarray b = _param(bias, C, "bias")
    if rm is None or rv is None:
        raise RuntimeError("norm: eval needs running_mean and running_var")
    cdef cnp.ndarray coef = np.empty(2 * C)  # scale, then shift
    cdef double* scale = <double*>cnp.PyArray_DATA(coef)
    cdef double* shift = scale + C
    cdef double inv
    for c in range(C):
        inv = 1.0 / sqrt(_at(rv, c, 1.0) + eps)
        scale[c] = inv * _at(w, c, 1.0)
        shift[c] = _at(b, c, 0.0) - _at(rm, c, 0.0) * scale[c]
        _put(m_out, c, _at(rm, c, 0.0))
        _put(i_out, c, inv)
    if N * C * L == 0:
        return
    cdef int nt = threads_for(2 * N * C * L, N * C)
    _affine_any(typ, cnp.PyArray_DATA(xa), cnp.PyArray_DATA(oa), scale, shift, N, C, L, relu,
                nt)


def eval_backward(go, x, gx, mean, invstd, weight, gw_out, gb_out):
    """Eval batch norm's gradients, the statistics being constants: ``gx = go * weight[c] *
    invstd[c]``, ``gw_out[c] = sum(go * (x - mean[c])) * invstd[c]``, ``gb_out[c] =
    sum(go)``, each skipped when its output is None. ``go``, ``x``, ``gx``: contiguous
    ``(N, C, L)`` of one shape and dtype (``gx`` may be ``go``); ``gw_out``/``gb_out``: C
    values in that dtype; ``mean``, ``invstd``, ``weight`` (None means 1): contiguous
    float32/float64 vectors of C. The sums take the same sweep over ``go`` and ``x`` that
    writes ``gx``, and ``x`` is not read when no sum is asked for."""
    cdef int typ = _backward_blocks(go, x, gx, mean, invstd, "eval_backward")
    cdef cnp.ndarray ga = go, xa = x, oa = gx, m = mean, inv = invstd
    cdef Py_ssize_t N = ga.shape[0], C = ga.shape[1], L = ga.shape[2], c, n
    cdef cnp.ndarray gw = _out_vector(gw_out, C, typ, "gw_out")
    cdef cnp.ndarray gb = _out_vector(gb_out, C, typ, "gb_out")
    cdef cnp.ndarray w = _param(weight, C, "weight")
    cdef bint sums = gw is not None or gb is not None
    cdef cnp.ndarray coef = np.empty(2 * C)  # k = weight * invstd, then mean
    cdef double* k = <double*>cnp.PyArray_DATA(coef)
    cdef double* mu = k + C
    for c in range(C):
        k[c] = _at(w, c, 1.0) * _at(inv, c, 1.0)
        mu[c] = _at(m, c, 0.0)
    cdef Py_ssize_t size = N * C * L
    cdef cnp.ndarray part = np.zeros(2 * N * C if sums and size else 0)
    cdef double* pp = <double*>cnp.PyArray_DATA(part)
    cdef int nt
    cdef void* gxp = NULL if oa is None else cnp.PyArray_DATA(oa)
    if size and (sums or oa is not None):
        if not sums:  # only the input gradient: a scale pass, x unread
            for c in range(C):
                mu[c] = 0.0
            nt = threads_for(2 * size, N * C)
            _affine_any(typ, cnp.PyArray_DATA(ga), gxp, k, mu, N, C, L, False, nt)
        else:
            nt = threads_for((3 if oa is not None else 2) * size, N * C)
            with nogil:
                if typ == cnp.NPY_FLOAT32:
                    _eval_grad(<const float*>cnp.PyArray_DATA(ga),
                               <const float*>cnp.PyArray_DATA(xa), <float*>gxp, k, mu, pp,
                               N, C, L, nt)
                else:
                    _eval_grad(<const double*>cnp.PyArray_DATA(ga),
                               <const double*>cnp.PyArray_DATA(xa), <double*>gxp, k, mu, pp,
                               N, C, L, nt)
    cdef double s1, s2
    if sums:
        for c in range(C):
            s1 = 0.0
            s2 = 0.0
            for n in range(N if size else 0):  # planes of a channel in a fixed order
                s1 += pp[2 * (n * C + c)]
                s2 += pp[2 * (n * C + c) + 1]
            if gw is not None:
                _put(gw, c, s2 * _at(inv, c, 1.0))
            if gb is not None:
                _put(gb, c, s1)


# ---- training: each direction in one call ---------------------------------------------------
# The sweeps (_stats, _affine; _grad_sums, _grad_input) with the per-channel arithmetic
# between them in double, in C: it was a dozen NumPy calls on C-element vectors, ~10 us a
# call, as much as the sweeps of a 64-px ResNet's late layers. (The AVX2/AVX-512 copies may
# fuse a multiply-add in those constants: last-bit differences in double, not in x's dtype.)

cdef inline void _blend(cnp.ndarray v, Py_ssize_t c, double keep, double add) noexcept:
    # v[c] = v[c] * keep + add in v's own dtype, as NumPy's ``v *= keep; v += add`` rounds
    if cnp.PyArray_TYPE(v) == cnp.NPY_FLOAT32:
        (<float*>cnp.PyArray_DATA(v))[c] = (
            <float>((<float*>cnp.PyArray_DATA(v))[c] * <float>keep) + <float>add)
    else:
        (<double*>cnp.PyArray_DATA(v))[c] = (<double*>cnp.PyArray_DATA(v))[c] * keep + add


cdef _running(v, Py_ssize_t C, name):
    v = _param(v, C, name)
    if v is not None and not cnp.PyArray_ISWRITEABLE(v):
        raise RuntimeError(f"norm: {name} is read-only")
    return v


def train_forward(x, out, running_mean, running_var, weight, bias, double momentum,
                  double eps, bint relu, mean_out, invstd_out):
    """Training batch norm of contiguous ``(N, C, L)`` ``x`` (N*L > 0) into ``out``: batch
    mean and biased variance per channel (in double), ``invstd = 1 / sqrt(var + eps)``,
    ``out = x * scale[c] + shift[c]`` with ``scale = invstd * weight``, ``shift = bias -
    mean * scale`` (ReLU'd when asked); the running statistics (when given, updated in place
    in their own dtype) become ``r * (1 - momentum) + momentum * stat``, the variance's
    unbiased. ``mean_out``/``invstd_out`` receive mean and invstd in x's dtype."""
    cdef int typ = _forward_blocks(x, out, mean_out, invstd_out, "train_forward")
    cdef cnp.ndarray xa = x, oa = out, m_out = mean_out, i_out = invstd_out
    cdef Py_ssize_t N = xa.shape[0], C = xa.shape[1], L = xa.shape[2], c
    cdef cnp.ndarray rm = _running(running_mean, C, "running_mean")
    cdef cnp.ndarray rv = _running(running_var, C, "running_var")
    cdef cnp.ndarray w = _param(weight, C, "weight")
    cdef cnp.ndarray b = _param(bias, C, "bias")
    if C == 0:
        return
    if N * L == 0:
        raise RuntimeError("norm: statistics of an empty channel")
    cdef cnp.ndarray coef = np.empty(4 * C)  # mean, var, then scale, shift
    cdef double* mean = <double*>cnp.PyArray_DATA(coef)
    cdef double* var = mean + C
    cdef double* scale = mean + 2 * C
    cdef double* shift = mean + 3 * C
    cdef int nt = threads_for(N * C * L, C)
    with nogil:
        if typ == cnp.NPY_FLOAT32:
            _stats(<const float*>cnp.PyArray_DATA(xa), mean, var, N, C, L, nt)
        else:
            _stats(<const double*>cnp.PyArray_DATA(xa), mean, var, N, C, L, nt)
    cdef double inv, n = <double>(N * L)
    cdef double unbias = n / (n - 1)
    for c in range(C):
        inv = 1.0 / sqrt(var[c] + eps)
        if rm is not None:
            _blend(rm, c, 1.0 - momentum, momentum * mean[c])
        if rv is not None:
            _blend(rv, c, 1.0 - momentum, momentum * var[c] * unbias)
        scale[c] = inv * _at(w, c, 1.0)
        shift[c] = _at(b, c, 0.0) - mean[c] * scale[c]
        _put(m_out, c, mean[c])
        _put(i_out, c, inv)
    nt = threads_for(2 * N * C * L, N * C)
    _affine_any(typ, cnp.PyArray_DATA(xa), cnp.PyArray_DATA(oa), scale, shift, N, C, L, relu,
                nt)


def train_backward(go, x, gx, mean, invstd, weight, gw_out, gb_out):
    """Training batch norm's gradients from the batch statistics ``mean``/``invstd`` (C
    values, float32/float64): per channel ``s1 = sum(go)``, ``s2 = sum(go * (x - mean))``;
    ``gx = k * (go - s1 / M - (x - mean) * s2 * invstd**2 / M)`` with ``k = weight * invstd``
    and M = N*L, ``gw_out = s2 * invstd``, ``gb_out = s1``, each skipped when None. Arrays as
    ``eval_backward`` takes them."""
    cdef int typ = _backward_blocks(go, x, gx, mean, invstd, "train_backward")
    cdef cnp.ndarray ga = go, xa = x, oa = gx, m = mean, inv = invstd
    cdef Py_ssize_t N = ga.shape[0], C = ga.shape[1], L = ga.shape[2], c
    cdef cnp.ndarray gw = _out_vector(gw_out, C, typ, "gw_out")
    cdef cnp.ndarray gb = _out_vector(gb_out, C, typ, "gb_out")
    cdef cnp.ndarray w = _param(weight, C, "weight")
    if C == 0:
        return
    cdef Py_ssize_t size = N * C * L
    cdef cnp.ndarray coef = np.empty(6 * C)  # mean, sum(go), sum(go*(x-mean)), a, b, d
    cdef double* mu = <double*>cnp.PyArray_DATA(coef)
    cdef double* s1 = mu + C
    cdef double* s2 = mu + 2 * C
    cdef double* a = mu + 3 * C
    cdef double* bb = mu + 4 * C
    cdef double* d = mu + 5 * C
    for c in range(C):
        mu[c] = _at(m, c, 0.0)
    cdef int nt = threads_for(2 * size, C)
    if size == 0:
        for c in range(2 * C):
            s1[c] = 0.0
    else:
        with nogil:
            if typ == cnp.NPY_FLOAT32:
                _grad_sums(<const float*>cnp.PyArray_DATA(ga),
                           <const float*>cnp.PyArray_DATA(xa), mu, s1, s2, N, C, L, nt)
            else:
                _grad_sums(<const double*>cnp.PyArray_DATA(ga),
                           <const double*>cnp.PyArray_DATA(xa), mu, s1, s2, N, C, L, nt)
    cdef double iv, k, c1, c2, M = <double>(N * L)
    for c in range(C):
        iv = _at(inv, c, 1.0)
        if gw is not None:
            _put(gw, c, s2[c] * iv)
        if gb is not None:
            _put(gb, c, s1[c])
        # grad_input's constants, in the order its NumPy glue computed them
        c1 = s1[c] / M
        c2 = s2[c] * iv * iv / M
        k = _at(w, c, 1.0) * iv
        a[c] = k
        bb[c] = -k * c2
        d[c] = k * (mu[c] * c2 - c1)
    if oa is None or size == 0:
        return
    nt = threads_for(3 * size, N * C)
    with nogil:
        if typ == cnp.NPY_FLOAT32:
            _grad_input(<const float*>cnp.PyArray_DATA(ga), <const float*>cnp.PyArray_DATA(xa),
                        <float*>cnp.PyArray_DATA(oa), a, bb, d, N, C, L, nt)
        else:
            _grad_input(<const double*>cnp.PyArray_DATA(ga),
                        <const double*>cnp.PyArray_DATA(xa), <double*>cnp.PyArray_DATA(oa), a,
                        bb, d, N, C, L, nt)

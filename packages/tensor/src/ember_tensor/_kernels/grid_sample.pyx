"""2-D grid sampling (``F.grid_sample``) and its backward, with torch's CPU arithmetic.

Each output point reads the input at a location given by the grid in normalised [-1, 1]
coordinates: unnormalised to pixels (``align_corners`` says whether -1/1 are the centres or
the outer edges of the corner pixels), then padded (``border`` clips into the image,
``reflection`` folds back across its edges and then clips), then sampled by ``bilinear``
(four corner taps), ``nearest`` (round half to even) or ``bicubic`` (4 x 4 taps, cubic
convolution with A = -0.75, each tap padded on its own). Taps outside the image read zero.

torch's vectorised CPU kernel is compiled with multiply-adds fused, and results that must
equal it bit for bit (ember_vision's warps against torchvision) depend on where: the
unnormalisation ``(g + 1) * size / 2 - 0.5`` and the running sum of the four weighted
corners are single-rounding ``fma``s here, written out, and this module is compiled with
contraction off (setup.py) so that no other expression fuses on one CPU level and not on
another. The backward's sums have no such consumer and are plain.

Forward tasks are output rows of one image (no shared writes). The backward scatters into
the input's gradient, so when that is wanted a task is a whole image; the grid's gradient
alone goes by rows. The ``def`` functions check what memory safety depends on; the torch
argument checks and messages are ``ember_tensor.nn.grid_sample``'s.
"""
from cython.parallel cimport prange
from libc.math cimport fabs, floor, fma, fmaf, nearbyint, trunc

from .parallel cimport threads_for
from .types cimport for_dtype, real

cdef inline Py_ssize_t _touched(Py_ssize_t points, Py_ssize_t C) noexcept nogil:
    # elements a call reads and writes: per point its two grid coordinates, and per channel
    # four input corners and one output
    return points * (5 * C + 2)


cdef inline real _fused(real a, real b, real c) noexcept nogil:
    if real is float:
        return fmaf(a, b, c)
    else:
        return fma(a, b, c)


cdef inline real _unnormalise(real g, Py_ssize_t size, bint align, real* sf) noexcept nogil:
    # a grid value in [-1, 1] as a pixel coordinate; ``sf`` = its derivative. Literals are
    # typed as real: a bare ``1`` is a C double and would widen the whole sum
    if align:
        sf[0] = <real>(size - 1) / 2
        return (g + <real>1) * sf[0]
    sf[0] = <real>size / 2
    return _fused(g + <real>1, sf[0], <real>-0.5)


cdef inline real _locate(real g, Py_ssize_t size, int padding, bint align,
                         real* mult) noexcept nogil:
    # the pixel coordinate a grid value reads, after padding; ``mult`` = its derivative
    # with respect to the grid value (zero where clipping holds it still)
    cdef real sf
    cdef real x = _unnormalise(g, size, align, &sf)
    mult[0] = sf
    return _pad(x, size, padding, align, mult)


cdef inline real _pad(real x, Py_ssize_t size, int padding, bint align,
                      real* mult) noexcept nogil:
    # ``x`` moved inside the image as ``padding`` says; ``mult`` (the derivative so far) is
    # negated where a reflection flips it and zeroed where clipping holds ``x`` still
    cdef real low, ts, a, flips, extra, refl
    cdef real maxv = <real>(size - 1)
    cdef bint neg, flip
    if padding == GS_ZEROS:
        return x
    if padding == GS_REFLECTION:
        if align and size <= 1:
            mult[0] = 0
            return 0
        # fold into [low, low + span]: reflect across low, drop whole double spans, fold
        # the rest back if it passed the far edge
        low = 0 if align else <real>-0.5
        ts = <real>(size - 1) * 2 if align else <real>size * 2
        a = x - low
        neg = a < 0
        a = fabs(a)
        flips = trunc(a / ts)
        extra = a - flips * ts
        refl = ts - extra
        flip = extra > refl
        x = (refl if flip else extra) + low
        if flip != neg:
            mult[0] = -mult[0]
    # clip to [0, size - 1], NaN to 0; the edges themselves count as clipped
    if not x > 0:
        mult[0] = 0
        return 0
    if x >= maxv:
        mult[0] = 0
        return maxv
    return x


cdef inline Py_ssize_t _index(real f, Py_ssize_t size) noexcept nogil:
    # an integral coordinate as an index, or -2 (outside, as is -2 + 1) when far out or NaN
    if f >= -1 and f <= size:
        return <Py_ssize_t>f
    return -2


cdef inline real _tap(const real* p, Py_ssize_t iy, Py_ssize_t ix, Py_ssize_t H,
                      Py_ssize_t W) noexcept nogil:
    if iy < 0 or iy >= H or ix < 0 or ix >= W:
        return 0
    return p[iy * W + ix]


cdef inline void _add(real* p, Py_ssize_t iy, Py_ssize_t ix, Py_ssize_t H, Py_ssize_t W,
                      real v) noexcept nogil:
    if iy >= 0 and iy < H and ix >= 0 and ix < W:
        p[iy * W + ix] += v


cdef inline void _offsets(Py_ssize_t ix, Py_ssize_t iy, Py_ssize_t H, Py_ssize_t W,
                          Py_ssize_t* off, bint* inside) noexcept nogil:
    # the four corners' (nw, ne, sw, se) offsets in a plane and whether each is inside it;
    # an outside corner gets offset 0, so every channel can read it and select zero after
    # (a select, not a branch, in the channel loop)
    cdef bint xw = ix >= 0 and ix < W, xe = ix + 1 >= 0 and ix + 1 < W
    cdef bint yn = iy >= 0 and iy < H, ys = iy + 1 >= 0 and iy + 1 < H
    cdef Py_ssize_t base = iy * W + ix
    inside[0] = yn and xw
    inside[1] = yn and xe
    inside[2] = ys and xw
    inside[3] = ys and xe
    off[0] = base if inside[0] else 0
    off[1] = base + 1 if inside[1] else 0
    off[2] = base + W if inside[2] else 0
    off[3] = base + W + 1 if inside[3] else 0


cdef inline real _read(const real* p, Py_ssize_t off, bint inside) noexcept nogil:
    cdef real v = p[off]
    return v if inside else 0


cdef inline void _corners(real px, real py, Py_ssize_t W, Py_ssize_t H, Py_ssize_t* ix,
                          Py_ssize_t* iy, real* d) noexcept nogil:
    # the north-west neighbour of (px, py) and the distances to it and its opposite sides,
    # d = (west, east, north, south); a corner's weight is the product of the distances to
    # the two sides it is not on
    cdef real xw = <real>floor(px), yn = <real>floor(py)
    ix[0] = _index(xw, W)
    iy[0] = _index(yn, H)
    d[0] = px - xw
    d[1] = <real>1 - d[0]
    d[2] = py - yn
    d[3] = <real>1 - d[2]


cdef inline void _cubic(real t, real* c) noexcept nogil:
    # the cubic convolution weights (A = -0.75) of the taps at distances 1 + t, t, 1 - t,
    # 2 - t, nested as torch's kernel nests them. Unfused: closer to torch than fusing each
    # multiply-then-add (a few ulps either way; bicubic is not bit-exact with torch)
    cdef real A = <real>-0.75, x
    x = t + <real>1
    c[0] = ((A * x - <real>5 * A) * x + <real>8 * A) * x - <real>4 * A
    x = t
    c[1] = ((A + <real>2) * x - (A + <real>3)) * x * x + <real>1
    x = <real>1 - t
    c[2] = ((A + <real>2) * x - (A + <real>3)) * x * x + <real>1
    x = <real>2 - t
    c[3] = ((A * x - <real>5 * A) * x + <real>8 * A) * x - <real>4 * A


cdef inline void _cubic_grad(real t, real* c) noexcept nogil:
    # torch's derivatives of the weights above, signed as its backward uses them
    cdef real A = <real>-0.75, x
    x = <real>-1 - t
    c[0] = (<real>-3 * A * x - <real>10 * A) * x - <real>8 * A
    x = -t
    c[1] = (<real>-3 * (A + <real>2) * x - <real>2 * (A + <real>3)) * x
    x = <real>1 - t
    c[2] = (<real>3 * (A + <real>2) * x - <real>2 * (A + <real>3)) * x
    x = <real>2 - t
    c[3] = (<real>3 * A * x - <real>10 * A) * x + <real>8 * A


cdef inline real _cubic_setup(real g, Py_ssize_t size, int padding, bint align, real* coef,
                              real* dcoef, Py_ssize_t* idx) noexcept nogil:
    # one axis of a bicubic point: the four taps' weights (and their derivatives when
    # ``dcoef`` is not NULL) and indices, each tap padded on its own; returns the
    # unnormalisation's scale (the grid gradient's factor)
    cdef real sf, dummy, f, x = _unnormalise(g, size, align, &sf)
    cdef int k
    f = <real>floor(x)
    _cubic(x - f, coef)
    if dcoef != NULL:
        _cubic_grad(x - f, dcoef)
    for k in range(4):
        idx[k] = _index(_pad(f + <real>(k - 1), size, padding, align, &dummy), size)
    return sf


cdef void _bicubic_forward_row(const real* x, const real* grow, real* out, Py_ssize_t C,
                               Py_ssize_t H, Py_ssize_t W, Py_ssize_t plane_out,
                               Py_ssize_t OW, int padding, bint align) noexcept nogil:
    cdef Py_ssize_t ow, c, plane = H * W
    cdef Py_ssize_t ix[4]
    cdef Py_ssize_t iy[4]
    cdef real acc
    cdef real cx[4]
    cdef real cy[4]
    cdef real r[4]
    cdef int i
    cdef const real* p
    for ow in range(OW):
        _cubic_setup(grow[2 * ow], W, padding, align, cx, NULL, ix)
        _cubic_setup(grow[2 * ow + 1], H, padding, align, cy, NULL, iy)
        for c in range(C):
            p = x + c * plane
            for i in range(4):
                r[i] = cx[0] * _tap(p, iy[i], ix[0], H, W)
                r[i] = _fused(cx[1], _tap(p, iy[i], ix[1], H, W), r[i])
                r[i] = _fused(cx[2], _tap(p, iy[i], ix[2], H, W), r[i])
                r[i] = _fused(cx[3], _tap(p, iy[i], ix[3], H, W), r[i])
            acc = cy[0] * r[0]
            acc = _fused(cy[1], r[1], acc)
            acc = _fused(cy[2], r[2], acc)
            acc = _fused(cy[3], r[3], acc)
            out[c * plane_out + ow] = acc


cdef void _bicubic_backward_row(const real* go, const real* x, const real* grow, real* gx,
                                real* ggrow, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W,
                                Py_ssize_t plane_out, Py_ssize_t OW, int padding,
                                bint align) noexcept nogil:
    # no padding factor in the grid's gradient: torch's bicubic backward scales by the
    # unnormalisation alone, whatever the padding
    cdef Py_ssize_t ow, c, plane = H * W
    cdef Py_ssize_t ix[4]
    cdef Py_ssize_t iy[4]
    cdef real sfx, sfy, g, v, sx, sy
    cdef real cx[4]
    cdef real cy[4]
    cdef real dx[4]
    cdef real dy[4]
    cdef int i, j
    for ow in range(OW):
        sfx = _cubic_setup(grow[2 * ow], W, padding, align, cx, dx, ix)
        sfy = _cubic_setup(grow[2 * ow + 1], H, padding, align, cy, dy, iy)
        sx = 0
        sy = 0
        for c in range(C):
            g = go[c * plane_out + ow]
            for i in range(4):
                for j in range(4):
                    if gx != NULL:
                        _add(gx + c * plane, iy[j], ix[i], H, W, g * cx[i] * cy[j])
                    v = _tap(x + c * plane, iy[j], ix[i], H, W)
                    sx = sx - v * g * dx[i] * cy[j]
                    sy = sy - v * g * dy[j] * cx[i]
        ggrow[2 * ow] = sx * sfx
        ggrow[2 * ow + 1] = sy * sfy


cdef void gs_forward_row(const real* x, const real* grow, real* out, Py_ssize_t C,
                         Py_ssize_t H, Py_ssize_t W, Py_ssize_t plane_out, Py_ssize_t OW,
                         int interp, int padding, bint align) noexcept nogil:
    cdef Py_ssize_t ow, c, ix, iy, plane = H * W
    cdef real px, py, m, nw, ne, sw, se, acc
    cdef real d[4]
    cdef Py_ssize_t off[4]
    cdef bint inside[4]
    cdef const real* p
    if interp == GS_BICUBIC:
        _bicubic_forward_row(x, grow, out, C, H, W, plane_out, OW, padding, align)
        return
    for ow in range(OW):
        px = _locate(grow[2 * ow], W, padding, align, &m)
        py = _locate(grow[2 * ow + 1], H, padding, align, &m)
        if interp == GS_NEAREST:
            ix = _index(<real>nearbyint(px), W)
            iy = _index(<real>nearbyint(py), H)
            for c in range(C):
                out[c * plane_out + ow] = _tap(x + c * plane, iy, ix, H, W)
            continue
        _corners(px, py, W, H, &ix, &iy, d)
        nw = d[3] * d[1]
        ne = d[3] * d[0]
        sw = d[2] * d[1]
        se = d[2] * d[0]
        _offsets(ix, iy, H, W, off, inside)
        for c in range(C):
            p = x + c * plane
            acc = _read(p, off[0], inside[0]) * nw
            acc = _fused(_read(p, off[1], inside[1]), ne, acc)
            acc = _fused(_read(p, off[2], inside[2]), sw, acc)
            acc = _fused(_read(p, off[3], inside[3]), se, acc)
            out[c * plane_out + ow] = acc


cdef void gs_backward_row(const real* go, const real* x, const real* grow, real* gx,
                          real* ggrow, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W,
                          Py_ssize_t plane_out, Py_ssize_t OW, int interp, int padding,
                          bint align) noexcept nogil:
    # accumulates into ``gx`` (zeroed by the caller, NULL when not wanted); writes ``ggrow``
    cdef Py_ssize_t ow, c, ix, iy, plane = H * W
    cdef real px, py, mx, my, dw, de, dn, ds, nw, ne, sw, se, g, sx, sy
    cdef real d[4]
    cdef real vnw, vne, vsw, vse
    cdef Py_ssize_t off[4]
    cdef bint inside[4]
    cdef const real* p
    cdef real* q
    if interp == GS_BICUBIC:
        _bicubic_backward_row(go, x, grow, gx, ggrow, C, H, W, plane_out, OW, padding, align)
        return
    for ow in range(OW):
        px = _locate(grow[2 * ow], W, padding, align, &mx)
        py = _locate(grow[2 * ow + 1], H, padding, align, &my)
        if interp == GS_NEAREST:
            ggrow[2 * ow] = 0
            ggrow[2 * ow + 1] = 0
            if gx != NULL:
                ix = _index(<real>nearbyint(px), W)
                iy = _index(<real>nearbyint(py), H)
                for c in range(C):
                    _add(gx + c * plane, iy, ix, H, W, go[c * plane_out + ow])
            continue
        _corners(px, py, W, H, &ix, &iy, d)
        dw, de, dn, ds = d[0], d[1], d[2], d[3]
        nw = ds * de
        ne = ds * dw
        sw = dn * de
        se = dn * dw
        sx = 0
        sy = 0
        _offsets(ix, iy, H, W, off, inside)
        for c in range(C):
            g = go[c * plane_out + ow]
            if gx != NULL:
                q = gx + c * plane
                if inside[0]:
                    q[off[0]] += nw * g
                if inside[1]:
                    q[off[1]] += ne * g
                if inside[2]:
                    q[off[2]] += sw * g
                if inside[3]:
                    q[off[3]] += se * g
            p = x + c * plane
            vnw = _read(p, off[0], inside[0])
            vne = _read(p, off[1], inside[1])
            vsw = _read(p, off[2], inside[2])
            vse = _read(p, off[3], inside[3])
            sx = sx + ((vne - vnw) * ds + (vse - vsw) * dn) * g
            sy = sy + ((vsw - vnw) * de + (vse - vne) * dw) * g
        ggrow[2 * ow] = sx * mx
        ggrow[2 * ow + 1] = sy * my


cdef void _forward(const real* x, const real* grid, real* out, Py_ssize_t N, Py_ssize_t C,
                   Py_ssize_t H, Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW, int interp,
                   int padding, bint align, int nt) noexcept nogil:
    cdef Py_ssize_t t, n, oh
    for t in prange(N * OH, nogil=True, num_threads=nt, schedule="static"):
        n = t // OH
        oh = t - n * OH
        gs_forward_row(x + n * C * H * W, grid + t * OW * 2, out + n * C * OH * OW + oh * OW,
                       C, H, W, OH * OW, OW, interp, padding, align)


cdef void _backward(const real* go, const real* x, const real* grid, real* gx, real* ggrid,
                    Py_ssize_t N, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W, Py_ssize_t OH,
                    Py_ssize_t OW, int interp, int padding, bint align, int nt) noexcept nogil:
    cdef Py_ssize_t t, n, oh
    if gx != NULL:
        # an image's rows scatter into the same input gradient: one image per task
        for n in prange(N, nogil=True, num_threads=nt, schedule="static"):
            for oh in range(OH):
                gs_backward_row(go + n * C * OH * OW + oh * OW, x + n * C * H * W,
                                grid + (n * OH + oh) * OW * 2, gx + n * C * H * W,
                                ggrid + (n * OH + oh) * OW * 2, C, H, W, OH * OW, OW, interp,
                                padding, align)
        return
    for t in prange(N * OH, nogil=True, num_threads=nt, schedule="static"):
        n = t // OH
        oh = t - n * OH
        gs_backward_row(go + n * C * OH * OW + oh * OW, x + n * C * H * W, grid + t * OW * 2,
                        NULL, ggrid + t * OW * 2, C, H, W, OH * OW, OW, interp, padding, align)


_INTERP = {"bilinear": GS_BILINEAR, "nearest": GS_NEAREST, "bicubic": GS_BICUBIC}
_PADDING = {"zeros": GS_ZEROS, "border": GS_BORDER, "reflection": GS_REFLECTION}


def _check(x, grid, out, name):
    arrays = (x, grid, out)
    if any(a.dtype != x.dtype or not a.flags.c_contiguous for a in arrays):
        raise RuntimeError("grid_sample kernel: arrays must be C-contiguous, of one dtype")
    if x.dtype.name not in ("float32", "float64"):
        raise RuntimeError("grid_sample kernel: float32/float64 only")
    if x.ndim != 4 or grid.ndim != 4 or grid.shape[3] != 2 or grid.shape[0] != x.shape[0]:
        raise RuntimeError("grid_sample kernel: input (N, C, H, W), grid (N, OH, OW, 2)")
    if out.shape != (x.shape[0], x.shape[1], grid.shape[1], grid.shape[2]):
        raise RuntimeError(f"grid_sample kernel: {name} has the wrong shape")


def forward(x, grid, out, str mode, str padding_mode, bint align_corners):
    """``out`` (N, C, OH, OW) = ``x`` (N, C, H, W) sampled at ``grid`` (N, OH, OW, 2)."""
    _check(x, grid, out, "output")
    if out.size == 0:
        return
    for_dtype(x.dtype, _FORWARD, "grid_sample kernel")(x, grid, out, _INTERP[mode],
                                                       _PADDING[padding_mode], align_corners)


cdef _fwd(real[:, :, :, ::1] x, real[:, :, :, ::1] grid, real[:, :, :, ::1] out, int interp,
          int padding, bint align):
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], OH = grid.shape[1], OW = grid.shape[2]
    cdef int nt = threads_for(_touched(N * OH * OW, C), N * OH)
    with nogil:
        _forward(&x[0, 0, 0, 0], &grid[0, 0, 0, 0], &out[0, 0, 0, 0], N, C, x.shape[2],
                 x.shape[3], OH, OW, interp, padding, align, nt)


def backward(go, x, grid, gx, ggrid, str mode, str padding_mode, bint align_corners):
    """Overwrites ``ggrid`` (like ``grid``) and, unless None, ``gx`` (like ``x``) with the
    gradients of the forward's output ``go`` (N, C, OH, OW) flows back."""
    _check(x, grid, go, "grad_output")
    if ggrid.shape != grid.shape or ggrid.dtype != x.dtype or not ggrid.flags.c_contiguous:
        raise RuntimeError("grid_sample kernel: grad_grid must be like grid")
    if gx is not None:
        if gx.shape != x.shape or gx.dtype != x.dtype or not gx.flags.c_contiguous:
            raise RuntimeError("grid_sample kernel: grad_input must be like input")
        gx[...] = 0
    if ggrid.size == 0 or x.size == 0:
        ggrid[...] = 0
        return
    for_dtype(x.dtype, _BACKWARD, "grid_sample kernel")(go, x, grid, gx, ggrid, _INTERP[mode],
                                                        _PADDING[padding_mode], align_corners)


cdef _bwd(real[:, :, :, ::1] go, real[:, :, :, ::1] x, real[:, :, :, ::1] grid,
          real[:, :, :, ::1] gx, real[:, :, :, ::1] ggrid, int interp, int padding,
          bint align):
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], OH = grid.shape[1], OW = grid.shape[2]
    cdef real* gxp = &gx[0, 0, 0, 0] if gx is not None else NULL
    cdef int nt = threads_for(_touched(N * OH * OW, C), N if gx is not None else N * OH)
    with nogil:
        _backward(&go[0, 0, 0, 0], &x[0, 0, 0, 0], &grid[0, 0, 0, 0], gxp,
                  &ggrid[0, 0, 0, 0], N, C, x.shape[2], x.shape[3], OH, OW, interp, padding,
                  align, nt)


_FORWARD = (_fwd[float], _fwd[double])
_BACKWARD = (_bwd[float], _bwd[double])

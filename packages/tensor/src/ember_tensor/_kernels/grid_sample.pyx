"""2-D grid sampling (``F.grid_sample``) and its backward, with torch's CPU arithmetic, and
the sampling grids of ``F.affine_grid`` and of ember_vision's tensor warps.

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

Bilinear and nearest work on blocks of up to ``GS_BLOCK`` output points of one row: one
pass per step (unnormalise, pad, corners and weights) over the whole block, each a plain
loop gcc vectorises, then per channel one gathering pass that sums into a stack buffer
(the input can not alias a local, so that loop vectorises; the buffer is then copied out).
Tap offsets are ``int``: the ``def`` functions refuse planes of 2**31 elements or more.

Forward tasks are output rows of one image (no shared writes). The backward scatters into
the input's gradient, so when that is wanted a task is a whole image; the grid's gradient
alone goes by rows. The ``def`` functions check what memory safety depends on; the torch
argument checks and messages are ``ember_tensor.nn.grid_sample``'s.
"""
from cython.parallel cimport prange
from libc.math cimport floor, floorf, fma, fmaf, nearbyint, nearbyintf
from libc.string cimport memcpy

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


cdef inline real _whole(real a, bint to_even) noexcept nogil:
    # ``a`` rounded down, or to nearest with ties to even, by the type's own function (a
    # float through the double one does not vectorise)
    if real is float:
        return nearbyintf(a) if to_even else floorf(a)
    return nearbyint(a) if to_even else floor(a)


cdef inline real _unnormalise(const real* g, Py_ssize_t n, Py_ssize_t size, bint align,
                              real* x) noexcept nogil:
    # x[j] = the grid value g[2 * j] (one coordinate of a (x, y) pair) as a pixel
    # coordinate; returns the derivative. Literals are typed as real: a bare ``1`` is a C
    # double and would widen the whole sum
    cdef Py_ssize_t j
    cdef real sf
    if align:
        sf = <real>(size - 1) / 2
        for j in range(n):
            x[j] = (g[2 * j] + <real>1) * sf
    else:
        sf = <real>size / 2
        for j in range(n):
            x[j] = _fused(g[2 * j] + <real>1, sf, <real>-0.5)
    return sf


cdef inline void _pad(real* x, real* mult, Py_ssize_t n, Py_ssize_t size, int padding,
                      bint align) noexcept nogil:
    # each x[j] moved inside the image as ``padding`` says; mult[j] (the derivative so far)
    # negated where a reflection flips it and zeroed where clipping holds x[j] still.
    # Selects, not branches: the loops vectorise
    cdef Py_ssize_t j
    cdef real low, ts, a, flips, extra, refl, v
    cdef real maxv = <real>(size - 1)
    cdef bint neg, flip, inside
    if padding == GS_ZEROS:
        return
    if padding == GS_REFLECTION:
        if align and size <= 1:
            for j in range(n):
                x[j] = 0
                mult[j] = 0
            return
        # fold into [low, low + span]: reflect across low, drop whole double spans, fold
        # the rest back if it passed the far edge
        low = 0 if align else <real>-0.5
        ts = <real>(size - 1) * 2 if align else <real>size * 2
        for j in range(n):
            a = x[j] - low
            neg = a < 0
            a = -a if neg else a
            flips = _whole(a / ts, False)  # a >= 0 (or NaN): floor is trunc
            extra = a - flips * ts
            refl = ts - extra
            flip = extra > refl
            x[j] = (refl if flip else extra) + low
            mult[j] = -mult[j] if flip != neg else mult[j]
    # clip to [0, size - 1], NaN to 0; the edges themselves count as clipped
    for j in range(n):
        v = x[j]
        inside = (v > 0) & (v < maxv)
        mult[j] = mult[j] if inside else 0
        x[j] = v if inside else (maxv if v >= maxv else 0)


cdef inline real _locate(const real* g, Py_ssize_t n, Py_ssize_t size, int padding,
                         bint align, real* x, real* mult) noexcept nogil:
    # the pixel coordinates the grid values g[2 * j] read, after padding; mult[j] = each
    # one's derivative with respect to its grid value. Returns the unnormalisation's scale
    cdef Py_ssize_t j
    cdef real sf = _unnormalise(g, n, size, align, x)
    for j in range(n):
        mult[j] = sf
    _pad(x, mult, n, size, padding, align)
    return sf


cdef inline int _index(real f, Py_ssize_t size) noexcept nogil:
    # an integral coordinate as an index, or -2 (outside, as is -2 + 1) when far out or NaN
    cdef bint near = (f >= -1) & (f <= size)
    return <int>(f if near else -2)


cdef inline int _spans(int i, int size) noexcept nogil:
    # negative unless 0 <= i < size. Tests combine by or-ing these and comparing once:
    # gcc does not vectorise ands of separate comparisons' results
    return i | (size - 1 - i)


cdef inline real _tap(const real* p, Py_ssize_t iy, Py_ssize_t ix, Py_ssize_t H,
                      Py_ssize_t W) noexcept nogil:
    if iy < 0 or iy >= H or ix < 0 or ix >= W:
        return 0
    return p[iy * W + ix]


cdef inline void _add(real* p, Py_ssize_t iy, Py_ssize_t ix, Py_ssize_t H, Py_ssize_t W,
                      real v) noexcept nogil:
    if iy >= 0 and iy < H and ix >= 0 and ix < W:
        p[iy * W + ix] += v


# A block's scratch, so that each pass reads and writes slices of one array: gcc then sees
# constant distances between them and vectorises without versioning every pair of pointers
# for aliasing (too many pairs, and it gives up). Real slices, GS_BLOCK long each:
cdef enum:
    S_PX = 0 * GS_BLOCK     # pixel coordinates, x and y
    S_PY = 1 * GS_BLOCK
    S_MX = 2 * GS_BLOCK     # their derivatives with respect to the grid values
    S_MY = 3 * GS_BLOCK
    S_D = 4 * GS_BLOCK      # distances to the west, east, north and south sides of the cell
    S_W = 8 * GS_BLOCK      # the nw, ne, sw and se corners' weights
    S_SX = 12 * GS_BLOCK    # per-point sums (the forward's output, the grid's gradient)
    S_SY = 13 * GS_BLOCK
    S_REALS = 14 * GS_BLOCK
# and int slices:
cdef extern from *:
    # the int scratch never aliases the real one; ``restrict`` tells gcc so (for different
    # types it does not infer it)
    ctypedef int* int_scratch "int * __restrict__"
cdef enum:
    S_OFF = 0 * GS_BLOCK    # nw, ne, sw, se offsets in a plane
    S_OK = 4 * GS_BLOCK     # and whether each is inside it
    S_INTS = 8 * GS_BLOCK


cdef inline void _nearest_taps(real* f, int_scratch k, Py_ssize_t n, Py_ssize_t H,
                               Py_ssize_t W) noexcept nogil:
    # each point's nearest pixel (ties to even) as an offset in a plane (the first S_OFF
    # slice), and whether it is inside; an outside point gets offset 0, so every channel can
    # read it and select zero
    cdef Py_ssize_t j
    cdef int ix, iy
    for j in range(n):
        ix = _index(_whole(f[S_PX + j], True), W)
        iy = _index(_whole(f[S_PY + j], True), H)
        k[S_OK + j] = (_spans(ix, <int>W) | _spans(iy, <int>H)) >= 0
        k[S_OFF + j] = iy * <int>W + ix if k[S_OK + j] else 0


cdef inline void _bilinear_taps(real* f, int_scratch k, Py_ssize_t n, Py_ssize_t H,
                                Py_ssize_t W) noexcept nogil:
    # per point: the distances to its cell's sides, its corners' weights (a corner's weight
    # is the product of the distances to the two sides it is not on), offsets (0 when
    # outside, so every channel can read it and select zero: a select, not a branch, in the
    # channel loop) and inside flags
    cdef Py_ssize_t j
    cdef real xw, yn, dw, de, dn, ds
    cdef int ix, iy, base, xw0, xe1, yn0, ys1, iw = <int>W, ih = <int>H
    for j in range(n):
        xw = _whole(f[S_PX + j], False)
        yn = _whole(f[S_PY + j], False)
        dw = f[S_PX + j] - xw
        de = <real>1 - dw
        dn = f[S_PY + j] - yn
        ds = <real>1 - dn
        f[S_D + j] = dw
        f[S_D + GS_BLOCK + j] = de
        f[S_D + 2 * GS_BLOCK + j] = dn
        f[S_D + 3 * GS_BLOCK + j] = ds
        f[S_W + j] = ds * de
        f[S_W + GS_BLOCK + j] = ds * dw
        f[S_W + 2 * GS_BLOCK + j] = dn * de
        f[S_W + 3 * GS_BLOCK + j] = dn * dw
        ix = _index(xw, W)
        iy = _index(yn, H)
        xw0 = _spans(ix, iw)
        xe1 = _spans(ix + 1, iw)
        yn0 = _spans(iy, ih)
        ys1 = _spans(iy + 1, ih)
        base = iy * iw + ix
        k[S_OK + j] = (yn0 | xw0) >= 0
        k[S_OK + GS_BLOCK + j] = (yn0 | xe1) >= 0
        k[S_OK + 2 * GS_BLOCK + j] = (ys1 | xw0) >= 0
        k[S_OK + 3 * GS_BLOCK + j] = (ys1 | xe1) >= 0
        k[S_OFF + j] = base if (yn0 | xw0) >= 0 else 0
        k[S_OFF + GS_BLOCK + j] = base + 1 if (yn0 | xe1) >= 0 else 0
        k[S_OFF + 2 * GS_BLOCK + j] = base + iw if (ys1 | xw0) >= 0 else 0
        k[S_OFF + 3 * GS_BLOCK + j] = base + iw + 1 if (ys1 | xe1) >= 0 else 0


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


cdef inline real _cubic_setup(const real* g, Py_ssize_t size, int padding, bint align,
                              real* coef, real* dcoef, Py_ssize_t* idx) noexcept nogil:
    # one axis of the bicubic point whose coordinate is g[0]: the four taps' weights (and
    # their derivatives when ``dcoef`` is not NULL) and indices, each tap padded on its
    # own; returns the unnormalisation's scale (the grid gradient's factor)
    cdef real x, f, sf = _unnormalise(g, 1, size, align, &x)
    cdef real taps[4]
    cdef real unused[4]
    cdef int k
    f = _whole(x, False)
    _cubic(x - f, coef)
    if dcoef != NULL:
        _cubic_grad(x - f, dcoef)
    for k in range(4):
        taps[k] = f + <real>(k - 1)
        unused[k] = 0
    _pad(taps, unused, 4, size, padding, align)
    for k in range(4):
        idx[k] = _index(taps[k], size)
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
        _cubic_setup(grow + 2 * ow, W, padding, align, cx, NULL, ix)
        _cubic_setup(grow + 2 * ow + 1, H, padding, align, cy, NULL, iy)
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
        sfx = _cubic_setup(grow + 2 * ow, W, padding, align, cx, dx, ix)
        sfy = _cubic_setup(grow + 2 * ow + 1, H, padding, align, cy, dy, iy)
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


cdef void gs_forward_block(const real* x, const real* g, real* out, Py_ssize_t C,
                           Py_ssize_t H, Py_ssize_t W, Py_ssize_t plane_out, Py_ssize_t n,
                           int interp, int padding, bint align) noexcept nogil:
    # ``n`` <= GS_BLOCK output points of one row: grid pairs from ``g``, channel c's values
    # to out[c * plane_out:][:n]
    cdef Py_ssize_t j, c, plane = H * W
    cdef real f[S_REALS]
    cdef int k[S_INTS]
    cdef real v0, v1, v2, v3, s
    cdef const real* p
    if interp == GS_BICUBIC:
        _bicubic_forward_row(x, g, out, C, H, W, plane_out, n, padding, align)
        return
    _locate(g, n, W, padding, align, f + S_PX, f + S_MX)
    _locate(g + 1, n, H, padding, align, f + S_PY, f + S_MY)
    if interp == GS_NEAREST:
        _nearest_taps(f, k, n, H, W)
        for c in range(C):
            p = x + c * plane
            for j in range(n):
                v0 = p[k[S_OFF + j]]
                f[S_SX + j] = v0 if k[S_OK + j] else 0
            memcpy(out + c * plane_out, f + S_SX, n * sizeof(real))
        return
    _bilinear_taps(f, k, n, H, W)
    for c in range(C):
        p = x + c * plane
        for j in range(n):
            # every corner read (its offset is valid), then zeroed if outside
            v0 = p[k[S_OFF + j]]
            v1 = p[k[S_OFF + GS_BLOCK + j]]
            v2 = p[k[S_OFF + 2 * GS_BLOCK + j]]
            v3 = p[k[S_OFF + 3 * GS_BLOCK + j]]
            s = (v0 if k[S_OK + j] else 0) * f[S_W + j]
            s = _fused(v1 if k[S_OK + GS_BLOCK + j] else 0, f[S_W + GS_BLOCK + j], s)
            s = _fused(v2 if k[S_OK + 2 * GS_BLOCK + j] else 0, f[S_W + 2 * GS_BLOCK + j], s)
            s = _fused(v3 if k[S_OK + 3 * GS_BLOCK + j] else 0, f[S_W + 3 * GS_BLOCK + j], s)
            f[S_SX + j] = s
        memcpy(out + c * plane_out, f + S_SX, n * sizeof(real))


cdef void gs_backward_block(const real* go, const real* x, const real* g, real* gx,
                            real* gg, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W,
                            Py_ssize_t plane_out, Py_ssize_t n, int interp, int padding,
                            bint align) noexcept nogil:
    # the forward block's gradients: accumulates into ``gx`` (zeroed by the caller, NULL
    # when not wanted) in the forward's point order, writes the n grid pairs of ``gg``
    cdef Py_ssize_t j, c, t, plane = H * W
    cdef real f[S_REALS]
    cdef int k[S_INTS]
    cdef real gv, vnw, vne, vsw, vse
    cdef const real* p
    cdef const real* gop
    cdef real* q
    if interp == GS_BICUBIC:
        _bicubic_backward_row(go, x, g, gx, gg, C, H, W, plane_out, n, padding, align)
        return
    _locate(g, n, W, padding, align, f + S_PX, f + S_MX)
    _locate(g + 1, n, H, padding, align, f + S_PY, f + S_MY)
    if interp == GS_NEAREST:
        for j in range(2 * n):
            gg[j] = 0
        if gx != NULL:
            _nearest_taps(f, k, n, H, W)
            for c in range(C):
                q = gx + c * plane
                gop = go + c * plane_out
                for j in range(n):
                    if k[S_OK + j]:
                        q[k[S_OFF + j]] += gop[j]
        return
    _bilinear_taps(f, k, n, H, W)
    for j in range(n):
        f[S_SX + j] = 0
        f[S_SY + j] = 0
    for c in range(C):
        gop = go + c * plane_out
        if gx != NULL:
            # a scatter (points may share corners): scalar, corners in nw, ne, sw, se order
            q = gx + c * plane
            for j in range(n):
                gv = gop[j]
                for t in range(4):
                    if k[S_OK + t * GS_BLOCK + j]:
                        q[k[S_OFF + t * GS_BLOCK + j]] += f[S_W + t * GS_BLOCK + j] * gv
        p = x + c * plane
        for j in range(n):
            gv = gop[j]
            vnw = p[k[S_OFF + j]]
            vne = p[k[S_OFF + GS_BLOCK + j]]
            vsw = p[k[S_OFF + 2 * GS_BLOCK + j]]
            vse = p[k[S_OFF + 3 * GS_BLOCK + j]]
            vnw = vnw if k[S_OK + j] else 0
            vne = vne if k[S_OK + GS_BLOCK + j] else 0
            vsw = vsw if k[S_OK + 2 * GS_BLOCK + j] else 0
            vse = vse if k[S_OK + 3 * GS_BLOCK + j] else 0
            # the distances slices: west, east, north, south
            f[S_SX + j] = f[S_SX + j] + ((vne - vnw) * f[S_D + 3 * GS_BLOCK + j]
                                         + (vse - vsw) * f[S_D + 2 * GS_BLOCK + j]) * gv
            f[S_SY + j] = f[S_SY + j] + ((vsw - vnw) * f[S_D + GS_BLOCK + j]
                                         + (vse - vne) * f[S_D + j]) * gv
    for j in range(n):
        gg[2 * j] = f[S_SX + j] * f[S_MX + j]
        gg[2 * j + 1] = f[S_SY + j] * f[S_MY + j]


cdef inline Py_ssize_t _block_end(Py_ssize_t start, Py_ssize_t stop) noexcept nogil:
    return start + GS_BLOCK if stop - start > GS_BLOCK else stop


cdef void _forward_row(const real* x, const real* grow, real* out, Py_ssize_t C,
                       Py_ssize_t H, Py_ssize_t W, Py_ssize_t plane_out, Py_ssize_t OW,
                       int interp, int padding, bint align) noexcept nogil:
    cdef Py_ssize_t ow = 0, end
    while ow < OW:
        end = _block_end(ow, OW)
        gs_forward_block(x, grow + 2 * ow, out + ow, C, H, W, plane_out, end - ow, interp,
                         padding, align)
        ow = end


cdef void _backward_row(const real* go, const real* x, const real* grow, real* gx,
                        real* ggrow, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W,
                        Py_ssize_t plane_out, Py_ssize_t OW, int interp, int padding,
                        bint align) noexcept nogil:
    cdef Py_ssize_t ow = 0, end
    while ow < OW:
        end = _block_end(ow, OW)
        gs_backward_block(go + ow, x, grow + 2 * ow, gx, ggrow + 2 * ow, C, H, W, plane_out,
                          end - ow, interp, padding, align)
        ow = end


cdef void _forward(const real* x, const real* grid, real* out, Py_ssize_t N, Py_ssize_t C,
                   Py_ssize_t H, Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW, int interp,
                   int padding, bint align, int nt) noexcept nogil:
    cdef Py_ssize_t t, n, oh
    for t in prange(N * OH, nogil=True, num_threads=nt, schedule="static"):
        n = t // OH
        oh = t - n * OH
        _forward_row(x + n * C * H * W, grid + t * OW * 2, out + n * C * OH * OW + oh * OW,
                     C, H, W, OH * OW, OW, interp, padding, align)


cdef void _backward(const real* go, const real* x, const real* grid, real* gx, real* ggrid,
                    Py_ssize_t N, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W, Py_ssize_t OH,
                    Py_ssize_t OW, int interp, int padding, bint align, int nt) noexcept nogil:
    cdef Py_ssize_t t, n, oh
    if gx != NULL:
        # an image's rows scatter into the same input gradient: one image per task
        for n in prange(N, nogil=True, num_threads=nt, schedule="static"):
            for oh in range(OH):
                _backward_row(go + n * C * OH * OW + oh * OW, x + n * C * H * W,
                              grid + (n * OH + oh) * OW * 2, gx + n * C * H * W,
                              ggrid + (n * OH + oh) * OW * 2, C, H, W, OH * OW, OW, interp,
                              padding, align)
        return
    for t in prange(N * OH, nogil=True, num_threads=nt, schedule="static"):
        n = t // OH
        oh = t - n * OH
        _backward_row(go + n * C * OH * OW + oh * OW, x + n * C * H * W, grid + t * OW * 2,
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
    check_plane(x.shape[2], x.shape[3])


def check_plane(Py_ssize_t H, Py_ssize_t W):
    """Refuse input planes whose tap offsets (up to H * W + W, as ``int``) would overflow."""
    if H * W + W + 1 >= 2 ** 31:
        raise RuntimeError("grid_sample kernel: input planes of 2**31 or more elements are "
                           "not supported")


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

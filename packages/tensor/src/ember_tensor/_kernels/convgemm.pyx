"""Float32 convolutions (groups 1) as a packed GEMM whose im2col operand is gathered straight
from the input into the GEMM's own panels: the column matrix is never written, and the
GEMM is Ember's own (``convgemm.h``: register tiles of output channels x output pixels, the
weights broadcast from their rows, the pixels of a panel running across the images of a
batch).

Work is shared out on the OpenMP team as tasks of (block of the batch's output pixels,
block of output channels); every output element is the same chain of multiply-adds
whichever task computes it, so the bits are the same on any number of threads.
"""
from cython.parallel cimport prange, threadid
from cpython.pyport cimport PY_SSIZE_T_MAX
from libc.stdint cimport uint64_t
from libc.stdlib cimport free
from libc.string cimport memcpy, memset

cimport numpy as cnp

from .aligned cimport alloc_floats
from .parallel cimport omp_get_max_threads

cnp.import_array()

cdef enum:
    # floating-point operations below which one thread beats waking the team
    TEAM_FLOPS = 4_000_000
    # floats of padded input copied at a time: a group of images that stays in L2 while
    # its panels are gathered
    GROUP_FLOATS = 1 << 18
    # ... on a team of two or more: one thread's L2 matters less than the team's work
    # between regions and cutting pixels instead of channels (each channel half gathers
    # every panel again). 2 threads, best of 3 alternating medians, 16 images at 224 px:
    # 3x3/2 256x14x14 -> 512 10.70-10.74 -> 9.71-9.78 ms (4 groups of 4 -> one of 16),
    # 128x28x28 -> 256 10.45-10.51 -> 9.58 (most rounds), 64x56x56 -> 128 10.47 -> 10.17;
    # 32x64x16x16 -> 128 1.95-1.98 -> 1.71-1.82. At 1 thread they were level or 1-3% slower.
    TEAM_GROUP_FLOATS = 1 << 20
    # floats of padded input a group holds when its planes are small enough for the
    # by-position path (CG_POSITION_MAX_PIXELS): its copy is read once a group of positions,
    # not once a panel, and its images are cut among the threads, so more of them fill the
    # vectors: 32x256x4x4 -> 512 3x3/2 in two groups of 16 (8 images a thread) ran 2.3 ms,
    # as one group 1.3 (2 threads)
    POSITION_GROUP_FLOATS = 1 << 21
    # fewest images a group has for the by-position path (cg_by_position): its panels hold
    # one pixel of each image, and fewer than a vector of them ran slower than the full taps
    # (1 image: 1.1 -> 2.2 ms; 16 images 3.3 -> 2.7, 32 7.0 -> 5.6 at 512x2x2 -> 512, 1 thread)
    POSITION_MIN_IMAGES = 16

# conv2d's default pixel order (its ``border``, convgemm_border.h): rows' border classes (1),
# where a group's panels then skip BORDER_MIN_PERMILLE thousandths of the taps or more.
# 2 threads, 3 alternating rounds of separate processes, medians in ms (image order / rows /
# rows and columns; skipped by rows): 32x128x8x8 -> 256 3x3/2, the finetune step's layer3.0
# (83): 1.96-1.97 / 1.83-1.87 / 1.97-2.03; 16x256x14x14 -> 512 3x3/2 (47): 9.9-12.3 /
# 9.18-9.31 / 9.0-9.6; 32x64x16x16 -> 128 3x3/2 (36): 1.69-1.78 / 1.73-1.74 / 1.93. Columns'
# classes cut rows into short runs, gathered piecewise: at best level with rows. One image's
# border rows are too few to fill a panel (6 skipped), and there the order cost 2-5% at 1
# thread (1x256x14x14 3x3, 1x64x56x56 -> 128 3x3/2).
BORDER = 1
BORDER_MIN_PERMILLE = 40

# The full-tap path gathers its panels straight from the unpadded input, the loads masked
# to the plane (cg_pack_direct), where the AVX-512 packing runs (stride 1 or 2, up to 64
# taps a channel); False: from a padded copy of each group of images, as everywhere else.
# The same bits either way. (The copy was its own region on the team, each thread padding
# half the planes and then reading the other's half.)
DIRECT = True

# A team's pixel cut is one task a thread, even shares of a group's pixels cut at whole
# vectors (False: a task a block of CG_NC pixels, the last one short). 32 images of 8x8
# outputs (2048 pixels) were 10 blocks of 192 and one of 128: one thread ran 6, the other 5.
# Even shares as many as a multiple of the threads (128-144 pixels for 784) left more
# partial panels and lost at 1x64x56x56. In-process A/B, 2 threads, exclusive lock, best
# of 7 medians of 15 calls, blocks -> halves: 32x64x16x16 -> 128 3x3/2 1.614 -> 1.509 ms
# (1.596 -> 1.508 in a second run), 1x64x56x56 -> 128 0.598 -> 0.590, 16x128x28x28 -> 256
# 9.75 -> 9.60. A switch for A/Bs (set_even_cut).
cdef bint _even_cut = True


def set_even_cut(bint on):
    """Whether a team's pixel tasks are even shares (the default) or whole blocks of
    panels; no cut changes a bit of the result. Returns the previous setting."""
    global _even_cut
    previous = _even_cut
    _even_cut = on
    return previous


# True in the AVX-512 copy (16-float vectors), the one measured faster than im2col + OpenBLAS
# (whose own kernels use AVX-512 whatever Ember's level): 1 thread, the AVX2 copy ran ResNet's
# 3x3 shapes at 0.76-1.23x OpenBLAS's Haswell kernels' speed, the SSE2 copy at ~0.5x. The
# lower copies keep the kernel correct everywhere; conv.py routes to it only when this holds.
FASTER_THAN_BLAS = CG_VW >= 16


def tile():
    """(output channels, output pixels) of a register tile at this build's CPU level."""
    return CG_MR, CG_NB


cdef void _pad_planes(const float* x, float* xp, Py_ssize_t planes, Py_ssize_t H,
                      Py_ssize_t W, Py_ssize_t ph, Py_ssize_t pw, int team) noexcept nogil:
    """xp[q] = x[q] with ph rows and pw columns of zeros around it, for every plane q. A
    row's border columns are stored in a loop, not by memset: two library calls a row for one
    float each (memset and its PLT stub were ~4% of perf's samples of 1x128x28x28 -> 256
    3x3/2 calls on 2 threads)."""
    cdef Py_ssize_t q, i, j
    cdef Py_ssize_t PH = H + 2 * ph, PW = W + 2 * pw
    cdef float* d
    cdef float* row
    for q in prange(planes, num_threads=team, schedule="static"):
        d = xp + q * PH * PW
        memset(d, 0, ph * PW * sizeof(float))
        for i in range(H):
            row = d + (ph + i) * PW
            for j in range(pw):
                row[j] = 0
                row[pw + W + j] = 0
            memcpy(row + pw, x + (q * H + i) * W, W * sizeof(float))
        memset(d + (ph + H) * PW, 0, ph * PW * sizeof(float))
    memset(xp + planes * PH * PW, 0, CG_SLACK * sizeof(float))


def conv2d(cnp.ndarray x, cnp.ndarray w, cnp.ndarray out, tuple stride, tuple padding,
           tuple dilation, int pixel_pieces=0, int channel_pieces=0, int border=-1,
           int direct=-1):
    """``out = conv2d(x, w)`` (no bias, groups 1) for float32 C-contiguous NCHW ``x``,
    ``w`` (Cout, C, kh, kw) and ``out`` (N, Cout, OH, OW); returns ``out``. The batch's
    output pixels are cut into ``pixel_pieces`` blocks and the output channels into
    ``channel_pieces``: the tasks of the team. 0 (the default) leaves a cut to the shapes
    (``_pieces``); no cut changes a bit of the result. ``border``: pixels in image order
    (0), sorted by the rows' border class (1) or by rows' and columns' (2), whose panels
    skip the taps on the zero border (``convgemm_border.h``); -1, the default, leaves it to
    the shapes (``BORDER``, ``BORDER_MIN_PERMILLE``). No order changes a bit of the result
    but which pixels of a one-group batch are its tail (``cg_tail_start``). ``direct``: 1
    gathers from the unpadded input where the packing can (``DIRECT``), 0 from a padded
    copy, -1 (the default) ``DIRECT``; the same bits either way."""
    for a in (x, w, out):
        if (cnp.PyArray_TYPE(a) != cnp.NPY_FLOAT or cnp.PyArray_NDIM(a) != 4
                or not cnp.PyArray_IS_C_CONTIGUOUS(a)):
            raise ValueError("convgemm.conv2d takes float32 C-contiguous 4-D arrays")
    if not cnp.PyArray_ISWRITEABLE(out):
        raise ValueError("convgemm.conv2d: out is read-only")
    cdef cg_geom g
    cdef Py_ssize_t N = x.shape[0], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t ph = padding[0], pw = padding[1]
    if pixel_pieces < 0 or channel_pieces < 0:
        raise ValueError("convgemm.conv2d: bad geometry")
    _geometry(&g, x.shape[1], H, W, w.shape[0], w.shape[1], w.shape[2], w.shape[3], stride,
              padding, dilation)
    # a tail only where the batch is one group on one thread, so on a team too (its groups
    # are never smaller): the rule reads the shapes, never the thread count
    if _group_images(N, g.C * g.PH * g.PW, g.OH * g.OW, 1) == N:
        g.tail0 = cg_tail_start(N * g.OH * g.OW)
    if (out.shape[0] != N or out.shape[1] != g.M or out.shape[2] != g.OH
            or out.shape[3] != g.OW or g.OH <= 0 or g.OW <= 0):
        raise ValueError("convgemm.conv2d: out has the wrong shape")
    if out.size == 0:
        return out
    if g.K == 0:
        out[...] = 0
        return out
    if border < 0:  # the shapes' choice (_run)
        border = -BORDER
    if border > 2 or border < -2 or (ph == 0 and pw == 0) or g.kh * g.kw > 64:
        border = 0
    if direct < 0:
        direct = DIRECT
    g.direct = direct and CG_VW >= 16 and g.sw <= 2 and g.kh * g.kw <= 64
    _run(&g, N, H, W, ph, pw, <const float*>cnp.PyArray_DATA(x),
         <const float*>cnp.PyArray_DATA(w), <float*>cnp.PyArray_DATA(out),
         pixel_pieces, channel_pieces, border)
    return out


cdef int _geometry(cg_geom* g, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W, Py_ssize_t M,
                   Py_ssize_t Cw, Py_ssize_t kh, Py_ssize_t kw, tuple stride, tuple padding,
                   tuple dilation) except -1:
    """g for an input of C x H x W planes and weights (M, Cw, kh, kw)."""
    cdef Py_ssize_t ph = padding[0], pw = padding[1]
    g.C, g.M, g.kh, g.kw = C, M, kh, kw
    g.sh, g.sw, g.dh, g.dw = stride[0], stride[1], dilation[0], dilation[1]
    g.PH, g.PW = H + 2 * ph, W + 2 * pw
    g.H, g.W, g.ph, g.pw = H, W, ph, pw
    if Cw != C or min(g.sh, g.sw, g.dh, g.dw) <= 0 or min(ph, pw) < 0:
        raise ValueError("convgemm.conv2d: bad geometry")
    g.OH = (g.PH - g.dh * (g.kh - 1) - 1) // g.sh + 1
    g.OW = (g.PW - g.dw * (g.kw - 1) - 1) // g.sw + 1
    g.K = C * kh * kw
    g.tail0 = PY_SSIZE_T_MAX  # no tail unless the caller sets one (cg_tail_start)
    g.porder = NULL  # image order unless _run sorts by border class
    g.cls_start = NULL
    g.cls_mask = NULL
    g.nb = 0
    g.direct = 0
    return 0


cdef Py_ssize_t _group_images(Py_ssize_t N, Py_ssize_t plane, Py_ssize_t P,
                              int team) noexcept nogil:
    """Images of a group: their padded copy stays in L2 (GROUP_FLOATS; TEAM_GROUP_FLOATS
    on a team; planes of P output pixels small enough for the by-position path:
    POSITION_GROUP_FLOATS), groups of equal size (a small last group would leave thin
    panels and a short region). Groups never change a bit of the result."""
    cdef Py_ssize_t floats = (POSITION_GROUP_FLOATS if P <= CG_POSITION_MAX_PIXELS
                              else TEAM_GROUP_FLOATS if team > 1 else GROUP_FLOATS)
    cdef Py_ssize_t group = max(1, min(N, floats // max(1, plane)))
    return (N + (N + group - 1) // group - 1) // ((N + group - 1) // group)


cdef bint _by_position(const cg_geom* g, Py_ssize_t group) noexcept nogil:
    """Whether a group of images is computed position by position."""
    return (g.OH * g.OW <= CG_POSITION_MAX_PIXELS and group >= POSITION_MIN_IMAGES
            and cg_by_position(g))


def by_position(tuple x_shape, tuple w_shape, tuple stride, tuple padding, tuple dilation):
    """Whether ``conv2d`` computes these shapes position by position, each output position
    over only its taps inside the input (small planes mostly read on the zero border, in
    groups of ``POSITION_MIN_IMAGES``+ images)."""
    cdef cg_geom g
    _geometry(&g, x_shape[1], x_shape[2], x_shape[3], w_shape[0], w_shape[1], w_shape[2],
              w_shape[3], stride, padding, dilation)
    if g.OH <= 0 or g.OW <= 0 or g.K == 0:
        return False
    return bool(_by_position(&g, _group_images(x_shape[0], g.C * g.PH * g.PW,
                                               g.OH * g.OW, omp_get_max_threads())))


def border_saving(tuple x_shape, tuple w_shape, tuple stride, tuple padding, tuple dilation,
                  int border=1):
    """Thousandths of the taps ``conv2d`` skips on the zero border with its pixels in
    ``border`` order (1 rows' classes, 2 rows' and columns'), counted on a group of images
    at the current thread count; ``conv2d`` sorts by default from ``BORDER_MIN_PERMILLE``
    on."""
    cdef cg_geom g
    cdef int* porder = NULL
    cdef int* cls_start = NULL
    cdef uint64_t* cls_mask = NULL
    cdef Py_ssize_t P, saving = 0
    _geometry(&g, x_shape[1], x_shape[2], x_shape[3], w_shape[0], w_shape[1], w_shape[2],
              w_shape[3], stride, padding, dilation)
    P = g.OH * g.OW
    if P <= 0 or g.K == 0 or g.kh * g.kw > 64 or (g.ph == 0 and g.pw == 0) \
            or border not in (1, 2):
        return 0
    try:
        porder = <int*>alloc_floats(P)
        cls_start = <int*>alloc_floats(P + 1)
        cls_mask = <uint64_t*>alloc_floats(2 * P)
        cg_border_order(&g, border == 1, porder, cls_start, cls_mask)
        g.porder, g.cls_start, g.cls_mask = porder, cls_start, cls_mask
        g.nb = _group_images(x_shape[0], g.C * g.PH * g.PW, P, omp_get_max_threads())
        saving = cg_border_saving(&g)
    finally:
        free(porder)
        free(cls_start)
        free(cls_mask)
    return saving


cdef inline Py_ssize_t _round_up(Py_ssize_t n, Py_ssize_t multiple) noexcept nogil:
    return (n + multiple - 1) // multiple * multiple


cdef void _pieces(Py_ssize_t Q, Py_ssize_t M, int team, int* pixel_pieces,
                  int* channel_pieces) noexcept nogil:
    """The cut of a group's Q pixels: one task per outer block of pixels (its outputs stay
    in L2), output channels cut too when a team would get fewer tasks than threads (one
    image's late layers: 49 or 196 pixels, 256-512 channels). A team gets one task a
    thread, no more: each channel piece gathers every panel again. (Four tasks for
    two threads, the earlier rule, ran 5-10% slower, quiet, 2 threads, best of 15: 1x512x7x7
    1.67 -> 1.55 ms, 1x256x14x14 -> 512 s2 0.90 -> 0.81, 32x256x4x4 -> 512 s2 2.91 -> 2.62,
    16x128x28x28 -> 256 s2 11.5 -> 10.6.) One thread takes no channel cut.

    Fewer than two outer blocks a thread are not cut by pixels at all: blocks are whole
    panels, so 196 pixels (one 224-px image's layer3, four images' layer4) split 144 + 52
    and one thread waited on the other; halves of the channels are even. 2 threads, quiet,
    best of 15, pixel halves -> channel halves: 1x256x14x14 3x3 1.67-2.11 -> 1.33-1.63 ms,
    4x512x7x7 6.83 -> 5.39, 1x128x28x28 -> 256 s2 0.82-0.91 -> 0.66-0.70, 4x256x14x14 ->
    512 s2 3.37-3.47 -> 2.61-2.84; at 784 pixels (5 blocks) the pixel cut stays faster
    (1x64x56x56 -> 128 s2 0.61 vs 0.69). A team's default pixel cut is one even share a
    thread (``_even_cut``); channel halves still beat even pixel halves below two blocks a
    thread (32x128x8x8 -> 256 s2 1.46 vs 1.49-1.51 ms, 1x128x28x28 -> 256 s2 0.58 vs
    0.62)."""
    cdef Py_ssize_t channel_tiles = (M + CG_MR - 1) // CG_MR
    cdef Py_ssize_t blocks = (Q + CG_NC - 1) // CG_NC
    if pixel_pieces[0] == 0 and channel_pieces[0] == 0 and team > 1 \
            and blocks < 2 * team and channel_tiles >= team:
        pixel_pieces[0] = 1
    if pixel_pieces[0] == 0:
        pixel_pieces[0] = <int>min(blocks, 1 << 20)
        if _even_cut and team > 1:
            pixel_pieces[0] = team
    if channel_pieces[0] == 0:
        channel_pieces[0] = <int>max(1, min(channel_tiles,
                                            (team + pixel_pieces[0] - 1) // pixel_pieces[0]))


cdef int _run(const cg_geom* g0, Py_ssize_t N, Py_ssize_t H, Py_ssize_t W, Py_ssize_t ph,
              Py_ssize_t pw, const float* x, const float* w, float* out, int pixel_pieces,
              int channel_pieces, int border) except -1:
    """The batch in groups of images whose padded copy stays in L2 (GROUP_FLOATS): each
    group copied on the team, then its tasks run on the team. border: 1 or 2, a group's
    pixels sorted by border class (rows only, or rows and columns) on the full-tap path;
    -1 or -2: the same where that skips BORDER_MIN_PERMILLE of the taps of a group. (The
    group follows the team, but no order changes a bit, except which pixels are a batch's
    tail, cg_tail_start: that batch is one group at any thread count.)"""
    cdef cg_geom gg = g0[0]
    cdef cg_geom* g = &gg
    cdef Py_ssize_t P = g.OH * g.OW, plane = g.C * g.PH * g.PW
    cdef int team = omp_get_max_threads()
    cdef Py_ssize_t group, n0, nb
    # a thread's panel buffer, with slack, in whole cache lines
    cdef Py_ssize_t panel = (cg_panel_floats() + CG_SLACK + 15) // 16 * 16
    cdef float* xp = NULL
    cdef float* bufs = NULL
    cdef int* kidx = NULL
    cdef float* acc = NULL
    cdef int* porder = NULL
    cdef int* cls_start = NULL
    cdef uint64_t* cls_mask = NULL
    cdef float* vouts = NULL  # class order: a thread's sums of a block (cg_task's vout)
    cdef bint by_position = False
    cdef Py_ssize_t kints = cg_position_kidx_ints()  # a thread's tap indices
    if 2 * g.M * g.K * P * N < TEAM_FLOPS:
        team = 1
    group = _group_images(N, plane, P, team)
    try:
        by_position = _by_position(g, group)
        if by_position:  # (reads the padded copy)
            g.direct = 0  # a thread's taps, panels of a group of positions, and sums
            kidx = <int*>alloc_floats(team * kints)  # ints, floats' size
            bufs = alloc_floats(team * CG_POSITION_GROUP * panel)
            acc = alloc_floats(team * cg_position_acc_floats(g.M))
        else:
            bufs = alloc_floats(team * panel)
            # (the default only where one border row of the group's images fills a panel:
            # shorter rows skip next to nothing, and sorting the P positions to find that
            # out cost up to 3% of a call: 1 thread, thread time, medians of 10,
            # 1x128x28x28 -> 256 3x3/2 1.161 -> 1.125 ms, 1x64x56x56 -> 128 1.46 -> 1.41)
            if border and (border > 0 or group * g.OW >= CG_NB):
                porder = <int*>alloc_floats(P)  # ints, floats' size
                cls_start = <int*>alloc_floats(P + 1)
                cls_mask = <uint64_t*>alloc_floats(2 * P)
                cg_border_order(g, abs(border) == 1, porder, cls_start, cls_mask)
                g.porder, g.cls_start, g.cls_mask = porder, cls_start, cls_mask
                g.nb = group
                if border < 0 and cg_border_saving(g) < BORDER_MIN_PERMILLE:
                    g.porder = NULL
                else:
                    vouts = alloc_floats(team * g.M * CG_NC)
        # else always a copy, padded or not: the panels are gathered from it (see CG_SLACK)
        if not g.direct:
            xp = alloc_floats(group * plane + CG_SLACK)
        for n0 in range(0, N, group):
            nb = min(group, N - n0)
            with nogil:
                if g.direct:
                    g.nb = nb
                    _run_group(g, nb * P, x + n0 * g.C * H * W, w, out + n0 * g.M * P, bufs,
                               panel, vouts, pixel_pieces, channel_pieces, team)
                    continue
                _pad_planes(x + n0 * g.C * H * W, xp, nb * g.C, H, W, ph, pw, team)
                if by_position:
                    _run_group_by_position(g, nb, xp, w, out + n0 * g.M * P, bufs, panel,
                                           kidx, kints, acc, pixel_pieces, channel_pieces,
                                           team)
                else:
                    g.nb = nb
                    _run_group(g, nb * P, xp, w, out + n0 * g.M * P, bufs, panel, vouts,
                               pixel_pieces, channel_pieces, team)
    finally:
        free(xp)
        free(bufs)
        free(kidx)
        free(acc)
        free(porder)
        free(cls_start)
        free(cls_mask)
        free(vouts)
    return 0


cdef void _run_group(const cg_geom* g, Py_ssize_t Q, const float* xp, const float* w,
                     float* out, float* bufs, Py_ssize_t panel, float* vouts,
                     int pixel_pieces, int channel_pieces, int team) noexcept nogil:
    """The Q output pixels of a group of images, cut into tasks (``_pieces``). vouts:
    a thread's block of sums in class order (g.M x CG_NC floats a thread), or NULL."""
    _pieces(Q, g.M, team, &pixel_pieces, &channel_pieces)
    cdef Py_ssize_t qstep = _round_up((Q + pixel_pieces - 1) // pixel_pieces, CG_NB)
    cdef Py_ssize_t cstep = _round_up((g.M + channel_pieces - 1) // channel_pieces, CG_MR)
    cdef Py_ssize_t nq = (Q + qstep - 1) // qstep, nc = (g.M + cstep - 1) // cstep
    cdef Py_ssize_t tasks, t, q0, q1, c0
    cdef bint even = _even_cut
    if even:  # task i: pixels [i Q / nq, (i + 1) Q / nq), each end cut down to a vector
        nq = min(pixel_pieces, (Q + CG_VW - 1) // CG_VW)
    tasks = nq * nc
    if team > tasks:
        team = <int>tasks
    for t in prange(tasks, num_threads=team, schedule="dynamic", chunksize=1):
        if even:
            q0 = t // nc * Q // nq // CG_VW * CG_VW
            q1 = Q if t // nc + 1 == nq else (t // nc + 1) * Q // nq // CG_VW * CG_VW
        else:
            q0 = t // nc * qstep
            q1 = min(Q, q0 + qstep)
        c0 = t % nc * cstep
        cg_task(g, xp, w, out, bufs + threadid() * panel,
                vouts + threadid() * g.M * CG_NC if vouts != NULL else NULL, q0, q1, c0,
                min(g.M, c0 + cstep))


cdef void _run_group_by_position(const cg_geom* g, Py_ssize_t nb, const float* xp,
                                 const float* w, float* out, float* bufs, Py_ssize_t panel,
                                 int* kidx, Py_ssize_t kints, float* acc, int image_pieces,
                                 int channel_pieces, int team) noexcept nogil:
    """A group of nb images by output position (``cg_task_position``): tasks of (block of
    images, block of output channels), every position in each. A team of two or more
    cuts the images into one block a thread by default: halves of the channels each
    gather every panel again (2 threads, 32x512x2x2 -> 512: image halves 2.16-2.20 ms,
    channel halves 2.36-2.40)."""
    if image_pieces == 0 and channel_pieces == 0:
        image_pieces = team
    if image_pieces == 0:
        image_pieces = 1
    if channel_pieces == 0:
        channel_pieces = 1
    cdef Py_ssize_t nstep = (nb + image_pieces - 1) // image_pieces
    cdef Py_ssize_t cstep = _round_up((g.M + channel_pieces - 1) // channel_pieces, CG_MR)
    cdef Py_ssize_t nn = (nb + nstep - 1) // nstep, nc = (g.M + cstep - 1) // cstep
    cdef Py_ssize_t tasks = nn * nc, t, n0, c0, accf = cg_position_acc_floats(g.M)
    cdef int tid
    if team > tasks:
        team = <int>tasks
    for t in prange(tasks, num_threads=team, schedule="dynamic", chunksize=1):
        n0 = t // nc * nstep
        c0 = t % nc * cstep
        tid = threadid()
        cg_task_position(g, xp, w, out, bufs + tid * CG_POSITION_GROUP * panel, panel,
                         kidx + tid * kints, acc + tid * accf, n0, min(nb, n0 + nstep), c0,
                         min(g.M, c0 + cstep))

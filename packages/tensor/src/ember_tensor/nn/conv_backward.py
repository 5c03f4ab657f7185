"""The gradients of 2-D convolution (``conv.py``): im2col + GEMM for the weight gradient,
GEMM + col2im for the input gradient, and Winograd for the 3x3 stride-1 gradients where it
measures faster. A batch whose columns fit one buffer runs each gradient as one GEMM over
all its images through ``_team.matmul`` (``_batch_backward_gemms``: same bits on any thread
count); a bigger batch, groups and 1x1 kernels go by chunks of images whose
weight-gradient partials are added in chunk order (same bits run after run at one thread
count; the chunks follow the thread count); one image goes whole through
``_team.matmul`` or by bands of output rows (same bits on any thread count).
Thresholds are read from ``conv`` at call time, so one module holds every thread rule."""
import threading

import numpy as np

from .._kernels.im2col import col2im, im2col
from .._team import run_tasks, serial_region
from .._team import matmul as _team_matmul
from . import depthwise as _depthwise
from . import stem_conv as _stem_conv
from ._util import kernel_array, nd, scalar_name, size_str, wrap
from .conv import (
    _band_columns, _channel_blocks, _image_chunks,
    _pool, _prepare, _row_bands, _use_winograd,
)
from .winograd import conv3x3 as _winograd_conv3x3
from .winograd_grad import conv3x3_grad_weight as _winograd_grad_weight


def conv2d_backward(grad_out, x, weight, stride=(1, 1), padding=(0, 0), dilation=(1, 1),
                    groups=1, output_mask=(True, True, True)):
    """Gradients of conv2d: ``(grad_input, grad_weight, grad_bias)``, None where the mask
    says the gradient is not needed."""
    xa, wa, _, g, _ = _prepare(x, weight, None, stride, padding, dilation, groups)
    go = nd(grad_out)
    unbatched = xa.ndim == 3
    if unbatched:
        xa, go = xa[None], go[None]
    expected = (g.N, g.Cout, g.OH, g.OW)
    if go.shape != expected:
        raise RuntimeError(
            f"conv2d_backward: expected grad_output of size {size_str(expected)}, but got "
            f"{size_str(go.shape)}"
        )
    if go.dtype != xa.dtype:
        raise RuntimeError(
            f"expected scalar type {scalar_name(xa.dtype)} but found {scalar_name(go.dtype)}"
        )
    need_x, need_w, need_b = (bool(m) for m in output_mask)
    xa = kernel_array(xa)
    wa = kernel_array(wa)
    go = kernel_array(go)
    if _depthwise.fits(g):
        gx = _depthwise.grad_input(go, wa, g) if need_x else None
        gw = _depthwise.grad_weight(go, xa, g) if need_w else None
        gb = go.sum(axis=(0, 2, 3)) if need_b else None
        if unbatched and gx is not None:
            gx = gx[0]
        return tuple(None if a is None else wrap(a) for a in (gx, gw, gb))
    work = go.size and g.K and (need_x or need_w)
    gx = gw = None
    winograd_x = bool(work and need_x and _use_winograd(g, xa.dtype, g.Cout, g.C))
    if need_x:
        # col2im accumulates taps into gx; a pointwise GEMM or Winograd writes every element
        gx = (np.empty if work and (g.pointwise or winograd_x) else np.zeros)(
            xa.shape, xa.dtype)
    if need_w:
        # every path below writes gw in full (no zero fill, no read-modify-write pass over
        # what can be megabytes of weights)
        gw = (np.empty if work else np.zeros)(wa.shape, wa.dtype)
    gb = go.sum(axis=(0, 2, 3)) if need_b else None
    # the forward's size rule also measured right for the weight gradient
    winograd_w = bool(work and need_w and _use_winograd(g, xa.dtype))
    if winograd_x:
        # the input gradient is a 3x3 padding-1 convolution of grad_out with the rotated,
        # channel-swapped weights
        _winograd_conv3x3(go, wa, gx, flipped=True)
    if winograd_w:
        _winograd_grad_weight(xa, go, gw)
    # few input channels (the stem): the weight gradient as a direct reduction
    stem_w = bool(work and need_w and _stem_conv.fits(g, xa.dtype))
    if stem_w:
        _stem_conv.grad_weight(go, xa, gw, g)
    rest_x = None if winograd_x else gx
    rest_w = None if winograd_w or stem_w else gw
    if work and (rest_x is not None or rest_w is not None):
        _backward(go, xa, wa, rest_x, rest_w, g)
    if unbatched and gx is not None:
        gx = gx[0]
    return tuple(None if a is None else wrap(a) for a in (gx, gw, gb))


def _backward(go, xa, wa, gx, gw, g):
    w3 = wa.reshape(g.G, g.Cog, g.Kg)
    passes = int(gx is not None) + int(gw is not None)
    if g.split_rows() and _row_bands(g, passes, xa.itemsize) is None:
        _single_image_backward_gemms(go, xa, w3, gx, gw, g)
        return
    if _whole_batch(g, xa.itemsize):
        _batch_backward_gemms(go, xa, w3, gx, gw, g)
        return
    with serial_region() as budget:
        threads = g.threads(budget, passes, xa.itemsize)
        if g.split_rows():
            _run_single_image_backward(go, xa, w3, gx, gw, g, threads)
            return
        gw_sum = _WeightGrad(gw) if gw is not None else None
        tasks = [_backward_images(go, xa, w3, gx, gw_sum, g, n0, n1, index)
                 for index, (n0, n1) in enumerate(_image_chunks(g, xa.itemsize, threads))]
        run_tasks(tasks, threads)


# A batch whose columns fit in this many bytes has its gradients computed as one image's
# are: the whole batch's columns side by side, each gradient one GEMM through
# ``_team.matmul``. Above it, chunks of images are the tasks (``_backward_images``). Noisy
# machine (load 4-6), 2 threads, best of alternating rounds, backward alone at 4x224: the
# 512-channel 3x3 at 7x7 22.6 vs 27.0 ms (min 21.4 vs 25.1), the strided 3x3s 0.85-0.93x,
# the strided 1x1s level; ResNet-18 step 4x224 best min 452 vs 476 ms. 1x1 kernels stay on
# chunks: their weight-gradient partials are small (Cout x C) and a chunk's columns stay in
# L2 between im2col, GEMM and col2im (1 thread, thread CPU time, 16x224: the 64->128 1x1/2
# 7.5-7.7 ms by chunks, 9.0-9.2 whole, 128->256 6.2-6.4 vs 6.7-6.8).
_BATCH_COLUMN_BYTES = 48 << 20
_WHOLE_BATCH = True  # A/B switch: False sends every batch by image chunks


def _whole_batch(g, itemsize):
    return (_WHOLE_BATCH and g.N > 1 and g.G == 1 and g.kh * g.kw > 1
            and g.K * g.N * g.P * itemsize <= _BATCH_COLUMN_BYTES)


def _batch_backward_gemms(go, xa, w3, gx, gw, g):
    """A batch's gradients with its images' columns side by side (``(K, N*P)``): the weight
    gradient is one GEMM whose reduction runs over every image, so no per-chunk partial
    weight gradients are written and summed (for layer4's 512-channel 3x3 each partial was
    9.4 MB); the input gradient's GEMM then writes into the same buffer, which col2im
    scatters back. ``_team.matmul`` cuts each GEMM by rows or columns by the shapes alone
    and im2col/col2im split by planes, so the bits are the same on any number of threads
    (and run after run)."""
    cols = _pool.get((g.K, g.N * g.P), xa.dtype, "batch_cols")
    go2 = _pool.get((g.Cout, g.N * g.P), go.dtype, "batch_grad_out")
    go2.reshape(g.Cout, g.N, g.P)[...] = go.reshape(g.N, g.Cout, g.P).transpose(1, 0, 2)
    if gw is not None:
        im2col(xa, cols, g.args)
        _team_matmul(go2, cols.T, out=gw.reshape(g.Cout, g.Kg))
    if gx is not None:
        _team_matmul(w3[0].T, go2, out=cols)
        col2im(cols, gx, g.args)


class _WeightGrad:
    """Chunks' weight gradients summed into ``gw`` in chunk order, whatever order they finish
    in: a chunk done early waits in ``pending`` until the ones before it are added, so a
    batch's weight gradient is the same bits run after run (chunks finish in any order, on
    any thread, and float addition of three or more parts depends on its order)."""

    def __init__(self, gw):
        self.gw = gw
        self.lock = threading.Lock()
        self.pending = {}
        self.next = 0

    def target(self, whole_batch):
        """Where a chunk may write its gradient directly: ``gw`` itself when the chunk is
        the whole batch (no other chunk will add to it), else None."""
        return self.gw if whole_batch else None

    def add(self, part, index):
        if part is self.gw:
            return
        with self.lock:
            self.pending[index] = part
            while self.next in self.pending:
                ready = self.pending.pop(self.next)
                if self.next == 0:
                    self.gw[...] = ready
                else:
                    self.gw += ready
                self.next += 1


def _backward_images(go, xa, w3, gx, gw_sum, g, n0, n1, index):
    """One chunk's input gradient (its own slice of gx) and its share of the weight
    gradient."""
    w3t = w3.transpose(0, 2, 1)

    def task():
        cnt = n1 - n0
        if g.pointwise:
            go4 = go[n0:n1].reshape(cnt, g.G, g.Cog, g.P)
            x4 = xa[n0:n1].reshape(cnt, g.G, g.Cg, g.P)
            if gx is not None:
                np.matmul(w3t, go4, out=gx[n0:n1].reshape(cnt, g.G, g.Cg, g.P))
            if gw_sum is not None:
                part = np.matmul(go4[0], x4[0].transpose(0, 2, 1))
                for n in range(1, cnt):
                    part += np.matmul(go4[n], x4[n].transpose(0, 2, 1))
                gw_sum.add(part.reshape(gw_sum.gw.shape), index)
            return
        if cnt == 1:
            go3 = go[n0].reshape(g.G, g.Cog, g.P)
        else:
            # (cnt, Cout, P) -> (Cout, cnt*P): the chunk's columns side by side, as in cols
            go2 = _pool.get((g.Cout, cnt * g.P), go.dtype, "grad_cols_out")
            go2.reshape(g.Cout, cnt, g.P)[...] = go[n0:n1].reshape(
                cnt, g.Cout, g.P).transpose(1, 0, 2)
            go3 = go2.reshape(g.G, g.Cog, cnt * g.P)
        if gw_sum is not None:
            cols = _pool.get((g.K, cnt * g.P), xa.dtype, "cols")
            im2col(xa[n0:n1], cols, g.args)
            direct = gw_sum.target(cnt == g.N)
            part = np.matmul(go3, cols.reshape(g.G, g.Kg, cnt * g.P).transpose(0, 2, 1),
                             out=None if direct is None else direct.reshape(g.G, g.Cog, g.Kg))
            gw_sum.add(direct if direct is not None else part.reshape(gw_sum.gw.shape), index)
        if gx is not None:
            gcols = _pool.get((g.K, cnt * g.P), xa.dtype, "grad_cols")
            np.matmul(w3t, go3, out=gcols.reshape(g.G, g.Kg, cnt * g.P))
            col2im(gcols, gx[n0:n1], g.args)
    return task


def _grad_input_tasks(go2, w2t, gx, g, threads):
    """One image's input gradient as blocks of input channels: each task multiplies its
    rows of ``w^T @ grad_out`` and scatters them into its own planes of ``gx``, so no two
    tasks write one element and nothing runs serially after them."""
    kk = g.kh * g.kw

    def block(c0, c1):
        r0, r1 = c0 * kk, c1 * kk
        if g.pointwise:
            np.matmul(w2t[r0:r1], go2, out=gx[0].reshape(g.K, g.P)[r0:r1])
            return
        gcols = _pool.get((r1 - r0, g.P), go2.dtype, "grad_cols_block")
        np.matmul(w2t[r0:r1], go2, out=gcols)
        col2im(gcols, gx[:, c0:c1], g.args)
    return [lambda c0=c0, c1=c1: block(c0, c1) for c0, c1 in _channel_blocks(g.C, threads)]


def _single_image_backward_gemms(go, xa, w3, gx, gw, g):
    """One image's gradients when its output is not cut into row bands: each gradient's
    GEMM goes whole to ``_team.matmul``, which cuts a big one in two by the shapes alone and
    runs the halves on the team without the GIL (see ``_single_image_gemm``); the column
    gather and the scatter back (im2col, col2im) spread over the team themselves."""
    go2 = go[0].reshape(g.Cout, g.P)
    if gw is not None:
        _team_matmul(go2, _band_columns(xa, g, 0, g.OH, "cols").T,
                     out=gw.reshape(g.Cout, g.Kg))
    if gx is not None:
        w2t = w3[0].T
        if g.pointwise:
            _team_matmul(w2t, go2, out=gx[0].reshape(g.K, g.P))
            return
        gcols = _pool.get((g.K, g.P), go2.dtype, "grad_cols")
        _team_matmul(w2t, go2, out=gcols)
        col2im(gcols, gx, g.args)


def _run_single_image_backward(go, xa, w3, gx, gw, g, threads):
    """A single image's gradients when its output is cut into bands of output rows
    (``_row_bands``; the rest go whole to ``_single_image_backward_gemms``). The input
    gradient is split by input channels (``_grad_input_tasks``); the weight gradient by the
    bands, whose partial sums are added in band order afterwards, so the bits do not depend
    on the thread count."""
    go2 = go[0].reshape(g.Cout, g.P)
    w2t = w3[0].T
    tasks = _grad_input_tasks(go2, w2t, gx, g, threads) if gx is not None else []
    if gw is None:
        run_tasks(tasks, threads)
        return
    gw2 = gw.reshape(g.Cout, g.Kg)
    bands = _row_bands(g, 1 + int(gx is not None), xa.itemsize)
    parts = [gw2] + [_pool.get((g.Cout, g.Kg), gw.dtype, f"grad_weight_part{i}")
                     for i in range(1, len(bands))]

    def band(i, oh0, oh1):
        cols = _band_columns(xa, g, oh0, oh1, "cols_band")
        np.matmul(go2[:, oh0 * g.OW:oh1 * g.OW], cols.T, out=parts[i])
    run_tasks([lambda i=i, b=b: band(i, *b) for i, b in enumerate(bands)] + tasks, threads)
    for part in parts[1:]:
        gw2 += part

"""2-D convolution (NCHW) as im2col + one GEMM per chunk of images; its backward is in
``conv_backward.py`` and shares this module's geometry, buffers and thread rules.

Images are processed in chunks: a chunk's patches go into one ``(C*kh*kw, nb*OH*OW)`` column
buffer and meet the weights in a single BLAS call. Small feature maps (late ResNet layers)
batch several images per GEMM so the matrix stays wide enough for BLAS to reach its peak;
large ones go one image at a time so the buffer stays small and the GEMM writes straight into
the output. Unpadded 1x1 convolutions skip im2col: the input (or, for the strided
downsamples, a strided subsample of it) already is the column matrix. Float32 3x3 stride-1
padding-1 convolutions (most of a ResNet) and their input and weight gradients take
Winograd F(2x2, 3x3) instead where it measures faster (``winograd.py``).

Threads: a convolution is split into tasks (chunks of images; for a single image, bands of
output rows, see ``_row_bands``; a single image without bands and the batched 1x1s hand
whole GEMMs to ``_team.matmul``, which cuts them by shape without the GIL) that run on
``get_num_threads()`` threads, each doing im2col and its GEMM *serially* (OpenMP and BLAS
held at one thread). A single image's split depends on its shapes only, never on the thread
count, so its results are the same bit for bit on any number of threads. Letting im2col's
OpenMP team and OpenBLAS's own pool take turns on the same cores makes each pool's idle
threads spin while the other works; on a 2-core machine that cost 3-8x at ResNet shapes.
The pool and the thread pinning live in ``ember_tensor._team``.
"""
import functools
import math

import numpy as np

from .._kernels.convgemm import FASTER_THAN_BLAS as _CONVGEMM_FASTER
from .._kernels.convgemm import by_position as _convgemm_by_position
from .._kernels.convgemm import conv2d as _convgemm
from .._kernels.conv_direct import AVAILABLE as _DIRECT_AVAILABLE
from .._kernels.conv_direct import conv2d as _conv_direct
from .._kernels.im2col import im2col
from .._kernels.subsample import subsample as _subsample
from .._team import can_split, run_tasks, serial_region
from .._team import matmul as _team_matmul
from .._team import on_team as _on_team
from . import depthwise as _depthwise
from . import stem_conv as _stem_conv
from ._util import BufferPool, kernel_array, nd, pair, scalar_name, size_str, wrap
from .winograd import conv3x3 as _winograd_conv3x3
from .winograd import use_winograd as _winograd_fits

# Columns a GEMM should have before adding images to a chunk stops paying.
_TARGET_COLUMNS = 2048
# Upper bound for one chunk's column buffer.
_COLUMN_BYTES = 64 << 20
# ---- When a convolution uses more than one thread. These depend on the cost of waking the
# OpenMP team's second thread against the GEMM time saved, so they are tuned by A/B timing on
# a quiet machine (``benchmarks``); every one is read at call time. Multiply-adds count per
# GEMM pass: the backward runs two GEMMs (input and weight gradient), so it splits from half
# the size.
# Batches (N > 1): chunks of images are the tasks from this many multiply-adds.
_SPLIT_MACS = 16_000_000
# One image cut into bands of output rows (``_BAND_MACS``): from this many multiply-adds the
# bands run as tasks on the team, below it one after another on the calling thread (the bits
# are the same either way). One image without bands needs no rule here: its GEMMs go whole to
# ``_team.matmul``, which splits them by its own threshold without the GIL.
_SINGLE_SPLIT_MACS = 16_000_000
# One image: from this many multiply-adds an output with more pixels than channels is cut
# into bands of output rows, each task gathering and multiplying its own band. The weight
# gradient then sums per-band partials, which rounds differently from one GEMM, so this
# rule looks at the shapes only and the bands are taken on one thread too.
_BAND_MACS = 16_000_000
# Weight matrices of this size or more split anyway: a single image's GEMM is then bound by
# reading the weights, and two cores read them faster (ResNet-18's layer4 at batch 1: 1.7x).
_SPLIT_WEIGHT_BYTES = 2 << 20

_pool = BufferPool()


def _out_size(size, k, s, p, d):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def _check_conv(x, w, b, stride, padding, dilation, groups):
    """torch's argument checks for conv2d, in torch's order and words."""
    if x.ndim not in (3, 4):
        raise RuntimeError(
            "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: "
            + size_str(x.shape)
        )
    if x.ndim == 3:
        x = x[None]  # torch checks an unbatched input as a batch of one
    if w.ndim != 4:
        raise RuntimeError(
            f"expected stride to be a single integer value or a list of {w.ndim - 2} values to "
            f"match the convolution dimensions, but got stride={size_str(stride)}"
        )
    # index, not min(): this check runs on every call (a 20 us downsample's glue)
    if stride[0] <= 0 or stride[1] <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if padding[0] < 0 or padding[1] < 0:
        raise RuntimeError("negative padding is not supported")
    if dilation[0] <= 0 or dilation[1] <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got {size_str(dilation)}")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    cout = w.shape[0]
    if cout < groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, "
            f"but got weight of size {size_str(w.shape)} instead"
        )
    if cout % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension "
            f"0, but got weight of size [{size_str(w.shape)}] instead"
        )
    if x.shape[1] != w.shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {size_str(w.shape)}, expected input"
            f"{size_str(x.shape)} to have {w.shape[1] * groups} channels, but got "
            f"{x.shape[1]} channels instead"
        )
    if b is not None and (b.ndim != 1 or b.shape[0] != cout):
        raise RuntimeError(
            f"Given weight of size {size_str(w.shape)}, expected bias to be 1-dimensional with "
            f"{cout} elements, but got bias of size {size_str(b.shape)} instead"
        )
    ph_in = x.shape[2] + 2 * padding[0]
    pw_in = x.shape[3] + 2 * padding[1]
    kh_eff = dilation[0] * (w.shape[2] - 1) + 1
    kw_eff = dilation[1] * (w.shape[3] - 1) + 1
    if ph_in < kh_eff or pw_in < kw_eff:
        raise RuntimeError(
            f"Calculated padded input size per channel: ({ph_in} x {pw_in}). Kernel size: "
            f"({kh_eff} x {kw_eff}). Kernel size can't be greater than actual input size"
        )
    if x.dtype != w.dtype:
        raise RuntimeError(
            f"expected scalar type {scalar_name(x.dtype)} but found {scalar_name(w.dtype)}"
        )
    if b is not None and b.dtype != x.dtype:
        raise RuntimeError(
            f"Input type ({scalar_name(x.dtype).lower()}) and bias type "
            f"({scalar_name(b.dtype).lower()}) should be the same"
        )
    if x.dtype.char not in "fd":  # float32, float64 (a third of the tuple test's cost)
        raise NotImplementedError(
            f'"conv2d" not implemented for \'{scalar_name(x.dtype)}\''
        )


class _Geometry:
    """Everything about one convolution's shapes, computed once per call."""

    def __init__(self, x_shape, w_shape, stride, padding, dilation, groups):
        self.N, self.C, self.H, self.W = x_shape
        self.Cout, self.Cg, self.kh, self.kw = w_shape
        self.sh, self.sw = stride
        self.ph, self.pw = padding
        self.dh, self.dw = dilation
        self.G = groups
        self.Cog = self.Cout // groups
        self.OH = _out_size(self.H, self.kh, self.sh, self.ph, self.dh)
        self.OW = _out_size(self.W, self.kw, self.sw, self.pw, self.dw)
        self.P = self.OH * self.OW
        self.K = self.C * self.kh * self.kw  # rows of a column buffer (all groups)
        self.Kg = self.Cg * self.kh * self.kw
        self.pointwise = (
            self.kh == self.kw == 1 and self.sh == self.sw == 1 and self.ph == self.pw == 0
        )
        self.args = (self.kh, self.kw, self.sh, self.sw, self.ph, self.pw, self.dh, self.dw,
                     self.OH, self.OW)

        self.macs = self.N * self.Cout * self.P * self.Kg

    def chunk(self, itemsize, threads=1):
        """Images per GEMM: enough columns for BLAS, within the buffer budget, and few
        enough that every thread gets a chunk."""
        if self.P >= _TARGET_COLUMNS or self.N <= 1:
            return 1
        nb = min(self.N, math.ceil(_TARGET_COLUMNS / self.P), math.ceil(self.N / threads))
        per_image = max(1, self.P * self.K * itemsize)
        return max(1, min(nb, _COLUMN_BYTES // per_image))

    def heavy_weights(self, itemsize=4):
        """True when the weights are big enough that reading them bounds one image's GEMM."""
        return self.Cout * self.Kg * itemsize >= _SPLIT_WEIGHT_BYTES

    def threads(self, budget, passes=1, itemsize=4):
        """Threads worth using for ``passes`` GEMMs over this geometry: one for small
        convolutions (``_SPLIT_MACS`` for batches, ``_SINGLE_SPLIT_MACS`` for one image's
        row bands)."""
        if budget <= 1 or not can_split():
            return 1
        limit = _SINGLE_SPLIT_MACS if self.split_rows() else _SPLIT_MACS
        if self.heavy_weights(itemsize) or self.macs * passes >= limit:
            return budget
        return 1

    def split_rows(self):
        """True when parts of one image's GEMM, not images, are the tasks (a single image;
        with more, images are the tasks). Also taken on one thread, so that the split, and
        with it every rounding, is the same on any number of threads."""
        return self.N == 1 and self.G == 1


def _pair(v, name):
    """``pair`` with the two common spellings (an int, a tuple of two ints) taken first:
    its general conversion cost ~1 us an argument, a tenth of a small convolution's Python."""
    if type(v) is int:
        return (v, v)
    if type(v) is tuple and len(v) == 2 and type(v[0]) is int and type(v[1]) is int:
        return v
    return pair(v, name)


def _prepare(x, weight, bias, stride, padding, dilation, groups):
    """The forward's and backward's common start: ``(xa, wa, ba, g, route)``, the arrays and
    the convolution's checked plan (``_plan``; ``g`` counts a 3-D input as one image)."""
    xa, wa, ba = nd(x), nd(weight), nd(bias)
    stride, padding, dilation = _pair(stride, "stride"), _pair(padding, "padding"), _pair(
        dilation, "dilation")
    g, route = _plan(xa, wa, ba, stride, padding, dilation,
                     groups if type(groups) is int else int(groups))
    return xa, wa, ba, g, route


def _use_winograd(g, dtype, x_channels=None, w_channels=None):
    """3x3 stride-1 padding-1 convolutions of sizes where Winograd beats im2col
    (``nn/winograd.py``). The channel arguments describe the input-gradient convolution:
    ``x_channels`` input planes, weights ``(w_channels, x_channels, 3, 3)``."""
    x_channels = g.C if x_channels is None else x_channels
    w_channels = g.Cout if w_channels is None else w_channels
    return _winograd_fits((g.N, x_channels, g.H, g.W), (w_channels, x_channels, g.kh, g.kw),
                          dtype, (g.sh, g.sw), (g.ph, g.pw), (g.dh, g.dw), g.G)


def _gemm(w3, cols, out3):
    """out3[g] = w3[g] @ cols[g]; plain 2-D matmul when there is a single group."""
    if w3.shape[0] == 1:
        np.matmul(w3[0], cols.reshape(cols.shape[-2:]) if cols.ndim == 3 else cols,
                  out=out3[0])
    else:
        np.matmul(w3, cols, out=out3)


# Routes a forward convolution's shapes alone decide (``_plan``); the rest is chosen per call.
_DEPTHWISE, _STEM, _WINOGRAD_SHAPE, _ONE_IMAGE_1X1, _OTHER = range(5)
# Forward plans by argument shapes, dtypes and geometry. A model has a few dozen distinct
# convolutions; a plan costs ~0.2 KB, and past this many the dict starts over.
_PLANS_MAX = 1024
_plans: dict = {}


def _plan(xa, wa, ba, stride, padding, dilation, groups):
    """``(geometry, route)`` of a forward convolution, checked and computed on the first call
    with these shapes, dtypes and (normalised) arguments, then looked up: the checks, the
    geometry and the depthwise and stem rules (shapes and fixed constants) cost ~2.5 us of
    Python, a seventh of a 1x1 downsample at 64 px. Everything they read is in the key; a
    call that fails a check stores nothing, so it raises again. Choices that read thread
    counts, constants tests and A/B runs change, or Winograd's switch (``EMBER_WINOGRAD``,
    read at import; ``winograd.set_enabled``) stay per call (``_use_winograd``,
    ``_forward``)."""
    key = (xa.shape, wa.shape, xa.dtype, wa.dtype,
           None if ba is None else (ba.shape, ba.dtype), stride, padding, dilation, groups)
    plan = _plans.get(key)
    if plan is None:
        _check_conv(xa, wa, ba, stride, padding, dilation, groups)
        shape = xa.shape if xa.ndim == 4 else (1,) + xa.shape
        g = _Geometry(shape, wa.shape, stride, padding, dilation, groups)
        if _depthwise.fits(g):
            route = _DEPTHWISE
        elif _stem_conv.fits(g, xa.dtype):
            route = _STEM
        elif (g.kh == g.kw == 3 and g.sh == g.sw == 1 and g.ph == g.pw == 1
              and g.dh == g.dw == 1 and g.G == 1 and g.N * g.Cout * g.P):
            route = _WINOGRAD_SHAPE  # ``_use_winograd`` decides per call
        elif (g.N == 1 and g.G == 1 and g.kh == g.kw == 1 and g.ph == g.pw == 0
              and g.dh == g.dw == 1 and g.Cout * g.P * g.K):
            route = _ONE_IMAGE_1X1  # ``_one_image_1x1`` unless bands or conv_direct take it
        else:
            route = _OTHER
        plan = (g, route)
        if len(_plans) >= _PLANS_MAX:
            _plans.clear()
        _plans[key] = plan
    return plan


def conv2d(x, weight, bias=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    """torch.nn.functional.conv2d on Arrays; a 3-D input is one unbatched image."""
    xa, wa, ba, g, route = _prepare(x, weight, bias, stride, padding, dilation, groups)
    unbatched = xa.ndim == 3
    if unbatched:
        xa = xa[None]
    if route == _DEPTHWISE:
        out = _depthwise.forward(kernel_array(xa), kernel_array(wa),
                                 None if ba is None else kernel_array(ba), g)
        return wrap(out[0] if unbatched else out)
    if route == _STEM:
        out = _stem_conv.forward(kernel_array(xa), kernel_array(wa),
                                 None if ba is None else kernel_array(ba), g)
        return wrap(out[0] if unbatched else out)
    if (route == _ONE_IMAGE_1X1 and xa.flags.c_contiguous
            and _row_bands(g, 1, xa.itemsize) is None and not _use_direct(g, xa.dtype)):
        out = _one_image_1x1(xa, kernel_array(wa), g)
        if ba is not None:
            out.reshape(g.Cout, g.P)[...] += ba.reshape(g.Cout, 1)
        return wrap(out[0] if unbatched else out)
    xa = kernel_array(xa)
    wa = kernel_array(wa)
    out = np.empty((g.N, g.Cout, g.OH, g.OW), xa.dtype)
    if route == _WINOGRAD_SHAPE and _use_winograd(g, xa.dtype):
        _winograd_conv3x3(xa, wa, out, None if ba is None else kernel_array(ba))
    elif out.size:
        _forward(xa, wa, out, g)
        if ba is not None:
            out.reshape(g.N, g.Cout, g.P)[...] += ba.reshape(1, g.Cout, 1)
    if unbatched:
        out = out[0]
    return wrap(out)


def _forward(xa, wa, out, g):
    if g.K == 0:
        out[...] = 0
        return
    if _use_direct(g, xa.dtype):
        _conv_direct(xa, wa, out, (g.sh, g.sw), (g.ph, g.pw), (g.dh, g.dw))
        return
    if _use_convgemm(g, xa.dtype):
        _convgemm(xa, wa, out, (g.sh, g.sw), (g.ph, g.pw), (g.dh, g.dw))
        return
    if g.split_rows() and _row_bands(g, 1, xa.itemsize) is None:
        # one image, one group: both reshapes are views (a view op ~0.1 us a 15-us call)
        _single_image_gemm(xa, wa.reshape(g.Cout, g.Kg), out.reshape(g.Cout, g.P), g)
        return
    w3 = wa.reshape(g.G, g.Cog, g.Kg)
    if g.G == 1 and g.kh == g.kw == 1 and g.ph == g.pw == 0 and g.dh == g.dw == 1:
        _pointwise_batch(xa, w3[0], out, g)
        return
    with serial_region() as budget:
        threads = g.threads(budget, 1, xa.itemsize)
        if g.split_rows():
            _run_single_image_forward(xa, w3, out, g, threads)
            return
        tasks = [_forward_images(xa, w3, out, g, n0, n1)
                 for n0, n1 in _image_chunks(g, xa.itemsize, threads)]
        run_tasks(tasks, threads)


# Ember's own GEMM with im2col folded into its packing (``_kernels/convgemm.pyx``) takes
# float32 convolutions of groups 1 with a kernel wider than 1x1, from this many taps per
# output channel (Cin*kh*kw) ...
_CONVGEMM_MIN_TAPS = 576
# ... and up to this many output channels. 1 thread, speed against im2col + OpenBLAS
# (loaded machine, thread CPU time): ResNet's 3x3/2 64->128 at 56 px 1.35x (batch 16:
# 1.37-1.45x), 128->256 at 28 px 1.10-1.14x (1.20x), 3x3 256 at 14 px (one image, not
# Winograd) 1.19-1.23x, the 64-px shapes 1.03-1.33x. 512 channels (since small planes are
# scattered segment by segment; best of 3 alternating rounds of 9 calls): 3x3/2 from
# 32x256x4x4 1.16x, 3x3 on 32x512x2x2 1.08x, 4x512x7x7 1.07x, 1x512x7x7 1.20x,
# 3x3/2 from 16x256x14x14 level. Wider layers were not measured.
_CONVGEMM_MAX_CHANNELS = 512
# More than 256 output channels only from this many output pixels an image: at 2 threads,
# inside the frozen finetune step 32x64 (layer4's 2x2 and 4x4 planes), convgemm lost to
# OpenBLAS (quiet, 3 alternating rounds, median: 54.5-55.8 ms with this rule, 63.5-71.6 with
# every 512-channel layer on convgemm; torch 68.7-69.6). 1 thread measured the other way.
# Smaller planes that convgemm computes position by position (``by_position``: layer4's
# 3x3 and 3x3/2 on a batch of 2x2 output planes) do go there: they skip the zero border's
# taps (2 threads, 32 images: 3x3 ~1.7 ms, torch 2.4+; 3x3/2 1.28-1.32, torch 1.41-1.62).
_CONVGEMM_WIDE_MIN_PIXELS = 49
_CONVGEMM_WIDE_CHANNELS = 256
# A batch with at most this many output pixels in all (one 64-px image's layer4: 2x2) leaves
# convgemm to im2col + ``_team.matmul``, whose ``_kernels/skinny.h`` streams the weights
# once for a product of at most four columns: convgemm fills a fraction of its panel there.
# 1 thread, hot cache: 1x512x2x2 3x3 790-890 -> ~260 us, its 3x3/2 from 256x4x4 ~380 -> ~131.
_CONVGEMM_MIN_PIXELS = 5


def _use_convgemm(g, dtype):
    """Convolutions ``_kernels/convgemm`` computes faster than im2col + OpenBLAS (in its
    AVX-512 copy only: ``FASTER_THAN_BLAS``)."""
    return (_CONVGEMM_FASTER and dtype == np.float32 and g.G == 1 and g.kh * g.kw > 1
            and g.K >= _CONVGEMM_MIN_TAPS and g.Cout <= _CONVGEMM_MAX_CHANNELS
            and g.N * g.P >= _CONVGEMM_MIN_PIXELS
            and (g.Cout <= _CONVGEMM_WIDE_CHANNELS or g.P >= _CONVGEMM_WIDE_MIN_PIXELS
                 or _by_position(g.N, g.C, g.H, g.W, g.Cout, g.kh, g.kw, g.sh, g.sw, g.ph,
                                 g.pw, g.dh, g.dw)))


# The direct convolution with vectors along output channels (``_kernels/conv_direct``,
# AVX-512 copy only) takes ResNet's 3x3/2 from 56 and 28 px (its tile: 32 channels x 14
# pixels of an output row, so output rows of 14 or 28 pixels fill it), where it beat
# convgemm (no gather, every tap summed in registers). In-process A/B against convgemm,
# alternating, best of 5 medians, exclusive lock, ratios direct / convgemm at 2 threads and
# 1 thread: 16x64x56x56 -> 128 0.88-0.93 / 0.89-0.94, 16x128x28x28 -> 256 0.92-0.96 /
# 0.90-0.95, 4x224's 0.92-0.94 / 0.94 and 0.94-1.02 / 0.94, 2x64x56x56 0.94 / 0.93. It cuts
# the batch by images, so it takes even batches, which the two threads share evenly (the
# rule reads the shapes, never the thread count). Rows of 7 pixels (layer4.0 at 224: tiles
# of two rows, the last one alone) only from 16 images: 16x256x14x14 -> 512 0.991-0.994 at 2
# threads (7 runs), 0.88-0.89 at 1, 32 images 0.96 at 2; 8 images 1.02 at 2 (0.94 at 1), 4
# 1.00, 2 1.09 (packing 4.7 MB of weights a call weighs on few images). Both kernels run
# this shape near 54 GMAC/s a core at 2 threads, the direct one 1.99x its 1-thread rate, so
# no split of the work gains: the tile's rate (91% of a register-only FMA loop's 58.7
# GMAC/s) bounds it. Not taken: 64-px batches' 8- and 4-px rows (32x64x16x16 1.05-1.10,
# 32x128x8x8 1.17-1.25).
_DIRECT_ROW_PIXELS = 14
_DIRECT_MIN_TAPS = 576
_DIRECT_HALF_ROW_MIN_IMAGES = 16
# It also takes ResNet's 1x1/2 downsamples of a batch of 16+ (output rows of 7, 14 or 28
# pixels; no padding, so the input is read where it is), ahead of the subsample + GEMM of
# ``_pointwise_batch``. In-process A/B against conv2d's route, alternating, best of 7
# medians of 15 calls, exclusive lock (direct / route, ms): 2 threads 16x256x14x14 -> 512
# 1.00/1.08, 16x128x28x28 -> 256 0.99/1.11, 16x64x56x56 -> 128 1.09/1.25; 1 thread 1.95/2.22,
# 2.04/2.23, 2.55/2.67. A batch of 4 was level (0.27/0.27).
_DIRECT_1X1_MIN_IMAGES = 16
_DIRECT_1X1_ROW_PIXELS = 7
_DIRECT_1X1_MIN_CHANNELS = 64


def _use_direct(g, dtype):
    """Convolutions ``_kernels/conv_direct`` computes faster than convgemm (3x3/2) or the
    pointwise route (1x1/2)."""
    if not (_DIRECT_AVAILABLE and dtype == np.float32 and g.G == 1 and g.sh == g.sw == 2
            and g.dh == g.dw == 1 and g.N % 2 == 0):
        return False
    if g.kh == g.kw == 1:
        return (g.ph == g.pw == 0 and g.N >= _DIRECT_1X1_MIN_IMAGES
                and g.C >= _DIRECT_1X1_MIN_CHANNELS and g.OW % _DIRECT_1X1_ROW_PIXELS == 0)
    half = _DIRECT_ROW_PIXELS // 2
    return (g.kh == g.kw == 3 and g.K >= _DIRECT_MIN_TAPS
            and (g.OW % _DIRECT_ROW_PIXELS == 0
                 or (g.OW % half == 0 and g.N >= _DIRECT_HALF_ROW_MIN_IMAGES)))


@functools.lru_cache(maxsize=256)
def _by_position(n, c, h, w, cout, kh, kw, sh, sw, ph, pw, dh, dw):
    return _convgemm_by_position((n, c, h, w), (cout, c, kh, kw), (sh, sw), (ph, pw),
                                 (dh, dw))


def _image_chunks(g, itemsize, threads):
    nb = g.N if g.pointwise else g.chunk(itemsize, threads)
    if g.pointwise and threads > 1:
        nb = max(1, -(-g.N // threads))
    return [(n0, min(g.N, n0 + nb)) for n0 in range(0, g.N, nb)]


def _forward_images(xa, w3, out, g, n0, n1):
    def task():
        cnt = n1 - n0
        if g.pointwise:
            np.matmul(w3, xa[n0:n1].reshape(cnt, g.G, g.Cg, g.P),
                      out=out[n0:n1].reshape(cnt, g.G, g.Cog, g.P))
            return
        cols = _pool.get((g.K, cnt * g.P), xa.dtype, "cols")
        im2col(xa[n0:n1], cols, g.args)
        cols3 = cols.reshape(g.G, g.Kg, cnt * g.P)
        if cnt == 1:
            _gemm(w3, cols3, out[n0].reshape(g.G, g.Cog, g.P))
        else:
            tmp = _pool.get((g.Cout, cnt * g.P), xa.dtype, "gemm_out")
            _gemm(w3, cols3, tmp.reshape(g.G, g.Cog, cnt * g.P))
            out[n0:n1].reshape(cnt, g.Cout, g.P)[...] = (
                tmp.reshape(g.Cout, cnt, g.P).transpose(1, 0, 2))
    return task


# Most bands of output rows one image's convolution is cut into (enough for a few threads to
# share them), and the fewest columns a band's GEMM should have.
_MAX_BANDS = 4
_BAND_COLUMNS = 128


def _row_bands(g, passes=1, itemsize=4):
    """How one image's GEMM is shared out. None for a convolution too small to split (it
    runs whole, on one thread). When the output has more pixels than channels:
    bands of output rows, each task gathering and multiplying its own band, nothing serial
    (returned as ``[(oh0, oh1), ...]``). Otherwise None: blocks of output channels over
    columns gathered in a parallel first phase (the thin-pixel shapes of late layers, where
    the weights are the big operand and each thread should read only its share of them).
    Decided by the shapes alone, never the thread count, so results are the same on any
    number of threads."""
    if g.P < g.Cout or g.OH < 2:
        return None
    if not (g.heavy_weights(itemsize) or g.macs * passes >= _BAND_MACS):
        return None
    bands = min(_MAX_BANDS, g.OH, max(2, g.P // _BAND_COLUMNS))
    return [(i * g.OH // bands, (i + 1) * g.OH // bands) for i in range(bands)]


def _channel_blocks(C, threads):
    """Up to ``threads`` contiguous blocks of input channels."""
    parts = min(threads, C)
    return [(i * C // parts, (i + 1) * C // parts) for i in range(parts)]


def _gather(xa, cols, g, oh0, oh1, team=False):
    """Fill ``cols`` with the columns of output rows ``[oh0, oh1)`` of the single image
    ``xa``. An unpadded 1x1 kernel (the strided downsamples) needs only a strided
    subsample of the input (``_kernels/subsample.pyx``: a fraction of im2col's per-call
    cost, and of NumPy's strided copy's), shared on the team when ``team`` (the product
    that follows runs there)."""
    if g.kh == g.kw == 1 and g.ph == g.pw == 0:
        _subsample(xa if xa.shape[0] == 1 else xa[:1], cols, g.sh, g.sw, oh0, oh1, g.OW, team)
    else:
        im2col(xa, cols, g.args, (oh0, oh1))


# Column buffers smaller than this are allocated fresh: a small np.empty (malloc's free
# lists) costs half a BufferPool lookup, ~0.5 us of a 1x1 downsample's ~20; larger ones come
# from the pool, which spares them their page faults.
_POOL_MIN_BYTES = 1 << 16


def _band_columns(xa, g, oh0, oh1, tag, team=False):
    """The columns of output rows ``[oh0, oh1)`` of the single image ``xa``: a view of the
    input for a pointwise convolution, else gathered into a fresh buffer (small) or this
    thread's pooled one."""
    if g.pointwise:
        return xa[0].reshape(g.K, g.P)[:, oh0 * g.OW:oh1 * g.OW]
    shape = (g.K, (oh1 - oh0) * g.OW)
    if g.K * shape[1] * xa.itemsize < _POOL_MIN_BYTES:
        cols = np.empty(shape, xa.dtype)
    else:
        cols = _pool.get(shape, xa.dtype, tag)
    _gather(xa, cols, g, oh0, oh1, team)
    return cols


def _one_image_1x1(xa, wa, g):
    """An unpadded 1x1 convolution of one image (``_ONE_IMAGE_1X1``: ResNet's downsamples)
    without ``_forward``'s dispatch: a 64-px downsample is a ~10 us product, and each
    Python step around it cost a tenth of a microsecond or more. ``xa`` C-contiguous."""
    out = np.empty((1, g.Cout, g.OH, g.OW), xa.dtype)
    if g.pointwise or g.K * g.P * xa.itemsize >= _POOL_MIN_BYTES:
        _single_image_gemm(xa, wa.reshape(g.Cout, g.K), out.reshape(g.Cout, g.P), g)
        return out
    # _band_columns' small strided case, inline
    cols = np.empty((g.K, g.P), xa.dtype)
    team = _on_team(g.Cout * g.K * g.P)
    _subsample(xa, cols, g.sh, g.sw, 0, g.OH, g.OW, team)
    _team_matmul(wa.reshape(g.Cout, g.K), cols, out=out.reshape(g.Cout, g.P))
    return out


def _single_image_gemm(xa, w2, out2, g):
    """One image whose output is not cut into row bands: gather its columns (im2col spreads
    a big gather over the team itself), then one GEMM through ``_team.matmul``, which cuts
    a big product in two by the shapes alone and runs the halves on the team without the
    GIL. (Blocks of output channels as Python tasks cost ~100 us a region in GIL hand-offs:
    more than a 64-px ResNet convolution gains from the second core.)"""
    team = _on_team(g.Cout * g.K * g.P)
    _team_matmul(w2, _band_columns(xa, g, 0, g.OH, "cols", team), out=out2)


# A strided 1x1 convolution over a batch runs on ``_kernels/convgemm`` (its AVX-512 copy:
# ``FASTER_THAN_BLAS``; the subsample folded into its packing) from this many input
# channels and output pixels an image; even batches of 16+ go to conv_direct first
# (``_use_direct``). OpenBLAS ran layer4.0's 16 products (512 x 256) @ (256 x 49) at 172
# GFLOP/s on 2 threads, convgemm the whole convolution at 193 (in-process A/B, 2 threads,
# us: 16x256x14x14 1201-1209 -> 1071-1079, 4x 309 -> 275; 1 thread 0.95-0.96x). Not taken:
# 128 input channels (faster alone, slower inside the 16x224 step in 6 runs of 7), 64
# (slower at 1 thread), 4x4 and 2x2 planes (1-21% slower). The rule reads the shapes alone,
# so the bits are the same on any number of threads (convgemm's cuts change none).
_POINTWISE_CONVGEMM_MIN_CHANNELS = 256
_POINTWISE_CONVGEMM_MIN_PIXELS = 49


def _pointwise_on_convgemm(g, dtype):
    return (_CONVGEMM_FASTER and dtype == np.float32 and not g.pointwise
            and g.C >= _POINTWISE_CONVGEMM_MIN_CHANNELS
            and g.P >= _POINTWISE_CONVGEMM_MIN_PIXELS)


def _pointwise_batch(xa, w2, out, g):
    """A 1x1 convolution without padding over a batch (ResNet's downsamples). With a stride
    and enough channels, convgemm's own GEMM gathers the strided input into its packing
    (``_pointwise_on_convgemm``). Otherwise the strided input subsampled once into a
    contiguous batch, then one batched product straight into ``out``, whole images shared
    out on the team without the GIL. No columns of several images side by side, so no
    transposing copy back. Quiet A/B against image chunks as Python tasks, 2 threads: N=16
    stride-2 downsamples 0.77-1.06x, finetune 32x64 0.91x."""
    if _pointwise_on_convgemm(g, xa.dtype):
        _convgemm(xa, w2.reshape(g.Cout, g.C, 1, 1), out, (g.sh, g.sw), (0, 0), (1, 1))
        return
    xs = xa
    if not g.pointwise:
        xs = np.empty((g.N, g.C, g.OH, g.OW), xa.dtype)
        _subsample(xa, xs, g.sh, g.sw, 0, g.OH, g.OW, _on_team(g.N * g.Cout * g.C * g.P))
    _team_matmul(w2, xs.reshape(g.N, g.C, g.P), out=out.reshape(g.N, g.Cout, g.P))


def _run_single_image_forward(xa, w3, out, g, threads):
    """A single image on ``threads`` threads, split into bands of output rows (see
    ``_row_bands``), each task gathering and multiplying its own band."""
    w2 = w3[0]
    out2 = out[0].reshape(g.Cout, g.P)
    bands = _row_bands(g, 1, xa.itemsize)

    def band(oh0, oh1):
        cols = _band_columns(xa, g, oh0, oh1, "cols_band")
        p0, p1 = oh0 * g.OW, oh1 * g.OW
        np.matmul(w2, cols, out=out2[:, p0:p1])
    run_tasks([lambda b=b: band(*b) for b in bands], threads)

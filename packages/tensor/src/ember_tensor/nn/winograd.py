"""3x3, stride-1, padding-1 convolutions by Winograd F(2x2, 3x3), and their input gradient.

Each 2x2 block of outputs is computed from a 4x4 input tile with 16 multiplies per
(input, output) channel pair instead of 36: the filters and the tiles are transformed
(``_kernels.winograd``), the 16 transformed positions become 16 GEMMs
``M[k] = U[k] @ V[k]`` (float32 in the AVX-512 copy: ``_kernels/winograd_gemm.h``, which reads
U and V as the transforms wrote them; otherwise one stacked ``np.matmul``), and the output
transform turns ``M`` back into output pixels (adding the bias on the way). Work is split
into blocks of tile rows small enough that a block's ``V`` and ``M`` stay in cache between
the transforms and the GEMMs; blocks are the tasks of ``_team.run_tasks``, or, on the own
float32 products, of one OpenMP region without the GIL (``forward_float``).

The filter transform ``U`` is recomputed on every call: weights may change in place between
calls (an optimizer step), and at the shapes where Winograd is used it costs a few percent
of the convolution.

The input gradient of such a convolution is the same kind of convolution of the output
gradient with the channel-swapped, rotated filters, so it runs through the same path
(``flipped=True`` transforms the filters that way without a copy). The weight gradient is
``winograd_grad.py``.

``conv.py`` decides when to come here (``use_winograd``). ``EMBER_WINOGRAD=0`` in the
environment turns the path off (read at import; ``set_enabled`` flips it for comparisons).
Accuracy: the transforms only add, subtract and halve. Against a float64 reference, float32
results measured within 4e-7 of the largest output magnitude (the tests assert 1e-5), and
float64 within 1e-15.
"""
import math
import os

import numpy as np

from .._kernels import parallel as _par
from .._kernels.winograd import (PRODUCTS_FAST, filter_transform, forward_float,
                                 input_transform, output_transform, products, tiles)
from .._kernels.winograd_cout import forward_cout
from .._team import can_split, run_tasks, serial_region
from ._util import BufferPool

# Tiles per block: V (16*Cin*T) and M (16*Cout*T) of a block should stay in L2 between the
# input transform, the GEMMs and the output transform, while T stays wide enough for BLAS.
_TARGET_TILES = 160
# Fewer channels than this stay on im2col (not measured below 16).
_MIN_CHANNELS = 16
# Thread rules (A/B-tuned on a quiet machine, like conv.py's; read at call time).
# From this many Winograd multiply-adds (16 per tile and channel pair, N*Cout*Cin*16*tiles)
# the forward's blocks of tiles and its filter transform are shared between threads. Each
# output is the same sum either way, so this changes speed only. ResNet-18's layer1 at 64 px
# is 4.2M, so 16M keeps it on one core; 4M is the quiet-machine A/B candidate (see conv.py's
# _SINGLE_SPLIT_MACS for why it is not the default yet).
_SPLIT_MACS = 16_000_000

# float32 products on winograd_gemm.h's kernel rather than BLAS (in the AVX-512 copy, where it
# wins: no packing of U[k] on every call; 1 thread, thread time, 16 products of 256x256 by
# 256x64 84 -> 116 GFLOP/s, 64x64 by 64x144 110 -> 112). A switch for A/B runs.
_OWN_PRODUCTS = PRODUCTS_FAST
# ... from this many input channels (the sum's length). 2 threads, kernel alone, in-process
# alternating rounds against BLAS's tasks: 1x64x16x16 (on one thread) 0.91x, 1x64x28x28
# 0.59-0.80x, 1x64x56x56 0.72-0.78x, 4x64x56x56 0.81x, 16x64x16x16 0.74x. (With Python tasks
# around it, 64 channels lost: 1x64x28x28 0.44 -> 0.47 ms.)
_OWN_MIN_CHANNELS = 64

# The own-products forward in one OpenMP region (``forward_float``) rather than Python tasks
# on the team; a switch for A/B runs and for the tests, which compare the two (same bits).
_ONE_REGION = True
# From this many multiply-adds, and this many tiles a thread, the own-products forward splits
# its blocks over the threads. A block of 8 tiles costs the products as much as one of 16
# (a 16-column vector, half empty): 1x128x8x8 (16 tiles) on two threads was ~1.5-3x slower.
# 1x64x16x16 (4.2M, two blocks of ~40 us) split ran 0.69x on a quiet host but 2.2x when the
# second CPU was slow (this VM's second CPU at times runs far slower); 1x64x28x28 (12.8M)
# gained in every round (0.59-0.80x).
_OWN_SPLIT_MACS = 8_000_000
_OWN_SPLIT_TILES = 16

# The own-products forward cut by output channels (``forward_cout``) rather than by tile rows
# where U is large against V: from this many filters (Cout*Cin; 1 MB of U) ...
_COUT_MIN_FILTERS = 128 * 128
# ... with at most this many tiles an output channel and at most _COUT_MAX_TILES in all (each
# chunk reads V whole). 2 threads, kernel alone, alternating processes, ms: 4x512x7x7 4.8-5.1
# -> 3.5-3.7, 16x512x7x7 13.6-14.2 -> 12.5-12.6, 1x256x14x14 0.99-1.13 -> 0.85,
# 4x256x14x14 2.7 -> 2.46, 1x128x28x28 0.72 -> 0.68; lost: 16x256x14x14 (3 tiles a channel)
# 9.8-10.3 -> 10.7, 4x128x28x28 (6) 2.4 -> 2.6, 1x64x28x28 (256 filters) 0.22 -> 0.23.
_COUT_TILES_A_CHANNEL = 2
_COUT_MAX_TILES = 1024
# A chunk's transformed filters (16 x chunk x Cin floats) fit this many bytes, to stay in L2
# between the filter transform and the products (128 KB-1 MB measured alike within the
# noise; 256 KB was best or level in each round)
_COUT_CHUNK_BYTES = 256 * 1024
# A switch for A/B runs and the tests
_CUT_COUT = True
# Tiles from which a convolution the cut by output channels takes comes here (use_winograd):
# 48 rather than 64-128 at 256-512 channels. 2 threads, Ember's conv2d, median ms,
# alternating processes, convgemm -> here: 4x512x7x7 (ResNet-18's layer4 at 4x224) forward
# 4.84-5.05 -> 3.69 (torch 4.0-4.1), fwd+bwd 16.7-17.4 -> 15.3 (torch 20.3); 1x256x14x14
# (49 tiles, layer3 at 1x224) forward 1.16 -> 0.87-0.91 (torch 1.05-1.08), fwd+bwd 4.2-4.8
# -> 3.0-3.2; 3x512x7x7 (48) forward 3.6 -> 2.8-2.9, fwd+bwd 13.7-15.1 -> 12.7-13.0
_COUT_MIN_TILES = 48

# Extra elements between the 16 matrices of U, V and M (see _padded).
_PAD = 16

_pool = BufferPool()


def _padded(tag, rows, cols, most_cols, dtype):
    """16 (rows, cols) matrices in a pooled buffer sized for ``most_cols`` columns, a cache
    line further apart than their size: 16 streams exactly 4 KiB-multiples apart (64x64
    floats is 16 KiB) would share one L1 set and evict each other."""
    ks = rows * most_cols + _PAD
    buf = _pool.get((16 * ks,), dtype, tag)
    item = buf.itemsize
    return np.ndarray((16, rows, cols), dtype, buffer=buf,
                      strides=(ks * item, cols * item, item))


def _from_environment() -> bool:
    return os.environ.get("EMBER_WINOGRAD", "1").strip() not in ("0", "false", "False", "")


# ``EMBER_WINOGRAD``, read once at import: read on every call it cost ~60 us a ResNet-18
# training step (~35 calls of ~1.7 us). Tests and A/B runs flip it with ``set_enabled``.
_ENABLED = _from_environment()


def enabled() -> bool:
    """Whether the Winograd path is on (``EMBER_WINOGRAD`` at import, or ``set_enabled``)."""
    return _ENABLED


def set_enabled(flag: bool) -> None:
    """Turn the Winograd path on or off for the process (``EMBER_WINOGRAD`` at run time)."""
    global _ENABLED
    _ENABLED = bool(flag)


def use_winograd(x_shape, w_shape, dtype, stride, padding, dilation, groups):
    """True when a convolution of these shapes should take the Winograd path: float32 or
    float64 (1.4-2.7x faster than im2col in both at ResNet shapes), 3x3, stride 1, padding
    1, dilation 1, one group, and big enough to beat im2col."""
    if (tuple(w_shape[2:]) != (3, 3) or tuple(stride) != (1, 1) or tuple(padding) != (1, 1)
            or tuple(dilation) != (1, 1) or groups != 1
            or np.dtype(dtype) not in (np.float32, np.float64)):
        return False
    if not enabled():
        return False
    N, C, H, W = x_shape
    Cout = w_shape[0]
    TH, TW = tiles(H, W)
    T = N * TH * TW
    if min(C, Cout) < _MIN_CHANNELS:
        return False
    if (_OWN_PRODUCTS and np.dtype(dtype) == np.float32 and C >= _OWN_MIN_CHANNELS
            and _cut_by_cout(C, Cout, T)):
        return T >= _COUT_MIN_TILES
    # Few tiles leave the GEMMs bound by reading U, which is 16/9 the size of the weights,
    # and the filter transform unpaid for; the break-even grows with the weights (measured:
    # 32 tiles at 64-128 channels, ~64 at 256, ~100 at 512).
    return T >= max(32, math.sqrt(C * Cout) / 4)


def _cut_by_cout(C, Cout, T):
    """Whether the own-products forward of ``T`` tiles goes by output channels."""
    return (_CUT_COUT and Cout * C >= _COUT_MIN_FILTERS and T <= _COUT_MAX_TILES
            and T <= _COUT_TILES_A_CHANNEL * Cout)


def _blocks(rows, TW, threads):
    """Tile-row ranges of at most ``_TARGET_TILES`` tiles (one tile row at least), their
    count a multiple of ``threads`` and their sizes within one row of each other, so the
    threads get equal shares: cut into blocks of the target size, 128 rows of 8x8 planes
    (32 images) were 40 + 40 + 40 + 8, and one thread did 80 rows while the other waited
    (2 threads, 32x128x8x8, alone and inside the finetune step: 2.45-2.7 -> 2.15-2.27 ms)."""
    per = max(1, _TARGET_TILES // max(TW, 1))
    count = -(-rows // per)
    count = min(rows, -(-count // threads) * threads)
    return [(i * rows // count, (i + 1) * rows // count) for i in range(count)]


def conv3x3(xa, wa, out, bias=None, flipped=False):
    """``out = conv2d(xa, wa, bias, padding=1)``; with ``flipped`` the filters are
    ``wa.transpose(0, 1).flip(2, 3)`` (the input gradient). All contiguous ndarrays of one
    dtype; ``out`` is ``(N, Cout', H, W)``."""
    N, C, H, W = xa.shape
    Cout = out.shape[1]
    w_shape = (C, Cout, 3, 3) if flipped else (Cout, C, 3, 3)
    if wa.shape != w_shape or out.shape != (N, Cout, H, W):
        raise RuntimeError(
            f"winograd conv3x3: input {xa.shape}, weight {wa.shape} and output {out.shape} "
            "do not match")
    TH, TW = tiles(H, W)
    rows = N * TH
    if out.size == 0:
        return out
    if C == 0:
        out[...] = 0 if bias is None else bias.reshape(1, Cout, 1, 1)
        return out
    if _ONE_REGION and _OWN_PRODUCTS and xa.dtype == np.float32 and C >= _OWN_MIN_CHANNELS:
        _forward_own(xa, wa, out, bias, flipped, rows, TW)
        return out
    U = _padded("U", Cout, C, C, xa.dtype)
    with serial_region() as budget:
        macs = N * Cout * C * 16 * TH * TW
        threads = budget if budget > 1 and can_split() and macs >= _SPLIT_MACS else 1
        parts = [(i * Cout // threads, (i + 1) * Cout // threads) for i in range(threads)]
        run_tasks([lambda r0=r0, r1=r1: filter_transform(wa, U, r0, r1, flipped)
                   for r0, r1 in parts], threads)
        blocks = _blocks(rows, TW, threads)
        most = max(r1 - r0 for r0, r1 in blocks) * TW
        tasks = [_block_task(xa, U, out, bias, r0, r1, TW, most) for r0, r1 in blocks]
        run_tasks(tasks, threads)
    return out


def _forward_own(xa, wa, out, bias, flipped, rows, TW):
    """The float32 forward on the own products, all of it in one OpenMP region without the
    GIL (``forward_float``); the blocks follow the thread count, the bits do not."""
    C, Cout = xa.shape[1], out.shape[1]
    budget = _par.get_num_threads()
    macs = Cout * C * 16 * rows * TW
    T = rows * TW
    if _cut_by_cout(C, Cout, T):
        _forward_cout(xa, wa, out, bias, flipped, T, budget if macs >= _OWN_SPLIT_MACS else 1)
        return
    threads = (budget if budget > 1 and macs >= _OWN_SPLIT_MACS
               and rows * TW >= _OWN_SPLIT_TILES * budget else 1)
    blocks = _blocks(rows, TW, threads)
    most = max(r1 - r0 for r0, r1 in blocks) * TW
    U = _padded("U", Cout, C, C, xa.dtype)
    V = _pool.get((threads * 16 * (C * most + _PAD),), xa.dtype, "V")
    M = _pool.get((threads * 16 * (Cout * most + _PAD),), xa.dtype, "M")
    forward_float(xa, wa, U, V, M, out, bias, len(blocks), threads, flipped)


def _forward_cout(xa, wa, out, bias, flipped, T, threads):
    """The float32 forward on the own products cut by output channels (``forward_cout``):
    chunks of a multiple of 8 output channels (the products' register tile), as many as
    ``_COUT_CHUNK_BYTES`` allows, in equal shares for the threads."""
    C, Cout = xa.shape[1], out.shape[1]
    per_thread = -(-Cout // threads)
    chunk = max(8, _COUT_CHUNK_BYTES // (64 * C) // 8 * 8)
    count = -(-per_thread // chunk)  # chunks a thread
    chunk = -(-per_thread // count) + 7 & ~7  # the share in equal chunks, whole tiles
    V = _pool.get((16 * (C * T + _PAD),), xa.dtype, "Vc")
    U = _pool.get((threads * 16 * (chunk * C + _PAD),), xa.dtype, "Uc")
    M = _pool.get((threads * 16 * (chunk * T + _PAD),), xa.dtype, "Mc")
    forward_cout(xa, wa, V, U, M, out, bias, chunk, threads, flipped)


def _block_task(xa, U, out, bias, row0, row1, TW, most):
    own = _OWN_PRODUCTS and xa.dtype == np.float32 and xa.shape[1] >= _OWN_MIN_CHANNELS

    def task():
        # one buffer per thread sized for the largest block; a shorter block uses a prefix
        T = (row1 - row0) * TW
        C, Cout = xa.shape[1], out.shape[1]
        V = _padded("V", C, T, most, xa.dtype)
        M = _padded("M", Cout, T, most, xa.dtype)
        input_transform(xa, V, row0, row1)
        if own:
            products(U, V, M)
        else:
            np.matmul(U, V, out=M)
        output_transform(M, out, bias, row0, row1)
    return task

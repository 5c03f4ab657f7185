"""The weight gradient of Winograd F(2x2, 3x3) convolutions (see ``winograd.py``).

``conv3x3_grad_weight`` reuses the forward's input transform, transforms the output
gradient the way the output transform's adjoint does, sums ``Z[k] @ V[k]^T`` over tiles in
16 GEMMs, and maps that back to 3x3 filters; it wins over im2col where the forward does
(1.1-2x measured at ResNet shapes, same size rule).

In the AVX-512 copy, float32 runs all of that in one OpenMP region without the GIL
(``_kernels/winograd_grad.pyx``, ``grad_weight_float``) on its own products; elsewhere, and
in float64, as Python tasks on the team around ``np.matmul``.
"""
import numpy as np

from .._kernels import parallel as _par
from .._kernels.winograd import (filter_grad_transform, grad_output_transform,
                                 input_transform, tiles)
from .._kernels.winograd_grad import FAST as _REGION_FAST
from .._kernels.winograd_grad import grad_weight_float
from .._team import can_split, run_tasks, serial_region
from ._util import BufferPool
from .winograd import _padded

# The float32 gradient in one region (a switch for A/B runs and for the tests, which compare
# it with the tasks). Its sums run in another order than BLAS's, so which path runs follows
# the dtype and the CPU level only, never the thread count.
_ONE_REGION = _REGION_FAST
# Tiles per block in the region: V, its transpose and Z of a block, (2*Cin + Cout)*16*T
# floats, shared by the threads
_REGION_TARGET_TILES = 64
# From this many multiply-adds (N*Cout*Cin*16*tiles) the region runs on every thread of the
# budget, as the forward's _OWN_SPLIT_MACS. 1x64x16x16 (4.2M): on a quiet host split 93-118
# vs 127-137 us alone (layer1's fwd+bwd 0.43 vs 0.45 ms), but in two earlier rounds 0.62-0.65
# ms against the tasks' 0.50-0.51 (a slow phase of the second CPU, as the forward saw), and
# level in the tutorial step (alternating processes, best medians 20.27 vs 20.20 ms): it stays
# on one core
_REGION_SPLIT_MACS = 8_000_000
# The region carries dU (16*Cout*Cin floats) from block to block, a read and a write of it a
# block; where dU outgrows the cache and there are more than two blocks, the tasks (their own
# partials, summed once) win. Conv backward at 2 threads, fwd+bwd, region vs tasks (median
# of 9, two rounds): 16x512x7x7 (16 MB of dU, 4 blocks) 66.6/54.7 vs 43.3/44.7 ms,
# 8x512x7x7 (2 blocks) 28.0/26.6 vs 29.6/26.0, 4x512x7x7 (1 block) 19.1/15.2 vs 20.8/16.5,
# 16x256x14x14 (4 MB, 13 blocks) 30.6/31.4 vs 33.6/34.1. Shapes only: same bits on any
# thread count.
_REGION_MAX_CARRIED_BYTES = 8 << 20
_REGION_ANY_SIZE_BLOCKS = 2
_region_pool = BufferPool(capacity=8)

# From this many the weight gradient sums its tiles in ``_GW_SPANS`` partials, one task each.
# Partials round differently from one sum, so their number follows the shapes, never the
# thread count: the same bits on any number of threads (one thread runs them in turn, and
# pays for the extra partial and its sum: ~16*Cout*Cin adds).
_GW_SPLIT_MACS = 16_000_000
_GW_SPANS = 2


def conv3x3_grad_weight(xa, go, gw):
    """``gw`` = the weight gradient of ``conv2d(xa, w, padding=1)`` for the output gradient
    ``go``. All contiguous ndarrays of one dtype: ``xa`` ``(N, Cin, H, W)``, ``go`` ``(N,
    Cout, H, W)``, ``gw`` ``(Cout, Cin, 3, 3)``.

    Through ``M = U * V`` and ``Y = A^T M A``, the gradient of the transformed filters is
    ``dU[k] = sum over tiles of Z[k] @ V[k]^T`` with ``Z = A g A^T`` the transformed output
    gradient, and ``gw = G^T dU G``. Each task owns a fixed range of tile rows and its own
    ``dU`` partial; partials are added in task order, so results do not depend on which
    thread ran what."""
    N, C, H, W = xa.shape
    Cout = go.shape[1]
    if go.shape != (N, Cout, H, W) or gw.shape != (Cout, C, 3, 3) or not (
            xa.dtype == go.dtype == gw.dtype):
        raise RuntimeError(
            f"winograd conv3x3_grad_weight: input {xa.shape}, grad_output {go.shape} and "
            f"weight gradient {gw.shape} do not match")
    TH, TW = tiles(H, W)
    rows = N * TH
    if gw.size == 0:
        return gw
    if rows == 0 or W == 0:
        gw[...] = 0
        return gw
    if _ONE_REGION and xa.dtype == np.float32 and C > 0 and Cout > 0 and _region_fits(
            C, Cout, N * TH * TW):
        _grad_weight_region(xa, go, gw, TH, TW)
        return gw
    with serial_region() as budget:
        macs = N * Cout * C * 16 * TH * TW
        count = min(_GW_SPANS if macs >= _GW_SPLIT_MACS else 1, rows)
        threads = min(budget, count) if can_split() else 1
        spans = [(i * rows // count, (i + 1) * rows // count) for i in range(count)]
        parts = [_padded(f"dU{i}", Cout, C, C, xa.dtype) for i in range(count)]
        per = max(1, _GW_TARGET_TILES // TW)
        most = min(per, max(r1 - r0 for r0, r1 in spans)) * TW
        run_tasks([_grad_weight_task(xa, go, dU, r0, r1, per, TW, most)
                   for dU, (r0, r1) in zip(parts, spans)], threads)
        chans = [(i * Cout // threads, (i + 1) * Cout // threads) for i in range(threads)]
        run_tasks([lambda c0=c0, c1=c1: _finish_grad_weight(parts, gw, c0, c1)
                   for c0, c1 in chans], threads)
    return gw


# Tiles per block of the weight gradient: its GEMMs sum over tiles, so a wider block means
# fewer passes over the (16, Cout, Cin) partial
_GW_TARGET_TILES = 640


def _region_fits(C: int, Cout: int, T: int) -> bool:
    """Whether the one-region gradient suits ``T`` tiles of ``C`` -> ``Cout`` channels."""
    return (16 * C * Cout * 4 <= _REGION_MAX_CARRIED_BYTES
            or T <= _REGION_ANY_SIZE_BLOCKS * _REGION_TARGET_TILES)


def _grad_weight_task(xa, go, dU, row0, row1, per, TW, most):
    def task():
        C, Cout = xa.shape[1], go.shape[1]
        first = True
        for r0 in range(row0, row1, per):
            r1 = min(row1, r0 + per)
            T = (r1 - r0) * TW
            V = _padded("V", C, T, most, xa.dtype)
            Z = _padded("Z", Cout, T, most, xa.dtype)
            input_transform(xa, V, r0, r1)
            grad_output_transform(go, Z, r0, r1)
            if first:
                np.matmul(Z, V.transpose(0, 2, 1), out=dU)
                first = False
            else:
                tmp = _padded("dU_block", Cout, C, C, xa.dtype)
                np.matmul(Z, V.transpose(0, 2, 1), out=tmp)
                np.add(dU, tmp, out=dU)
        if first:
            dU[...] = 0
    return task


def _finish_grad_weight(parts, gw, c0, c1):
    total = parts[0]
    for part in parts[1:]:
        total[:, c0:c1] += part[:, c0:c1]
    filter_grad_transform(total, gw, c0, c1)


def _grad_weight_region(xa, go, gw, TH, TW):
    """The float32 gradient in one OpenMP region (``grad_weight_float``); the threads and
    the blocks change its speed, never its bits."""
    N, C = xa.shape[:2]
    Cout = go.shape[1]
    budget = _par.get_num_threads()
    threads = budget if N * Cout * C * 16 * TH * TW >= _REGION_SPLIT_MACS else 1
    per = max(1, _REGION_TARGET_TILES // TW)
    most = min(per, TH) * TW
    V = _region_pool.get((16 * (C * most + 16),), np.float32, "V")
    Vt = _region_pool.get((16 * (C * most + 16),), np.float32, "Vt")
    Z = _region_pool.get((16 * (Cout * most + 16),), np.float32, "Z")
    dU = _region_pool.get((16 * (Cout * C + 16),), np.float32, "dU")
    grad_weight_float(xa, go, gw, V, Vt, Z, dU, per, threads)

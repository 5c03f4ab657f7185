"""Winograd's float32 forward cut by output channels (``nn/winograd.py``, ``_forward_cout``):
for layers of few tiles and many channels (ResNet-18's layer4 on 7x7 planes at small
batches, layer3 at batch 1), in one OpenMP region without the GIL.

First every tile's input transform into one shared ``V`` (each thread its share of the
input channels), a barrier; then chunks of output channels, each on one thread: the chunk's
filters transformed into that thread's ``U`` (small enough to stay in its L2 cache), the 16
products of that ``U`` with all of ``V``, and the output transform of the chunk's channels.

Cut by tile rows (``winograd.forward_float``) with so few tiles, each thread multiplied all
of ``U`` (16 x Cout x Cin floats: 16.7 MB at 512 channels, past the caches) into its few
tiles, and the filter transform first wrote all of ``U`` to memory for the products to
read back. Every output is computed as there (one fused multiply-add chain over the input
channels in order, then the same output transform), so the bits are forward_float's on
any chunk size and thread count.
"""
from cython.parallel cimport parallel, prange, threadid
from libc.stdlib cimport free, malloc

from .winograd cimport filter_transform_into, output_transform_span, tile_transform_span

import numpy as np

from .winograd_args import float_arrays

cdef extern from "omp_shim.h" nogil:
    void ember_team_barrier()

cdef extern from "winograd_gemm.h" nogil:
    void wg_products_float(const float* U, Py_ssize_t su, const float* V, Py_ssize_t sv,
                           float* M, Py_ssize_t sm, Py_ssize_t R, Py_ssize_t K, Py_ssize_t T)


def forward_cout(x, w, V, U, M, y, bias, int chunk, int threads, bint flipped=False):
    """``y = conv2d(x, w, bias, padding=1)`` (with ``flipped`` the filters are
    ``w.transpose(0, 1).flip(2, 3)``), float32, all C-contiguous: ``x`` ``(N, C, H, W)``,
    ``y`` ``(N, Cout, H, W)``. Scratch, 1-D float32: ``V`` 16 matrices ``(C, T)`` for all
    ``T`` tiles, ``V.size // 16`` apart; ``U`` and ``M`` ``threads`` slices of 16 matrices
    ``(chunk, C)`` and ``(chunk, T)``, ``U.size // (16 * threads)`` and ``M.size // (16 *
    threads)`` apart. Output channels go in chunks of ``chunk``, the chunks in ``threads``
    contiguous shares."""
    float_arrays("forward_cout", x, w, V, U, M, y)
    if x.dtype != np.float32:
        raise RuntimeError("winograd forward_cout: expected float32 arrays")
    if not (x.flags.c_contiguous and w.flags.c_contiguous and V.flags.c_contiguous
            and U.flags.c_contiguous and M.flags.c_contiguous and y.flags.c_contiguous):
        raise RuntimeError("winograd forward_cout: arrays must be C-contiguous")
    if x.ndim != 4 or w.ndim != 4 or y.ndim != 4 or V.ndim != 1 or U.ndim != 1 or M.ndim != 1:
        raise RuntimeError("winograd forward_cout: expected 4-D input, weight and output")
    N, C, H, W = x.shape
    Cout = y.shape[1]
    if y.shape != (N, Cout, H, W) or w.shape != ((C, Cout) if flipped else (Cout, C)) + (3, 3):
        raise RuntimeError("winograd forward_cout: input, weight and output do not match")
    if bias is not None and (not isinstance(bias, np.ndarray) or bias.dtype != x.dtype
                             or bias.shape != (Cout,) or not bias.flags.c_contiguous):
        raise RuntimeError("winograd forward_cout: bias does not match the output")
    T = N * ((H + 1) // 2) * ((W + 1) // 2)
    if threads < 1 or chunk < 1 or C == 0 or T == 0 or Cout == 0:
        raise RuntimeError("winograd forward_cout: bad thread count or chunk, or empty")
    sv = V.size // 16
    su = U.size // (16 * threads)
    sm = M.size // (16 * threads)
    if sv < C * T or su < chunk * C or sm < chunk * T:
        raise RuntimeError("winograd forward_cout: V, U or M too small")
    _run(x, w, V, U, M, y, bias, chunk, threads, flipped, sv, su, sm)


cdef _run(const float[:, :, :, ::1] x, const float[:, :, :, ::1] w, float[::1] V,
          float[::1] U, float[::1] M, float[:, :, :, ::1] y, bias, Py_ssize_t chunk,
          int threads, bint flipped, Py_ssize_t sv, Py_ssize_t su, Py_ssize_t sm):
    cdef Py_ssize_t C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t Cout = y.shape[1], rows = x.shape[0] * ((H + 1) // 2)
    cdef Py_ssize_t T = rows * ((W + 1) // 2)
    cdef Py_ssize_t slen = 4 * (2 * ((W + 1) // 2) + 2) + W
    cdef Py_ssize_t count = (Cout + chunk - 1) // chunk
    cdef Py_ssize_t wo = C if flipped else Cout, wi = Cout if flipped else C
    cdef Py_ssize_t p, j, c0, c1, co0, co1
    cdef int tid
    cdef const float[::1] b
    cdef const float* bp = NULL
    if bias is not None:
        b = bias
        bp = &b[0]
    cdef float* scratch = <float*> malloc(threads * slen * sizeof(float))
    if scratch == NULL:
        raise MemoryError()
    cdef const float* wp = &w[0, 0, 0, 0]
    cdef const float* xp = &x[0, 0, 0, 0]
    cdef float* Vp = &V[0]
    cdef float* Up = &U[0]
    cdef float* Mp = &M[0]
    cdef float* yp = &y[0, 0, 0, 0]
    with nogil, parallel(num_threads=threads):
        for p in prange(threads, schedule="static"):
            c0 = p * C // threads
            c1 = (p + 1) * C // threads
            tile_transform_span(xp, Vp + c0 * T, sv, T, C, H, W, 0, rows, c0, c1, False,
                                scratch + p * slen)
        ember_team_barrier()  # V is whole before any chunk reads it
        for j in prange(count, schedule="static"):
            tid = threadid()
            co0 = j * chunk
            co1 = co0 + chunk if co0 + chunk < Cout else Cout
            filter_transform_into(wp, Up + tid * 16 * su, wo, wi, su, co0, co1, flipped)
            wg_products_float(Up + tid * 16 * su, su, Vp, sv, Mp + tid * 16 * sm, sm,
                              co1 - co0, C, T)
            output_transform_span(Mp + tid * 16 * sm, sm, T, yp, bp, Cout, H, W, 0, rows,
                                  co0, co1, scratch + tid * slen)
    free(scratch)

"""The float32 weight gradient of Winograd F(2x2, 3x3) (``nn/winograd_grad.py``) in one
OpenMP region without the GIL.

For each block of tile rows (within one image): the input transform ``V = B^T d B`` and
the output gradient's ``Z = A g A^T`` (``winograd.pyx``'s transforms, each thread its share
of the channels, ``V`` turned into ``Vt`` on the way), a barrier, the 16 products
``dU[k] (+)= Z[k] @ Vt[k]`` (``winograd_grad.h``; each thread whole ``(k, 24 rows)``
units), a barrier; after the last block ``gw = G^T dU G``, each thread its output channels.
Python tasks that took the GIL between those steps ran one 64-channel 16x16 image slower on
two threads than on one.
"""
from cython.parallel cimport parallel, prange
from libc.stdlib cimport free, malloc

from .winograd cimport tile_transform_rows

import numpy as np

cdef extern from "omp_shim.h" nogil:
    void ember_team_barrier()

cdef extern from "winograd_grad.h" nogil:
    void wgg_mm_rows(const float* a, Py_ssize_t lda, const float* b, Py_ssize_t ldb,
                     float* m, Py_ssize_t ldm, Py_ssize_t r0, Py_ssize_t r1, Py_ssize_t S,
                     Py_ssize_t K, int add)
    void wgg_transpose(const float* s, Py_ssize_t lds, float* d, Py_ssize_t ldd,
                       Py_ssize_t rows, Py_ssize_t cols)
    void wgg_filter_grad_rows(const float* dU, Py_ssize_t ks, float* gw, Py_ssize_t Cin,
                              Py_ssize_t r0, Py_ssize_t r1)
    int wgg_fast()

# True in the AVX-512 copy, where the region beats BLAS (elsewhere its products are a plain
# loop, kept so every level can test it)
FAST = bool(wgg_fast())

cdef enum:
    # dU rows a unit of the products: a multiple of both tiles' heights (6 and 8)
    UNIT_ROWS = 24


def grad_weight_float(x, g, gw, V, Vt, Z, dU, int per, int threads):
    """``gw`` = the weight gradient of ``conv2d(x, w, padding=1)`` for the output gradient
    ``g``, float32, C-contiguous: ``x`` ``(N, C, H, W)``, ``g`` ``(N, Cout, H, W)``, ``gw``
    ``(Cout, C, 3, 3)``. Blocks: each image's ``TH`` tile rows cut into ``ceil(TH / per)``
    near-equal ranges, taken in order. ``V``, ``Vt``,
    ``Z`` and ``dU`` are 1-D float32 work buffers of 16 matrices each, ``size // 16``
    elements apart: ``(C, T)``, ``(T, C)``, ``(Cout, T)`` for the largest block's ``T``
    tiles, and ``(Cout, C)``. Every element of ``gw`` is computed the same way whatever
    ``per`` and ``threads``: only speed depends on them."""
    arrays = (x, g, gw, V, Vt, Z, dU)
    for a in arrays:
        if not isinstance(a, np.ndarray) or a.dtype != np.float32 or not a.flags.c_contiguous:
            raise RuntimeError("winograd grad_weight_float: expected C-contiguous float32 "
                               "ndarrays")
    if x.ndim != 4 or g.ndim != 4 or gw.ndim != 4 or any(a.ndim != 1 for a in arrays[3:]):
        raise RuntimeError("winograd grad_weight_float: expected 4-D arrays and 1-D buffers")
    N, C, H, W = x.shape
    Cout = g.shape[1]
    if g.shape != (N, Cout, H, W) or gw.shape != (Cout, C, 3, 3):
        raise RuntimeError("winograd grad_weight_float: input, output gradient and weight "
                           "gradient do not match")
    if threads < 1 or per < 1 or N == 0 or H == 0 or W == 0 or C == 0 or Cout == 0:
        raise RuntimeError("winograd grad_weight_float: bad thread or block size, or empty")
    most = min(per, (H + 1) // 2) * ((W + 1) // 2)
    if (V.size // 16 < C * most or Vt.size // 16 < C * most or Z.size // 16 < Cout * most
            or dU.size // 16 < Cout * C):
        raise RuntimeError("winograd grad_weight_float: work buffers too small")
    _run(x, g, gw, V, Vt, Z, dU, per, threads)


cdef void _transform_share(const float* x, const float* g, float* V, Py_ssize_t sv,
                           float* Vt, Py_ssize_t svt, float* Z, Py_ssize_t sz, Py_ssize_t N,
                           Py_ssize_t C, Py_ssize_t Cout, Py_ssize_t H, Py_ssize_t W,
                           Py_ssize_t n, Py_ssize_t lo, Py_ssize_t hi, Py_ssize_t p,
                           Py_ssize_t team, float* scratch) noexcept nogil:
    # share p of team of one block's transforms: input channels [c0, c1) into V and then Vt,
    # output-gradient channels [d0, d1) into Z. The block lies in image n, so the transforms
    # see that image's channels from c0 on as a one-image tensor of c1 - c0 channels
    cdef Py_ssize_t T = (hi - lo) * ((W + 1) // 2)
    cdef Py_ssize_t c0 = p * C // team, c1 = (p + 1) * C // team
    cdef Py_ssize_t d0 = p * Cout // team, d1 = (p + 1) * Cout // team
    cdef Py_ssize_t k
    if c1 > c0:
        tile_transform_rows(x + (n * C + c0) * H * W, V + c0 * T, sv, c1 - c0, H, W, lo, hi,
                            False, scratch)
        for k in range(16):
            wgg_transpose(V + k * sv + c0 * T, T, Vt + k * svt + c0, C, c1 - c0, T)
    if d1 > d0:
        tile_transform_rows(g + (n * Cout + d0) * H * W, Z + d0 * T, sz, d1 - d0, H, W, lo,
                            hi, True, scratch)


cdef void _product_unit(const float* Z, Py_ssize_t sz, const float* Vt, Py_ssize_t svt,
                        float* dU, Py_ssize_t sdu, Py_ssize_t C, Py_ssize_t Cout, Py_ssize_t T,
                        Py_ssize_t u, Py_ssize_t per_k, bint add) noexcept nogil:
    # unit u: matrix k = u // per_k, dU rows from UNIT_ROWS * (u % per_k)
    cdef Py_ssize_t k = u // per_k
    cdef Py_ssize_t r0 = (u - k * per_k) * UNIT_ROWS
    cdef Py_ssize_t r1 = r0 + UNIT_ROWS if r0 + UNIT_ROWS < Cout else Cout
    wgg_mm_rows(Z + k * sz, T, Vt + k * svt, C, dU + k * sdu, C, r0, r1, C, T, add)


cdef _run(const float[:, :, :, ::1] x, const float[:, :, :, ::1] g, float[:, :, :, ::1] gw,
          float[::1] V, float[::1] Vt, float[::1] Z, float[::1] dU, Py_ssize_t per,
          int threads):
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t Cout = g.shape[1]
    cdef Py_ssize_t TH = (H + 1) // 2, TW = (W + 1) // 2
    cdef Py_ssize_t count = (TH + per - 1) // per
    cdef Py_ssize_t sv = V.shape[0] // 16, svt = Vt.shape[0] // 16
    cdef Py_ssize_t sz = Z.shape[0] // 16, sdu = dU.shape[0] // 16
    cdef Py_ssize_t per_k = (Cout + UNIT_ROWS - 1) // UNIT_ROWS
    cdef Py_ssize_t slen = 4 * (2 * TW + 2) + W
    cdef Py_ssize_t b, n, j, lo, hi, p, u
    cdef float* scratch = <float*> malloc(threads * slen * sizeof(float))
    if scratch == NULL:
        raise MemoryError()
    cdef const float* xp = &x[0, 0, 0, 0]
    cdef const float* gp = &g[0, 0, 0, 0]
    cdef float* gwp = &gw[0, 0, 0, 0]
    cdef float* Vp = &V[0]
    cdef float* Vtp = &Vt[0]
    cdef float* Zp = &Z[0]
    cdef float* dUp = &dU[0]
    with nogil, parallel(num_threads=threads):
        # every thread walks the blocks in order; the pranges share out each step
        for b in range(N * count):
            n = b // count
            j = b - n * count
            lo = j * TH // count
            hi = (j + 1) * TH // count
            for p in prange(threads, schedule="static"):
                _transform_share(xp, gp, Vp, sv, Vtp, svt, Zp, sz, N, C, Cout, H, W, n, lo,
                                 hi, p, threads, scratch + p * slen)
            ember_team_barrier()  # V^T and Z are whole before any product reads them
            for u in prange(16 * per_k, schedule="static"):
                _product_unit(Zp, sz, Vtp, svt, dUp, sdu, C, Cout, (hi - lo) * TW, u, per_k,
                              b > 0)
            ember_team_barrier()  # the next block's transforms overwrite V, Vt and Z
        for p in prange(threads, schedule="static"):
            wgg_filter_grad_rows(dUp, sdu, gwp, C, p * Cout // threads,
                                 (p + 1) * Cout // threads)
    free(scratch)

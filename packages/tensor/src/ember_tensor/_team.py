"""Tasks and GEMMs on the OpenMP team, BLAS held at one thread per task.

im2col's OpenMP team and OpenBLAS's thread pool are two pools that take turns on the same
cores; each leaves its threads spinning after its turn, so on a 2-core machine the other
pool's work runs at a fraction of its speed (measured 3-8x slower convolutions at ResNet
shapes). Here every task runs im2col *and* its GEMM on one thread, and parallelism comes
from running tasks side by side on the same OpenMP team the elementwise, pooling and norm
kernels use (``parallel.run_tasks``): one pool, warm for whichever op comes next. (A pool
of Python threads beside the team was the previous design; each op then woke a sleeping
thread of the other pool.) Tasks are claimed dynamically, so when the OS preempts a worker
(a busy machine) the caller's thread takes the remaining tasks.

Ember's matrix products (``matmul``: 2-D, batched, matrix-vector) go the same way. They
call the cblas of NumPy's OpenBLAS directly (``_kernels/blas.pyx``, no NumPy dispatch, no
GIL), pinned to the caller, or cut into row or column blocks and batch items run on the
team, so OpenBLAS's pool does not start for them. Where those cblas symbols are missing
(another NumPy build) the products go through ``np.matmul`` the same way.

OpenBLAS's ``openblas_set_num_threads_local`` (0.3.27+) pins BLAS to one thread for the
calling thread only, leaving the user's NumPy alone. Without it (another BLAS) tasks run
one after another on the caller's thread, with BLAS threading as it was.
"""
import contextlib
import ctypes

import numpy as np

from ._kernels import blas as _blas
from ._kernels import parallel as _par


def _find_openblas():
    """The OpenBLAS loaded in this process that has ``openblas_set_num_threads_local``
    (a ctypes library), or None."""
    paths = []
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                fields = line.split()
                if len(fields) >= 6 and "openblas" in fields[-1].lower():
                    if fields[-1] not in paths:
                        paths.append(fields[-1])
    except OSError:
        return None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        if hasattr(lib, "openblas_set_num_threads_local"):
            return lib
    return None


# cblas entry points of an ILP64 OpenBLAS (64-bit sizes, as _kernels/blas.pxd declares
# them): NumPy's wheels bundle scipy-openblas64, whose names carry a prefix and a suffix
_CBLAS_NAMES = ("cblas_sgemm", "cblas_dgemm", "cblas_sgemv", "cblas_dgemv")
_ILP64_SPELLINGS = (("scipy_", "64_"), ("", "64_"))


def _cblas_addresses(lib: ctypes.CDLL | None) -> tuple[int, int, int, int]:
    """Addresses of sgemm, dgemm, sgemv, dgemv in ``lib`` (ILP64 names only), else zeros."""
    for prefix, suffix in _ILP64_SPELLINGS:
        try:
            fns = [getattr(lib, prefix + name + suffix) for name in _CBLAS_NAMES]
        except AttributeError:
            continue
        a, b, c, d = (ctypes.cast(fn, ctypes.c_void_p).value or 0 for fn in fns)
        return a, b, c, d
    return 0, 0, 0, 0


_openblas = _find_openblas()
_blas_local = None
if _openblas is not None:
    _blas_local = _openblas.openblas_set_num_threads_local
    _blas_local.argtypes = [ctypes.c_int]
    _blas_local.restype = ctypes.c_int
# the same function as a C address, for the OpenMP team's threads to call without the GIL
_blas_local_address = (ctypes.cast(_blas_local, ctypes.c_void_p).value or 0
                       if _blas_local is not None else 0)


def _bind_cblas() -> bool:
    """Point ``_kernels/blas`` at this process's cblas; False (NumPy does the products)
    when the OpenBLAS is not ILP64 or cannot be pinned per thread."""
    addresses = _cblas_addresses(_openblas) if _openblas is not None else (0, 0, 0, 0)
    _blas.bind(*addresses, _blas_local_address)
    return bool(_blas.bound())


_bind_cblas()


def can_split():
    """True when tasks may run on several threads (BLAS can be held at one per thread)."""
    return _blas_local is not None


@contextlib.contextmanager
def serial_region():
    """OpenMP and (when controllable) BLAS at one thread for the calling thread; yields the
    thread count that was in force, the budget for ``run_tasks``."""
    threads = _par.get_num_threads()
    if threads != 1:
        _par.set_num_threads(1)
    old_blas = _blas_local(1) if _blas_local is not None else None
    try:
        yield threads
    finally:
        if _blas_local is not None:
            _blas_local(old_blas)
        if threads != 1:
            _par.set_num_threads(threads)


def run_tasks(tasks, threads):
    """Run every callable in ``tasks`` (independent of each other) on up to ``threads``
    threads, the caller's included; returns when all are done, re-raising the first error.
    Call inside ``serial_region``."""
    if threads <= 1 or len(tasks) <= 1 or _blas_local is None:
        for task in tasks:
            task()
        return
    _par.run_tasks(list(tasks), threads, _blas_local_address)


# OpenBLAS runs a GEMM of up to this many multiply-adds on the calling thread (its
# SMP_THRESHOLD_MIN * GEMM_MULTITHREAD_THRESHOLD), a GEMV of fewer matrix elements than
# the second (2304 * GEMM_MULTITHREAD_THRESHOLD); past them it would wake its own pool.
_BLAS_THREADED_MACS = 65536 * 4
_BLAS_THREADED_GEMV = 2304 * 4
# A GEMM of this many multiply-adds or more is cut in two (rows, or columns when it has more
# columns than rows). With Python tasks 128^3 (2M) split was 2x slower; on the team without
# the GIL, 4.7M multiply-adds split run 96 -> 58 us (M=128, K=576, N=64).
# The cut depends on shapes alone, so the bits are the same on 1 or 2 threads.
_GEMM_SPLIT_MACS = 4_000_000
# From this many multiply-adds in all (every batch item) the team runs a product's pieces;
# below, the calling thread runs them with BLAS pinned to it. Quiet A/B, 2 threads, 4M vs 8M:
# the 64-px ResNet's stride-2 3x3 convolutions (4.7M-9.4M) 0.57-0.79x, its no-grad forward
# 0.88x; 3M gained nothing more.
_GEMM_TEAM_MACS = 4_000_000
# A matrix-vector product of this many matrix elements or more is cut in two and run on the
# team (memory-bound: a thread streams ~1 MB of float32 in tens of microseconds).
_GEMV_SPLIT_ELEMENTS = 1 << 18
# A batch of this many items or more already gives every thread whole items: no cuts.
_SPLIT_BATCH_BELOW = 4
# A float32 row-major matrix of this many elements or more times at most four columns (one
# 64-px image's layer4 convolution: (512 x 4608) @ (4608 x 4)) runs in _kernels/skinny.h,
# one pass over the matrix, instead of OpenBLAS, which spends its time packing. 1 thread,
# best of 30: (512 x 4608) 676 -> 223 us on AVX-512 (AVX2 584 -> 385, baseline 820 -> 646),
# (256 x 2304) 137 -> 57; at (512 x 256), 131k elements, OpenBLAS is faster (11 vs 17 us).
# The same threshold sends that convolution's input gradient, the transposed matrix times
# (512 x 4), to skinny.h's axpys: inside the training step 1x64 (1 thread, load ~6, 3
# alternating rounds) 3.69/2.76/1.64 -> 1.01/1.07/0.92 ms for (4608 x 512)^T, 0.96/0.80/0.84
# -> 0.57/0.48/0.46 for (2304 x 512)^T.
_SKINNY_MIN_ELEMENTS = 1 << 19
# A float32 product with at most four inner elements and an output of this many elements or
# more (that convolution's weight gradient, (512 x 4) @ (4 x 4608)) goes there too. 1 thread,
# 9.4 MB output, best of 15, hot / cold cache (load ~5): AVX-512 1254 -> 924 / 1572 -> 1197
# us, AVX2 755 -> 608 / 1427 -> 965, baseline 727 -> 521 / 1480 -> 1043. At 1.2M elements
# (the 3x3/2's (512 x 4) @ (4 x 2304)) level alone, but inside the step (1 thread, load ~9,
# 3 alternating rounds) 547-714 -> 478-528 us, so it starts below that.
_SKINNY_OUTER_MIN_ELEMENTS = 1 << 20
_blas.set_skinny(_SKINNY_MIN_ELEMENTS, _SKINNY_OUTER_MIN_ELEMENTS)


def on_team(macs: int) -> bool:
    """Whether ``matmul`` hands a product of ``macs`` multiply-adds in all to the team."""
    return macs >= _GEMM_TEAM_MACS


def _blocks(n, pieces, multiple):
    """``pieces`` contiguous ranges covering ``range(n)``, multiples of ``multiple`` long
    (the last takes the rest) so BLAS keeps its register tiles whole."""
    per = -(-n // pieces)
    step = max(multiple, (per + multiple - 1) // multiple * multiple)
    return [(i, min(n, i + step)) for i in range(0, n, step)]


def matmul(x: np.ndarray, y: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``np.matmul(x, y)``, computed on the OpenMP team; OpenBLAS's own pool never starts.

    Float32/float64 products of up to 3 dims go to cblas directly (``_kernels/blas.pyx``):
    pinned to the caller, or cut in two by rows or columns (by batch items for a batch)
    and run on the team; the cuts depend on the shapes alone, so the bits are the same on
    any number of threads. Anything else goes to ``np.matmul`` (``_numpy_matmul``).
    ``out`` (C-contiguous, overlapping neither operand) receives the product in place."""
    res = _blas.matmul(x, y, _GEMM_SPLIT_MACS, _GEMM_TEAM_MACS, _GEMV_SPLIT_ELEMENTS,
                       _SPLIT_BATCH_BELOW, out)
    if res is not None:
        return res
    if out is None:
        return _numpy_matmul(x, y)
    out[...] = _numpy_matmul(x, y)
    return out


def _numpy_matmul(x, y):
    """``np.matmul`` with BLAS held to the team: a product OpenBLAS would thread runs on the
    calling thread with BLAS pinned to it, or (2-D, from ``_GEMM_SPLIT_MACS``) cut into two
    tasks by rows or columns."""
    if (_blas_local is None or x.dtype != y.dtype or x.dtype.kind != "f" or x.ndim < 1
            or y.ndim < 1):
        return np.matmul(x, y)
    # multiply-adds (a batch broadcast against one matrix counted in full)
    n, m = (x.shape[-2] if x.ndim > 1 else 1), (y.shape[-1] if y.ndim > 1 else 1)
    work = max(x.size * m, y.size * n)
    if x.ndim != 2 or y.ndim != 2 or work < _GEMM_SPLIT_MACS or x.shape[1] != y.shape[0]:
        if work < (_BLAS_THREADED_GEMV if n == 1 or m == 1 else _BLAS_THREADED_MACS):
            return np.matmul(x, y)
        old = _blas_local(1)
        try:
            return np.matmul(x, y)
        finally:
            _blas_local(old)
    m, n = x.shape[0], y.shape[1]
    out = np.empty((m, n), dtype=x.dtype)
    with serial_region() as budget:
        if m >= n:
            tasks = [lambda r0=r0, r1=r1: np.matmul(x[r0:r1], y, out=out[r0:r1])
                     for r0, r1 in _blocks(m, 2, 8)]
        else:
            tasks = [lambda c0=c0, c1=c1: np.matmul(x, y[:, c0:c1], out=out[:, c0:c1])
                     for c0, c1 in _blocks(n, 2, 16)]
        run_tasks(tasks, budget)
    return out

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

Ember's own 2-D matrix products (``matmul``) go the same way: a GEMM big enough for
OpenBLAS to wake its own threads is pinned to the caller or split into row or column
blocks run as tasks, so OpenBLAS's pool does not start for them. Batched products and
matrix-vector products still go to NumPy as they are and may wake it.

OpenBLAS's ``openblas_set_num_threads_local`` (0.3.27+) pins BLAS to one thread for the
calling thread only, leaving the user's NumPy alone. Without it (another BLAS) tasks run
one after another on the caller's thread, with BLAS threading as it was.
"""
import contextlib
import ctypes

import numpy as np

from ._kernels import parallel as _par


def _find_blas_local():
    """``openblas_set_num_threads_local`` of the OpenBLAS loaded in this process, or None."""
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
            fn = ctypes.CDLL(path).openblas_set_num_threads_local
        except (OSError, AttributeError):
            continue
        fn.argtypes = [ctypes.c_int]
        fn.restype = ctypes.c_int
        return fn
    return None


_blas_local = _find_blas_local()
# the same function as a C address, for the OpenMP team's threads to call without the GIL
_blas_local_address = (ctypes.cast(_blas_local, ctypes.c_void_p).value or 0
                       if _blas_local is not None else 0)


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


# OpenBLAS runs a GEMM of fewer multiply-adds than this on the calling thread (its
# SMP_THRESHOLD_MIN * GEMM_MULTITHREAD_THRESHOLD); from here on it would wake its own pool.
_BLAS_THREADED_MACS = 65536 * 4
# From here on two tasks beat one thread (measured: 256^3 2x faster split, 128^3 2x slower:
# each task takes the GIL for its glue, and handing the GIL over wakes a thread). Between
# the two thresholds the product runs on the calling thread with BLAS pinned to it.
_GEMM_SPLIT_MACS = 8_000_000


def _blocks(n, pieces, multiple):
    """``pieces`` contiguous ranges covering ``range(n)``, multiples of ``multiple`` long
    (the last takes the rest) so BLAS keeps its register tiles whole."""
    per = -(-n // pieces)
    step = max(multiple, (per + multiple - 1) // multiple * multiple)
    return [(i, min(n, i + step)) for i in range(0, n, step)]


def matmul(x, y):
    """``np.matmul(x, y)`` of two 2-D floating arrays, computed on the OpenMP team.

    A product small enough for OpenBLAS to keep on one thread is passed through; a middling
    one runs on the calling thread with BLAS pinned to it. A bigger one is cut in two by
    rows (or by columns when it has more columns than rows), each half a task on one BLAS
    thread. The cut depends on the shapes alone, so the bits are the
same on any number of threads."""
    if (_blas_local is None or x.ndim != 2 or y.ndim != 2 or x.dtype != y.dtype
            or x.dtype.kind != "f"):
        return np.matmul(x, y)
    m, k = x.shape
    n = y.shape[1]
    macs = m * n * k
    if macs < _BLAS_THREADED_MACS or k != y.shape[0]:
        return np.matmul(x, y)
    if macs < _GEMM_SPLIT_MACS:
        old = _blas_local(1)
        try:
            return np.matmul(x, y)
        finally:
            _blas_local(old)
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

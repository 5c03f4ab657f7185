"""Threads for convolution: tasks on the OpenMP team, BLAS held at one thread per task.

im2col's OpenMP team and OpenBLAS's thread pool are two pools that take turns on the same
cores; each leaves its threads spinning after its turn, so on a 2-core machine the other
pool's work runs at a fraction of its speed (measured 3-8x slower convolutions at ResNet
shapes). Here every task runs im2col *and* its GEMM on one thread, and parallelism comes
from running tasks side by side on the same OpenMP team the elementwise, pooling and norm
kernels use (``parallel.run_tasks``): one pool, warm for whichever op comes next. (A pool
of Python threads beside the team was the previous design; each op then woke a sleeping
thread of the other pool.) Tasks are claimed dynamically, so when the OS preempts a worker
(a busy machine) the caller's thread takes the remaining tasks.

OpenBLAS's ``openblas_set_num_threads_local`` (0.3.27+) pins BLAS to one thread for the
calling thread only, leaving the user's NumPy alone. Without it (another BLAS) tasks run
one after another on the caller's thread, with BLAS threading as it was.
"""
import contextlib
import ctypes

from .._kernels import parallel as _par


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

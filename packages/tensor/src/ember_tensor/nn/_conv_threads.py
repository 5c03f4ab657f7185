"""Threads for convolution: tasks on a small pool, OpenMP and BLAS held at one thread each.

im2col's OpenMP team and OpenBLAS's thread pool are two pools that take turns on the same
cores; each leaves its threads spinning after its turn, so on a 2-core machine the other
pool's work runs at a fraction of its speed (measured 3-8x slower convolutions at ResNet
shapes). Here every task runs im2col *and* its GEMM on one thread, and parallelism comes
from running tasks side by side. Tasks are claimed dynamically, so when the OS preempts a
worker (a busy machine) the caller's thread takes the remaining tasks instead of waiting.

OpenBLAS's ``openblas_set_num_threads_local`` (0.3.27+) pins BLAS to one thread for the
calling thread only, leaving the user's NumPy alone. Without it (another BLAS) tasks run
one after another on the caller's thread, with BLAS threading as it was.
"""
import contextlib
import ctypes
import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

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


def _worker_init():
    _par.set_num_threads(1)
    if _blas_local is not None:
        _blas_local(1)


_lock = threading.Lock()
_pool = None
_pool_size = 0


def _workers(n):
    global _pool, _pool_size
    with _lock:
        if _pool is None or _pool_size != n:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(n, thread_name_prefix="ember-conv",
                                       initializer=_worker_init)
            _pool_size = n
        return _pool


def _forget_pool():
    # a forked child has the executor object but none of its threads
    global _pool, _pool_size
    _pool, _pool_size = None, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


class _Job:
    def __init__(self, tasks):
        self.tasks = tasks
        self.claim = itertools.count()
        self.left = len(tasks)
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.error = None

    def drain(self):
        n = len(self.tasks)
        while True:
            i = next(self.claim)  # atomic under the GIL
            if i >= n:
                return
            try:
                self.tasks[i]()
            except BaseException as exc:  # re-raised on the caller's thread
                if self.error is None:
                    self.error = exc
            with self.lock:
                self.left -= 1
                if self.left == 0:
                    self.done.set()


def run_tasks(tasks, threads):
    """Run every callable in ``tasks`` (independent of each other) on up to ``threads``
    threads, the caller's included; returns when all are done, re-raising the first error.
    Call inside ``serial_region``."""
    if threads <= 1 or len(tasks) <= 1 or _blas_local is None:
        for task in tasks:
            task()
        return
    job = _Job(tasks)
    pool = _workers(threads - 1)
    for _ in range(min(threads, len(tasks)) - 1):
        pool.submit(job.drain)
    job.drain()
    job.done.wait()
    if job.error is not None:
        raise job.error

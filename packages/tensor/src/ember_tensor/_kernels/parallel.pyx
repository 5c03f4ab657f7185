"""Thread control for the OpenMP kernels (a serial build reports one thread)."""
import os

from cython.parallel cimport parallel, prange

cdef extern from "omp_pool.h" nogil:
    int EMBER_OWN_POOL
    void ember_pool_set_spin_us(long us)
    long ember_pool_spin_us()
    long ember_pool_sleeps()


def openmp_enabled():
    """True when this build was compiled with OpenMP."""
    return bool(EMBER_HAS_OPENMP)


def set_num_threads(int n):
    """Threads the parallel kernels use from now on (as ``torch.set_num_threads``)."""
    if n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    omp_set_num_threads(n)


def _one_thread_after_fork():
    omp_set_num_threads(1)


# A forked child starts on one thread, as a data-loading worker should: each of N workers
# on two threads would oversubscribe the cores. Ember's pool (_omp_pool.c) starts its
# threads afresh in the child, so set_num_threads there works. (In a build linked to GNU
# OpenMP instead, EMBER_LIBGOMP=1 or clang, the team does not survive fork(): a child whose
# parent ran a region would wait forever at its first region of more than one thread.)
os.register_at_fork(after_in_child=_one_thread_after_fork)


def own_pool():
    """True when the kernels run on Ember's own thread pool (a gcc build on Linux), False
    when on the compiler's OpenMP runtime or serially."""
    return bool(EMBER_OWN_POOL)


def _spin_us(us=None):
    """The microseconds an idle pool thread spins (yielding the core every few) before it
    sleeps; sets it first when ``us`` is given. ``EMBER_SPIN_US`` sets the starting value."""
    if us is not None:
        ember_pool_set_spin_us(us)
    return ember_pool_spin_us()


def _sleeps():
    """How many waits of the pool's threads have gone to sleep so far (a diagnostic)."""
    return ember_pool_sleeps()


def get_num_threads():
    """Threads the parallel kernels use; ``OMP_NUM_THREADS`` sets the starting value."""
    return omp_get_max_threads()


# ``openblas_set_num_threads_local``'s shape: set the calling thread's BLAS thread count,
# return the previous one.
ctypedef int (*blas_threads_fn)(int) noexcept nogil


def _run_one(list tasks, Py_ssize_t i, list errors):
    try:
        tasks[i]()
    except BaseException as exc:  # re-raised on the caller's thread
        errors.append(exc)


def run_tasks(list tasks, int threads, size_t blas_threads_local=0):
    """Run every callable in ``tasks`` (independent of each other) on up to ``threads``
    threads of the OpenMP team, the caller's included; returns when all are done, re-raising
    the first error.

    The tasks run on the same threads as every other kernel, so there is one pool to keep
    warm, not an OpenMP team and a task pool taking turns on the cores. A task holds the GIL
    only for its Python glue: the kernels and GEMMs it calls release it. When
    ``blas_threads_local`` is the address of ``openblas_set_num_threads_local``, each team
    thread first pins its own BLAS calls to one thread (parallelism comes from the tasks).
    Tasks are claimed one at a time, so a thread the OS preempts holds up only its own task.
    """
    cdef Py_ssize_t n = len(tasks), i
    cdef int team = threads if threads < n else <int>n
    cdef blas_threads_fn pin_blas = <blas_threads_fn>blas_threads_local
    errors = []
    if team <= 1:
        for task in tasks:
            task()
        return
    with nogil, parallel(num_threads=team):
        if pin_blas != NULL:
            pin_blas(1)
        for i in prange(n, schedule="dynamic", chunksize=1):
            with gil:
                _run_one(tasks, i, errors)
    if errors:
        raise errors[0]

cdef extern from "omp_shim.h" nogil:
    int omp_get_max_threads()
    int omp_get_thread_num()
    void omp_set_num_threads(int n)
    int EMBER_HAS_OPENMP

cdef enum:
    # Elements a kernel touches (reads plus writes, every pass and window tap counted) below
    # which one thread beats a parallel region. A thread sweeps this much in tens of
    # microseconds; waking a team costs microseconds on an idle machine and, on a busy one,
    # a preempted member holds everyone at the region's end barrier.
    PARALLEL_MIN_WORK = 65536


cdef inline int threads_for(Py_ssize_t work, Py_ssize_t tasks) noexcept nogil:
    """Threads for a parallel loop of ``tasks`` independent tasks touching ``work`` elements:
    one when the work is too small to pay for a team, never more than there are tasks."""
    cdef int n
    if work < PARALLEL_MIN_WORK or tasks < 2:
        return 1
    n = omp_get_max_threads()
    return <int>tasks if tasks < n else n

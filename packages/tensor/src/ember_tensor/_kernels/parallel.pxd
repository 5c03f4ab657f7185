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
    # Elements of one slab a thread takes at a time in a memory-bound sweep (a flat
    # elementwise run, rows of a broadcast or of a last-dim sum): 1 MiB of float32 per
    # operand, so a 1e6-element op is four slabs. Quiet A/B at 2 threads against 16384 (each
    # hand-out starts a new prefetch stream): add/relu/mul 1e6 0.82-0.89x, batch-norm eval
    # 0.74-0.89x, hardswish fwd+bwd 0.76x; 500032 lost on hardswish (1.13-1.42x).
    FLAT_SLAB = 262144


cdef inline int threads_for(Py_ssize_t work, Py_ssize_t tasks) noexcept nogil:
    """Threads for a parallel loop of ``tasks`` independent tasks touching ``work`` elements:
    one when the work is too small to pay for a team, never more than there are tasks."""
    cdef int n
    if work < PARALLEL_MIN_WORK or tasks < 2:
        return 1
    n = omp_get_max_threads()
    return <int>tasks if tasks < n else n

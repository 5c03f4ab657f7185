"""Thread control for the OpenMP kernels (a serial build reports one thread)."""


def openmp_enabled():
    """True when this build was compiled with OpenMP."""
    return bool(EMBER_HAS_OPENMP)


def set_num_threads(int n):
    """Threads the parallel kernels use from now on (as ``torch.set_num_threads``)."""
    if n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    omp_set_num_threads(n)


def get_num_threads():
    """Threads the parallel kernels use; ``OMP_NUM_THREADS`` sets the starting value."""
    return omp_get_max_threads()

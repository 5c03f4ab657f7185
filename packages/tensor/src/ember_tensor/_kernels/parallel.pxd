cdef extern from "omp_shim.h" nogil:
    int omp_get_max_threads()
    int omp_get_thread_num()
    void omp_set_num_threads(int n)
    int EMBER_HAS_OPENMP

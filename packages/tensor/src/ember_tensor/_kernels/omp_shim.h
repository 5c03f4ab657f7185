/* OpenMP when the build has it, a serial stand-in when it does not, so kernels never
   need #ifdefs of their own. */
#ifndef EMBER_OMP_SHIM_H
#define EMBER_OMP_SHIM_H
#ifdef _OPENMP
#include <omp.h>
#define EMBER_HAS_OPENMP 1
#else
static inline int omp_get_max_threads(void) { return 1; }
static inline int omp_get_thread_num(void) { return 0; }
static inline void omp_set_num_threads(int n) { (void)n; }
#define EMBER_HAS_OPENMP 0
#endif
/* every thread of the enclosing OpenMP team waits here (Cython's prange loops end without a
   barrier; an orphaned barrier binds to the region the caller runs in); serial builds have
   one thread */
static inline void ember_team_barrier(void) {
#ifdef _OPENMP
#pragma omp barrier
#endif
}
#endif

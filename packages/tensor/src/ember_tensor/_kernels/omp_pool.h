/* Ember's own pool's controls (ember_tensor/_omp_pool.c) when the kernels link to it
   (setup.py defines EMBER_OWN_POOL=1), stand-ins when they run on libgomp or serially. */
#ifndef EMBER_OMP_POOL_H
#define EMBER_OMP_POOL_H
#if EMBER_OWN_POOL
void ember_pool_set_spin_us(long us);
long ember_pool_spin_us(void);
long ember_pool_sleeps(void);
#else
#ifndef EMBER_OWN_POOL
#define EMBER_OWN_POOL 0
#endif
static inline void ember_pool_set_spin_us(long us) { (void)us; }
static inline long ember_pool_spin_us(void) { return 0; }
static inline long ember_pool_sleeps(void) { return 0; }
#endif
#endif

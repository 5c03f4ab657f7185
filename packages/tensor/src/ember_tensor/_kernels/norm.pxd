# Per-channel statistics and affine passes for batch normalisation on (N, C, L) blocks.
# Statistics accumulate in double whatever the storage type: a float32 sum over a whole
# batch of feature maps would lose digits torch keeps.
from .types cimport real

# Mean and M2 (sum of squared deviations) of one channel, reading each element from memory
# once: blocks are summed, then re-read from L1 for their deviations, and merged.
cdef void channel_moments(const real* x, Py_ssize_t N, Py_ssize_t stride, Py_ssize_t L,
                          double* mean, double* m2) noexcept nogil

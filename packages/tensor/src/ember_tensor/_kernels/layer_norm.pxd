# Layer normalisation over the trailing D elements of each row of a contiguous (M, D) array.
# Row statistics accumulate in double whatever the storage type; weight and bias arrive as
# float64 vectors of size D (NULL when absent).
from .types cimport real

cdef void layer_norm_row(const real* x, real* y, const double* w, const double* b,
                         Py_ssize_t D, double eps, double* mean, double* rstd) noexcept nogil

# Negative log-likelihood on (N, C, L) log-probabilities with (N, L) int64 targets: a gather
# (forward) and a scatter into zeros (backward), one element per target. Targets are checked
# against [0, C) by `first_bad_target` before either loop runs.
from libc.stdint cimport int64_t

from .types cimport real

cdef Py_ssize_t first_bad_target(const int64_t* t, Py_ssize_t n, Py_ssize_t C,
                                 int64_t ignore_index) noexcept nogil

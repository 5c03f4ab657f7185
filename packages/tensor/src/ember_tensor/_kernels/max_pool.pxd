# Max pooling over NCHW planes: every kernel walks (planes, H, W) contiguous blocks, one plane
# per task, so planes run in parallel with no shared writes.
from libc.stdint cimport int64_t
from .types cimport numeric

cdef void max_pool_plane(const numeric* x, numeric* out, int64_t* idx, Py_ssize_t H,
                         Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t kh,
                         Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph,
                         Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw,
                         Py_ssize_t avail) noexcept nogil

# What max and average pooling share: each output's window along one axis (inline, so each
# module compiles its own copy as it did when both lived in one module). The argument checks
# they share are pool_windows.pyx's.

cdef inline Py_ssize_t _start(Py_ssize_t o, Py_ssize_t n, Py_ssize_t on) noexcept nogil:
    return (o * n) // on


cdef inline Py_ssize_t _end(Py_ssize_t o, Py_ssize_t n, Py_ssize_t on) noexcept nogil:
    return ((o + 1) * n + on - 1) // on


cdef inline void axis_windows(Py_ssize_t* lo, Py_ssize_t* hi, Py_ssize_t* span,
                              Py_ssize_t on, Py_ssize_t n, Py_ssize_t k, Py_ssize_t s,
                              Py_ssize_t p) noexcept nogil:
    # each output's window along one axis, once per call: [lo, hi) clipped to the input,
    # span counting the padding too. k == 0: torch's adaptive windows (n inputs over on).
    cdef Py_ssize_t o, a, b
    for o in range(on):
        if k == 0:
            a = _start(o, n, on)
            b = _end(o, n, on)
            span[o] = b - a
        else:
            a = o * s - p
            b = a + k
            if b > n + p:
                b = n + p
            span[o] = b - a
        lo[o] = a if a > 0 else 0
        hi[o] = b if b < n else n

# This thread's grad-mode flags (``ember._grad_mode._state``), read from C without a
# thread-local attribute lookup.

cdef bint grad_enabled() except -1
cdef bint inference_enabled() except -1

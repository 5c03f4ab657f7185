"""glibc's malloc keeps big freed buffers for reuse (set once, at import).

Every array's memory comes from NumPy, which takes it from the C library's malloc. By
default glibc maps any block over its mmap threshold (which rises with use but stops at
32 MiB) straight from the kernel, and unmaps it on free; it also gives back a free top of
its heap over twice that threshold. A training step at 16x3x224x224 allocates and frees
activations and gradients of 51 MB each (16x64x112x112 float32) every step, so the kernel
faulted in and zeroed fresh pages for them every step: 3500-12600 page faults and 33-95 ms
of system time a step, and two thirds of the max-pool backward's 5 ms at that size.

With both thresholds at ``RETAIN_BYTES`` such blocks come from the heap, and freed ones
stay mapped for the next step (83-400 faults a step). The cost: up to ``RETAIN_BYTES`` of
freed memory stays resident after a big workload ends, instead of going back to the OS.
Nothing becomes visible that was not before: ``np.empty`` promises no contents, and
glibc's ``calloc`` clears a reused block itself.

A setting the user made is kept: ``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_`` or
a ``glibc.malloc.`` entry of ``GLIBC_TUNABLES`` in the environment leaves glibc as it is
(``MALLOC_TRIM_THRESHOLD_=0``, for instance, gives freed memory back at once).
"""
import ctypes
import os

__all__ = ["RETAIN_BYTES", "apply", "applied", "user_set"]

# mallopt's parameter numbers (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

# The largest block served from the heap, and the free heap top kept mapped. 1 GiB covers a
# ResNet-18 step at 16x224 (~650 MiB peak) with room; mallopt takes a C int.
RETAIN_BYTES = 1 << 30

# whether glibc took the thresholds at import (the ember_tensor package calls apply())
applied = False


def user_set(environ=os.environ) -> bool:
    """True when the environment already tells glibc's malloc its thresholds."""
    if "MALLOC_MMAP_THRESHOLD_" in environ or "MALLOC_TRIM_THRESHOLD_" in environ:
        return True
    return "glibc.malloc." in environ.get("GLIBC_TUNABLES", "")


def apply() -> bool:
    """Set both thresholds to ``RETAIN_BYTES`` on glibc, unless the user set either; True
    when glibc took them. Other C libraries (musl, macOS) are left alone."""
    global applied
    if user_set():
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    if not hasattr(libc, "gnu_get_libc_version"):  # glibc only: musl's mallopt is a stub
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    applied = bool(mallopt(_M_MMAP_THRESHOLD, RETAIN_BYTES)) and bool(
        mallopt(_M_TRIM_THRESHOLD, RETAIN_BYTES))
    return applied

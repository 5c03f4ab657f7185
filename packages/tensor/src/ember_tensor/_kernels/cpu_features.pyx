"""The instruction-set levels this CPU runs, asked once at import (baseline code only).

This module is never compiled in per-level copies: it is what chooses between them.
"""
cdef extern from "cpu_features.h":
    int EMBER_X86_64
    int ember_cpu_has_x86_64_v3()
    int ember_cpu_has_x86_64_v4()
    # setup.py defines it to 1 for an EMBER_NATIVE=1 build (one -march=native copy, no levels)
    int EMBER_NATIVE_BUILD


def is_x86_64():
    """True when this build targets x86-64, the one architecture with per-level kernels."""
    return bool(EMBER_X86_64)


def native_build():
    """True for an ``EMBER_NATIVE=1`` build: one copy of the kernels, for the building CPU."""
    return bool(EMBER_NATIVE_BUILD)


def supported_levels():
    """The kernel levels this CPU can execute, lowest first: a prefix of
    ``("baseline", "avx2", "avx512")``."""
    levels = ["baseline"]
    if ember_cpu_has_x86_64_v3():
        levels.append("avx2")
        if ember_cpu_has_x86_64_v4():
            levels.append("avx512")
    return tuple(levels)

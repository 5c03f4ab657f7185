"""Helpers shared by every benchmark: medians of repeated calls, and what machine ran them.

Each framework runs in its own process (``run.py`` alternates the processes round by round),
so nothing here ever times two frameworks side by side.
"""
import os
import platform
import statistics
import time


def median_time(fn, repeat, warmup=1, budget=None):
    """Median seconds of ``repeat`` calls after ``warmup`` ones.

    ``budget`` (seconds) lowers ``repeat`` for slow cases, keeping at least 3 calls.
    """
    for _ in range(warmup):
        fn()
    if budget is not None:
        t0 = time.perf_counter()
        fn()
        one = time.perf_counter() - t0
        repeat = max(3, min(repeat, int(budget / max(one, 1e-9))))
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def fmt_time(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.3f} s"


def cpu_name():
    """The CPU's model name, and its core count."""
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores"


def blas_info():
    """The BLAS libraries loaded in this process and the kernel each runs (threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    return "; ".join(f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')}"
                     for i in threadpool_info() if i.get("user_api") == "blas")

"""Timing helpers shared by every benchmark: Ember and torch measured alternately, medians."""
import statistics
import time


def median_time(fn, repeat, warmup=1):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def compare(ember_fn, torch_fn, repeat=5, warmup=1, budget=None):
    """Median seconds of each, measured alternately so drift hits both alike.

    ``budget`` (seconds) lowers ``repeat`` for slow cases, keeping at least 3 runs.
    """
    for _ in range(warmup):
        ember_fn()
        torch_fn()
    if budget is not None:
        t0 = time.perf_counter()
        ember_fn()
        torch_fn()
        one = time.perf_counter() - t0
        repeat = max(3, min(repeat, int(budget / max(one, 1e-9))))
    ember_times, torch_times = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        ember_fn()
        ember_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        torch_fn()
        torch_times.append(time.perf_counter() - t0)
    return statistics.median(ember_times), statistics.median(torch_times)


def fmt_time(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.3f} s"

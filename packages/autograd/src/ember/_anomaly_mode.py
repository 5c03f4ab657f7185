"""Anomaly detection: ``set_detect_anomaly(True)`` / ``detect_anomaly()``.

While it is on, every backward node remembers the stack of the forward call that created it,
and the engine checks each gradient a node produces: the first NaN raises RuntimeError naming
the node (``Function 'DivBackward0' returned nan values in its 0th output.``) after a warning
that shows the forward code responsible, as torch does. It costs a stack capture per op, so
it is off by default. The flag is thread-local like the grad mode.
"""
import threading
import traceback
import warnings

import numpy as np

__all__ = ["set_detect_anomaly", "detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled"]

_local = threading.local()


def is_anomaly_enabled():
    return getattr(_local, "enabled", False)


def is_anomaly_check_nan_enabled():
    return getattr(_local, "check_nan", True)


def _set(mode, check_nan):
    _local.enabled = bool(mode)
    _local.check_nan = bool(check_nan)


class set_detect_anomaly:
    """Turn anomaly detection on or off; also usable as a context manager."""

    def __init__(self, mode, check_nan=True):
        self.prev = (is_anomaly_enabled(), is_anomaly_check_nan_enabled())
        _set(mode, check_nan)

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        _set(*self.prev)
        return False


class detect_anomaly:
    """Context manager (and decorator) that enables anomaly detection inside it."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        warnings.warn(
            "Anomaly Detection has been enabled. This mode will increase the runtime and "
            "should only be enabled for debugging.", UserWarning, stacklevel=2)

    def __enter__(self):
        self.prev = (is_anomaly_enabled(), is_anomaly_check_nan_enabled())
        _set(True, self.check_nan)

    def __exit__(self, *exc):
        _set(*self.prev)
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(self.check_nan):
                return fn(*args, **kwargs)
        return wrapper


def forward_trace():
    """The current stack as text, to keep on a node created while anomaly mode is on."""
    if not is_anomaly_enabled():
        return None
    return "".join(traceback.format_stack()[:-2])


def check_gradients(node, grads):
    """Raise if anomaly mode is on and ``node`` produced a NaN gradient."""
    if not (is_anomaly_enabled() and is_anomaly_check_nan_enabled()):
        return
    for i, g in enumerate(grads):
        if g is None:
            continue
        data = g._data._np if hasattr(g, "_data") else np.asarray(g)
        if data.dtype.kind == "f" and np.isnan(data).any():
            trace = getattr(node, "_anomaly_trace", None)
            if trace:
                warnings.warn(
                    f"Error detected in {node.name()}. Traceback of forward call that caused "
                    f"the error:\n{trace}", RuntimeWarning, stacklevel=2)
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")


for _mode in (set_detect_anomaly, detect_anomaly):
    _mode.__module__ = "ember.autograd.anomaly_mode"  # where torch users find them
del _mode

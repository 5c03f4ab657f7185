"""Anomaly mode names the op whose backward produced NaN; it is thread-local."""
import threading

import pytest

import ember
from ember.autograd import anomaly_mode


def test_nan_in_backward_names_the_node():
    x = ember.tensor([0.0, 1.0], requires_grad=True)
    with anomaly_mode.detect_anomaly():
        y = x.sqrt() * 0  # d sqrt at 0 is inf; inf * 0 = nan
        with pytest.raises(RuntimeError, match=r"Function '\w+Backward\d' returned nan values"):
            with pytest.warns(RuntimeWarning, match="Traceback of forward call"):
                y.sum().backward()


def test_nan_passes_silently_without_anomaly_mode():
    x = ember.tensor([0.0, 1.0], requires_grad=True)
    (x.sqrt() * 0).sum().backward()
    assert x.grad is not None


def test_flag_is_per_thread():
    seen = []
    with anomaly_mode.set_detect_anomaly(True):
        t = threading.Thread(target=lambda: seen.append(anomaly_mode.is_anomaly_enabled()))
        t.start()
        t.join()
        assert anomaly_mode.is_anomaly_enabled()
    assert seen == [False]
    assert not anomaly_mode.is_anomaly_enabled()


def test_backward_in_another_thread_sees_that_threads_flag():
    # the engine reads the flag of the thread running the backward, not the importing one's
    errors = []

    def run():
        x = ember.tensor([0.0, 1.0], requires_grad=True)
        with anomaly_mode.detect_anomaly():
            y = x.sqrt() * 0
            try:
                with pytest.warns(RuntimeWarning):
                    y.sum().backward()
            except RuntimeError as e:
                errors.append(str(e))

    t = threading.Thread(target=run)
    t.start()
    t.join()
    assert len(errors) == 1 and "returned nan values" in errors[0]

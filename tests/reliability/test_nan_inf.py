"""NaN and Inf propagate through forward and backward as torch's rules say (no torch needed),
and anomaly mode names the forward op whose backward produced the first NaN.

The expected values follow IEEE arithmetic and torch's documented choices (e.g. max and sum
propagate NaN, softmax of a row holding +Inf is NaN); test_torch_nan_inf.py checks the same
ground against live torch on every special value.
"""
import math
import warnings

import numpy as np
import pytest

import ember
import ember.nn.functional as F

NAN, INF = math.nan, math.inf


def t(values, grad=False):
    return ember.tensor(values, dtype=ember.float32, requires_grad=grad)


def same(got, want):
    got = np.asarray(got.detach().numpy() if hasattr(got, "detach") else got)
    want = np.asarray(want, dtype=np.float64).astype(got.dtype)
    np.testing.assert_array_equal(got, want)  # NaN equals NaN here


def test_forward_special_values():
    x = t([0.0, -1.0, INF, -INF, NAN])
    same(ember.exp(x), [1, math.exp(-1), INF, 0, NAN])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same(ember.log(x), [-INF, NAN, INF, NAN, NAN])
        same(ember.sqrt(x), [0, NAN, INF, NAN, NAN])
    same(ember.sigmoid(x)[2:], [1, 0, NAN])
    same(ember.tanh(x)[2:], [1, -1, NAN])
    same(ember.relu(x), [0, 0, INF, 0, NAN])
    same(x * 0, [0, -0.0, NAN, NAN, NAN])
    same(ember.clamp(x, -1, 1), [0, -1, 1, -1, NAN])


def test_reductions_propagate_nan_and_inf():
    same(t([1.0, NAN, 3.0]).sum(), NAN)
    same(t([1.0, NAN, 3.0]).amax(), NAN)
    same(t([1.0, NAN, 3.0]).amin(), NAN)
    same(t([1.0, INF, -INF]).sum(), NAN)
    same(t([1.0, INF]).mean(), INF)
    same(t([[1.0, NAN], [2.0, 3.0]]).max(dim=1).values, [NAN, 3])
    same(t([[1.0, NAN], [2.0, 3.0]]).argmax(dim=1), [1, 1])


def test_softmax_with_infinities():
    same(F.softmax(t([[INF, 1.0], [-INF, 0.0], [-INF, -INF]]), dim=1),
         [[NAN, NAN], [0, 1], [NAN, NAN]])
    same(F.log_softmax(t([[-INF, 0.0]]), dim=1), [[-INF, 0]])


def test_backward_special_values():
    x = t([0.0, 4.0, INF, NAN], grad=True)
    ember.sqrt(x).sum().backward()
    same(x.grad, [INF, 0.25, 0, NAN])
    x = t([0.0, 2.0, INF, NAN], grad=True)
    (x * x).sum().backward()
    same(x.grad, [0, 4, INF, NAN])
    x = t([1.0, INF, NAN], grad=True)
    (x * 0).sum().backward()
    same(x.grad, [0, 0, 0])  # d(x*0)/dx is the constant 0, even where the product is NaN
    x = t([1.0, 2.0, NAN], grad=True)
    x.sum().backward()
    same(x.grad, [1, 1, 1])


def test_nan_in_loss_reaches_every_parameter():
    ember.manual_seed(0)
    model = ember.nn.Linear(3, 2)
    out = model(t([[1.0, NAN, 2.0]]))
    assert np.isnan(out.detach().numpy()).all()
    out.sum().backward()
    assert np.isnan(model.weight.grad.numpy()[:, 1]).all()
    assert np.isfinite(model.bias.grad.numpy()).all()  # bias grad is just the output grad


def test_anomaly_mode_names_the_op_whose_backward_made_nan():
    x = t([0.0, 1.0], grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with ember.autograd.set_detect_anomaly(True):
            y = (x / x).sum()
            with pytest.raises(RuntimeError,
                               match=r"Function 'DivBackward0' returned nan values in its "
                                     r"1th output"):
                y.backward()
    messages = [str(w.message) for w in caught]
    assert any("Error detected in DivBackward0" in m for m in messages), messages
    # the warning shows where the forward op was called: this very file
    assert any("test_nan_inf.py" in m for m in messages), messages


def test_anomaly_mode_off_lets_nan_through_silently():
    x = t([0.0, 1.0], grad=True)
    (x / x).sum().backward()
    assert np.isnan(x.grad.numpy()[0])
    assert not ember.autograd.anomaly_mode.is_anomaly_enabled()  # torch: torch.is_anomaly_enabled


def test_anomaly_mode_catches_nan_deep_in_a_graph():
    x = t([-1.0, 4.0], grad=True)
    with ember.autograd.set_detect_anomaly(True):
        y = (ember.sqrt(x) * 2 + 1).sum()  # sqrt(-1) is NaN already in forward
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(RuntimeError, match="SqrtBackward0"):
                y.backward()

"""``addmm`` checks a Linear's usual shapes (2-D matrices, a bias of the output's row or
full shape) on the arrays' shape tuples and skips the general checks; every other call and
every error goes through those. Both must give the same results and the same errors."""
import numpy as np
import pytest

import ember
from ember._ops import linalg as LA


def _t(shape, dtype=np.float32, seed=0, grad=False):
    arr = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return ember.tensor(arr, requires_grad=grad)


def _general(monkeypatch):
    """Make the usual-call test fail, so that the general checks run."""
    monkeypatch.setattr(LA, "_USUAL_SHAPES", False)


@pytest.mark.parametrize("bias_shape", [(4,), (3, 4), (1, 4), (3, 1), (), (1,)])
@pytest.mark.parametrize("beta, alpha", [(1, 1), (0.5, 2.0), (0, 1)])
def test_same_result_and_gradients_as_the_general_checks(monkeypatch, bias_shape, beta, alpha):
    results = []
    for general in (False, True):
        if general:
            _general(monkeypatch)
        bias, m1, m2 = _t(bias_shape, grad=True), _t((3, 5), seed=1, grad=True), _t(
            (4, 5), seed=2, grad=True)
        out = ember.addmm(bias, m1, m2.t(), beta=beta, alpha=alpha)
        out.sum().backward()
        results.append([out.detach().numpy(), bias.grad.numpy(), m1.grad.numpy(),
                        m2.grad.numpy(), type(out.grad_fn).__name__])
    fast, slow = results
    for a, b in zip(fast[:4], slow[:4]):
        np.testing.assert_array_equal(a, b)
    assert fast[4] == slow[4] == "AddmmBackward0"


def test_the_usual_call_skips_the_general_checks(monkeypatch):
    def refuse(*shapes):
        raise AssertionError("the usual call must not reach the general checks")

    monkeypatch.setattr(LA.np, "broadcast_shapes", refuse)
    lin = ember.nn.Linear(5, 4)
    out = lin(_t((3, 5)))
    assert out.shape == (3, 4)


@pytest.mark.parametrize("args", [
    ((4,), (3, 5), (5, 3)),      # the bias does not broadcast
    ((4,), (3, 5), (4, 4)),      # inner sizes differ
    ((4,), (5,), (5, 4)),        # mat1 is not a matrix
    ((4,), (3, 5), (5,)),        # mat2 is not a matrix
    ((2, 4), (3, 5), (5, 4)),    # a bias row count that does not fit
])
def test_errors_are_the_general_ones(monkeypatch, args):
    messages = []
    for general in (False, True):
        if general:
            _general(monkeypatch)
        bias, m1, m2 = (_t(s, seed=i) for i, s in enumerate(args))
        with pytest.raises(RuntimeError) as info:
            ember.addmm(bias, m1, m2)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_dtype_mismatch_is_refused_on_the_usual_shapes(monkeypatch):
    messages = []
    for general in (False, True):
        if general:
            _general(monkeypatch)
        with pytest.raises(RuntimeError) as info:
            ember.addmm(_t((4,)), _t((3, 5)), _t((5, 4), dtype=np.float64))
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    assert "same dtype" in messages[0]

"""gradcheck/gradgradcheck catch wrong gradients and accept right ones."""
import pytest

import ember
from ember.autograd import Function, gradcheck, gradgradcheck
from ember.autograd.gradcheck import GradcheckError


def _x(*shape):
    ember.manual_seed(0)
    return ember.rand(*shape, dtype=ember.float64).requires_grad_()


def test_gradcheck_accepts_correct_gradients():
    assert gradcheck(lambda a, b: (a * b).exp().sum(dim=0), (_x(3, 2), _x(3, 2)))


def test_gradgradcheck_accepts_second_derivatives():
    assert gradgradcheck(lambda a: (a ** 3).tanh(), (_x(4),))


class _WrongSquare(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x  # should be 2 * x


def test_gradcheck_rejects_a_wrong_backward():
    with pytest.raises(GradcheckError, match="Jacobian mismatch for output 0 with respect to input 0"):
        gradcheck(_WrongSquare.apply, (_x(3),))
    assert gradcheck(_WrongSquare.apply, (_x(3),), raise_exception=False) is False


def test_gradcheck_warns_on_float32():
    x = ember.rand(3).requires_grad_()
    with pytest.warns(UserWarning, match="not a double precision"):
        gradcheck(lambda a: a * 2, (x,), atol=1e-2, rtol=1e-2, eps=1e-3)


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gradcheck(lambda a: a * 2, (ember.rand(3, dtype=ember.float64),))

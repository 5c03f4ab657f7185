"""ember.autograd.functional against closed-form derivatives (the tutorial's VJP view)."""
import numpy as np
import pytest

import ember
from ember.autograd import functional as F


def _np(t):
    return t.detach().numpy()


def test_vjp_is_what_backward_with_gradient_computes():
    a = ember.tensor([2., 3.])
    v = ember.tensor([1., 0.5])
    out, g = F.vjp(lambda x: 3 * x ** 3, a, v)
    np.testing.assert_allclose(_np(out), [24., 81.])
    np.testing.assert_allclose(_np(g), 9 * np.array([4., 9.]) * np.array([1., 0.5]))


def test_vjp_needs_v_for_non_scalar_output():
    with pytest.raises(RuntimeError, match="can only be None"):
        F.vjp(lambda x: x * 2, ember.tensor([1., 2.]))


def test_jacobian_of_elementwise_and_matrix_functions():
    x = ember.tensor([1., 2., 3.], dtype=ember.float64)
    jac = F.jacobian(lambda t: t ** 2, x)
    np.testing.assert_allclose(_np(jac), np.diag([2., 4., 6.]))
    w = ember.tensor([[1., 2., 3.], [4., 5., 6.]], dtype=ember.float64)
    jac = F.jacobian(lambda t: ember.matmul(w, t), x)
    assert tuple(jac.shape) == (2, 3)
    np.testing.assert_allclose(_np(jac), _np(w))


def test_jacobian_tuple_structure_matches_torch():
    a = ember.tensor([1., 2.], dtype=ember.float64)
    b = ember.tensor([3., 4.], dtype=ember.float64)
    jac = F.jacobian(lambda x, y: (x * y, x + y), (a, b))
    assert isinstance(jac, tuple) and len(jac) == 2 and len(jac[0]) == 2
    np.testing.assert_allclose(_np(jac[0][0]), np.diag([3., 4.]))
    np.testing.assert_allclose(_np(jac[0][1]), np.diag([1., 2.]))
    np.testing.assert_allclose(_np(jac[1][1]), np.eye(2))


def test_jvp_matches_jacobian_times_v():
    x = ember.tensor([1., 2.], dtype=ember.float64)
    v = ember.tensor([0.5, -1.], dtype=ember.float64)
    out, jv = F.jvp(lambda t: t ** 3, x, v)
    np.testing.assert_allclose(_np(jv), 3 * np.array([1., 4.]) * np.array([0.5, -1.]))


def test_hessian_hvp_vhp_of_a_cubic():
    x = ember.tensor([1., 2.], dtype=ember.float64)

    def f(t):
        return (t ** 3).sum() + t[0] * t[1]

    expected = np.array([[6., 1.], [1., 12.]])
    np.testing.assert_allclose(_np(F.hessian(f, x)), expected)
    v = ember.tensor([1., 1.], dtype=ember.float64)
    np.testing.assert_allclose(_np(F.hvp(f, x, v)[1]), expected @ [1., 1.])
    np.testing.assert_allclose(_np(F.vhp(f, x, v)[1]), [1., 1.] @ expected)


def test_strict_mode_reports_independent_inputs():
    x = ember.tensor([1., 2.])
    with pytest.raises(RuntimeError, match="independent"):
        F.jacobian(lambda t: ember.ones(2), x, strict=True)


def test_bad_inputs_are_type_errors():
    with pytest.raises(TypeError, match="must be either a Tensor or a tuple of Tensors"):
        F.jacobian(lambda t: t, [1., 2.])

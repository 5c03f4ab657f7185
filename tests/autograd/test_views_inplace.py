"""In-place ops on views and on bases with live views give torch's gradients (checked here
against values worked out by hand; test_torch_views_inplace.py checks against torch)."""
import math

import numpy as np
import pytest

import ember

from view_inplace_cases import CASES, refusals


def close(a, b):
    np.testing.assert_allclose(np.asarray(a, dtype=np.float64), b, rtol=1e-6, atol=1e-6)


def test_in_place_on_a_two_dimensional_view():
    name, (y, grad) = CASES["inplace_on_a_flattened_batch"](ember)
    assert name == "AsStridedBackward0"
    mask = np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 1.0]])
    close(y, 2 * np.arange(6.0).reshape(2, 3) * mask)
    close(grad, (2 * mask * np.arange(6.0).reshape(2, 3)).reshape(2, 3, 1, 1))


def test_exp_on_a_slice_differentiates_the_exp():
    name, (a, grad) = CASES["exp_on_slice"](ember)
    assert name == "CopySlices"
    close(grad, [math.exp(0.5), math.exp(-1.0), 1.0, 1.0])


def test_a_view_modified_in_place_changes_its_bases_gradient():
    base_name, view_name, (b, grad) = CASES["mul_view_then_use_base"](ember)
    assert (base_name, view_name) == ("CopySlices", "AsStridedBackward0")
    x = np.array([1.0, -2.0, 3.0, 0.5])
    scale = np.array([2.0, 6.0, 6.0, 2.0])  # d b / d x
    close(b, x * scale)
    close(grad, 2 * (x * scale) * scale)


def test_an_old_view_sees_the_bases_in_place_op():
    name, (w, grad) = CASES["base_inplace_then_old_view"](ember)
    assert name == "AsStridedBackward0"
    close(w, [2.0, 6.0])
    close(grad, [2.0, 0.0, 2.0, 0.0])


def test_a_view_of_a_view_with_a_tensor_operand():
    y, xg, sg = CASES["view_of_view_with_tensor_operand"](ember)
    x = np.arange(12.0).reshape(3, 4)
    w = np.arange(12.0).reshape(3, 4)
    scale = np.ones((3, 4))
    scale[:, 1] = 0.5
    close(y, 3 * x * scale)
    close(xg, w * 3 * scale)
    close(sg, (w[:, 1] * 3 * x[:, 1]).sum())


def test_zero_and_fill_on_views():
    y, z, xg, vg = CASES["zero_and_fill"](ember)
    close(y, [0.0, 0.0, 9.0, 12.0])
    close(z, [1.0, 2.0, 5.0, 5.0])
    close(xg, [2 * 1.0, 2 * 2.0, 3 * 3.0, 3 * 4.0])
    close(vg, 2 * 5.0 * 2)


def test_masked_assignment_through_a_view():
    y, xg = CASES["setitem_through_view"](ember)
    close(y, [[2.0, -4.0], [6.0, 0.0]])
    close(xg, [[8.0, -16.0], [24.0, 0.0]])


def test_a_second_view_sees_the_first_views_write():
    second, xg = CASES["second_view_sees_first_views_write"](ember)
    close(second, [20.0, 3.0])
    close(xg, [0.0, 10.0, 100.0])


def test_double_backward_through_copyslices():
    g, gg = CASES["double_backward_through_copyslices"](ember)
    x = np.array([0.3, 0.7, 1.1])
    first = np.array([2 * x[0], *(np.cos(x[1:] ** 2) * 2 * x[1:])])
    second = np.array([2.0, *(2 * np.cos(x[1:] ** 2) - 4 * x[1:] ** 2 * np.sin(x[1:] ** 2))])
    close(g, first)
    close(gg, second)


@pytest.mark.parametrize("what, kind", [
    ("view of a leaf", "RuntimeError"), ("output of unbind", "RuntimeError"),
    ("output of split", "RuntimeError"), ("output of split sizes", "RuntimeError"),
    ("expanded", "RuntimeError"), ("view of a leaf, no_grad", None)])
def test_refusals(what, kind):
    found = {w: (k, m) for w, k, m in refusals(ember)}
    assert found[what][0] == kind


def test_views_are_registered_only_while_grad_mode_is_on():
    y = ember.ones(4) * 2
    v = y[:2]
    assert v._base is y and y[:2][1:]._base is y and y._base is None
    with ember.no_grad():
        assert y[1:]._base is None

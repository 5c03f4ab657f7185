"""Ops that now compute through ember_tensor kernels: node names, gradients and errors as torch
2.13 gives them (values written out by hand from torch)."""
import math

import pytest

import ember


def _grad(fn, values, **kw):
    x = ember.tensor(values, requires_grad=True)
    y = fn(x)
    y.sum().backward()
    return y, x.grad.tolist()


def test_prod_gradient_with_a_lone_zero_and_with_two_zeros():
    _, g = _grad(lambda x: x.prod(), [2.0, 0.0, 3.0])
    assert g == [0.0, 6.0, 0.0]
    _, g = _grad(lambda x: x.prod(1), [[1.0, 0.0, 3.0], [2.0, 0.0, 0.0], [4.0, 5.0, 6.0]])
    assert g == [[0.0, 3.0, 0.0], [0.0, 0.0, 0.0], [30.0, 24.0, 20.0]]


def test_remainder_and_fmod_name_their_nodes_by_divisor_kind_and_differentiate_it():
    x = ember.tensor([-3.0, 5.0], requires_grad=True)
    d = ember.tensor([2.0, 3.0], requires_grad=True)
    assert ember.remainder(x, 2.0).grad_fn.name() == "RemainderBackward0"
    assert ember.fmod(x, 2.0).grad_fn.name() == "FmodBackward0"
    y = ember.remainder(x, d)
    assert y.grad_fn.name() == "RemainderBackward1"
    assert y.tolist() == [1.0, 2.0]
    y.sum().backward()
    assert d.grad.tolist() == [2.0, -1.0]  # -floor(x / d)
    z = ember.fmod(x, ember.tensor([2.0, 3.0]))
    assert z.grad_fn.name() == "FmodBackward1" and z.tolist() == [-1.0, 2.0]


def test_nansum_skips_nans_in_value_and_gradient():
    y, g = _grad(lambda x: ember.nansum(x, 0), [[1.0, math.nan], [2.0, 3.0]])
    assert y.grad_fn.name() == "NansumBackward0"
    assert y.tolist() == [3.0, 3.0]
    assert g == [[1.0, 0.0], [1.0, 1.0]]


def test_vector_matmul_squeezes_as_torch():
    w = ember.ones(4, 3, requires_grad=True)
    v = ember.ones(3, requires_grad=True)
    assert (v @ w.t()).grad_fn.name() == "SqueezeBackward4"
    b = ember.ones(2, 3, 4, requires_grad=True)
    out = v @ b
    assert out.grad_fn.name() == "UnsafeViewBackward0" and tuple(out.shape) == (2, 4)
    out.sum().backward()
    assert v.grad.tolist() == [8.0, 8.0, 8.0]
    with pytest.raises(RuntimeError, match="Expected size for first two dimensions of batch2"):
        ember.ones(3) @ ember.ones(2, 4, 5)


def test_clamp_nodes_follow_the_bound_kinds():
    x = ember.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    assert x.clamp(0, 1).grad_fn.name() == "ClampBackward1"
    assert x.clamp(ember.tensor(0.0), 1).grad_fn.name() == "ClampBackward1"
    lo = ember.zeros(3, requires_grad=True)
    y = x.clamp(min=lo)
    assert y.grad_fn.name() == "ClampBackward0"
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0] and lo.grad.tolist() == [1.0, 0.0, 0.0]
    with pytest.raises(TypeError):
        x.clamp(ember.zeros(3), 1)


def test_where_accepts_a_uint8_condition_with_torchs_warning():
    cond = ember.tensor([1, 0], dtype=ember.uint8)
    with pytest.warns(UserWarning, match="uint8 condition"):
        out = ember.where(cond, ember.ones(2), ember.zeros(2))
    assert out.tolist() == [1.0, 0.0]
    with pytest.raises(RuntimeError, match="boolean tensor"):
        ember.where(ember.ones(2), ember.ones(2), ember.zeros(2))


def test_maximum_refuses_a_number_other_and_bitwise_refuses_floats():
    with pytest.raises(TypeError, match="must be Tensor"):
        ember.maximum(ember.ones(2), 2)
    with pytest.raises(NotImplementedError, match="bitwise_and_cpu"):
        ember.ones(2) & 1


def test_zero_dim_inputs_stay_zero_dim():
    x = ember.tensor(2.0, requires_grad=True)
    for y in (x * 3, x ** 2, x.exp(), x.clamp(0, 1), ember.where(x > 1, x, 0.0), x.sum(0)):
        assert tuple(y.shape) == ()

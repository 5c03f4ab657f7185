"""Edge cases of the per-op fast paths (flat float literals, same-dtype arithmetic, scalar
operands, Array-level backward formulas, lazy node tables): each must give what the general
path gives. ``test_torch_fast_paths.py`` checks the same expressions against torch."""
import numpy as np
import pytest

import ember as torch


# ---- tensor([...]) literals --------------------------------------------------------------------
@pytest.mark.parametrize("data, dtype", [
    ([2.0, 3.0], torch.float32),
    ([1.0, 2], torch.float32),
    ([1.0, True], torch.float32),
    ([1, 2], torch.int64),
    ([True, False], torch.bool),
    ([True, 2], torch.int64),
    ((1.5, 2.5), torch.float32),
    ([], torch.float32),
    ([[1.0], [2.0]], torch.float32),
])
def test_literal_dtype_inference(data, dtype):
    t = torch.tensor(data)
    assert t.dtype is dtype
    np.testing.assert_array_equal(t.numpy(), np.array(data, dtype=dtype.np).reshape(t.shape))


def test_literal_follows_the_default_dtype():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        assert torch.tensor([1.0, 2.0]).dtype is torch.float64
    finally:
        torch.set_default_dtype(old)


def test_literal_errors_are_the_general_paths():
    with pytest.raises(RuntimeError, match="Only Tensors of floating point"):
        torch.tensor([1, 2], requires_grad=True)
    with pytest.raises((RuntimeError, OverflowError)):
        torch.tensor([1.0, 2 ** 2000])
    with pytest.raises(TypeError):
        torch.tensor([1.0, "a"])


def test_literal_is_a_fresh_leaf():
    t = torch.tensor([2.0, 3.0], requires_grad=True)
    assert t.is_leaf and t.requires_grad and t.grad is None and t._version == 0
    u = torch.tensor([2.0, 3.0], dtype=torch.float64, requires_grad=True)
    assert u.dtype is torch.float64


# ---- forward values and dtypes ----------------------------------------------------------------
def test_mixed_float_dtypes_promote_and_grads_keep_each_inputs_dtype():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = torch.tensor([3.0, 4.0], dtype=torch.float64, requires_grad=True)
    y = a * b
    assert y.dtype is torch.float64
    y.sum().backward()
    assert a.grad.dtype is torch.float32 and b.grad.dtype is torch.float64
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 2.0])


def test_int_tensor_with_float_scalar():
    i = torch.tensor([1, 2, 3])
    assert (i * 2.5).dtype is torch.float32
    np.testing.assert_array_equal((i * 2.5).numpy(), [2.5, 5.0, 7.5])
    assert (i ** 2.0).dtype is torch.float32
    assert (i ** 2).dtype is torch.int64
    assert (i - 1).dtype is torch.int64
    assert (2.0 * i).dtype is torch.float32
    with pytest.raises(RuntimeError, match="Integers to negative integer powers"):
        i ** -1


def test_zero_dim_tensors():
    s = torch.tensor(3.0, requires_grad=True)
    v = torch.tensor([1.0, 2.0], requires_grad=True)
    y = s * v - v ** 2
    assert y.shape == (2,)
    y.sum().backward()
    assert s.grad.shape == () and s.grad.item() == pytest.approx(3.0)
    np.testing.assert_array_equal(v.grad.numpy(), [1.0, -1.0])
    d = torch.tensor(2.0, dtype=torch.float64)
    assert (v * d).dtype is torch.float32  # a 0-d tensor does not promote a dimensioned one


def test_broadcast_gradients_are_reduced():
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = torch.tensor([10.0, 20.0], requires_grad=True)
    (a * b - b ** 2).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [[10.0, 20.0], [10.0, 20.0]])
    np.testing.assert_array_equal(b.grad.numpy(), [4.0 - 40.0, 6.0 - 80.0])


def test_requires_grad_on_one_side_only():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    c = torch.tensor([3.0, 4.0])
    y = c * a - c
    assert y.grad_fn is not None
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 4.0])
    assert c.grad is None
    z = c * c
    assert z.grad_fn is None and not z.requires_grad


@pytest.mark.parametrize("e", [0, 1, 2, 3, 0.5, -1, 2.5, -0.5])
def test_pow_scalar_exponents_values_and_grads(e):
    x = torch.tensor([0.5, 2.0, 3.0], requires_grad=True)
    y = x ** e
    xs = np.array([0.5, 2.0, 3.0], dtype=np.float32)
    np.testing.assert_allclose(y.detach().numpy(), xs ** np.float32(e), rtol=1e-6)
    assert y.dtype is torch.float32
    y.backward(torch.ones(3))
    np.testing.assert_allclose(x.grad.numpy(), e * xs ** np.float32(e - 1) if e else 0 * xs,
                               rtol=1e-5)


def test_pow_of_half_and_double():
    h = torch.tensor([2.0, 3.0], dtype=torch.float16)
    assert (h ** 3).dtype is torch.float16
    np.testing.assert_array_equal((h ** 3).numpy(), [8.0, 27.0])
    d = torch.tensor([2.0, 3.0], dtype=torch.float64, requires_grad=True)
    (d ** 3).sum().backward()
    assert d.grad.dtype is torch.float64
    np.testing.assert_array_equal(d.grad.numpy(), [12.0, 27.0])


def test_pow_tensor_exponent_same_dtype():
    a = torch.tensor([2.0, 3.0])
    b = torch.tensor([3.0, 2.0])
    np.testing.assert_array_equal((a ** b).numpy(), [8.0, 9.0])
    np.testing.assert_array_equal((a ** torch.tensor(2.0)).numpy(), [4.0, 9.0])


def test_operators_refuse_unsupported_operands():
    a = torch.tensor([1.0, 2.0])
    with pytest.raises(TypeError):
        a * "x"
    with pytest.raises(TypeError):
        "x" - a
    assert (a * np.float64(2.0)).dtype is torch.float32
    assert (a * True).dtype is torch.float32


# ---- backward formulas on Arrays vs create_graph ----------------------------------------------
def test_array_level_and_tensor_level_formulas_agree():
    def grads(create_graph):
        a = torch.tensor([0.3, 1.7, -2.2], requires_grad=True)
        b = torch.tensor([1.1, -0.4, 2.5], requires_grad=True)
        q = 3 * a ** 3 - b ** 2 + a * b - 2.5 * b - a ** 0 + b.sub(a, alpha=2)
        q.backward(torch.tensor([1.0, -2.0, 0.5]), create_graph=create_graph)
        return a.grad.detach().numpy(), b.grad.detach().numpy()

    plain, graph = grads(False), grads(True)
    np.testing.assert_array_equal(plain[0], graph[0])
    np.testing.assert_array_equal(plain[1], graph[1])


def test_second_order_through_pow_mul_sub():
    x = torch.tensor([2.0], requires_grad=True)
    y = 3 * x ** 3 - x * x
    (g,) = torch.autograd.grad(y, x, create_graph=True)
    (gg,) = torch.autograd.grad(g, x)
    assert g.item() == pytest.approx(9 * 4 - 4)
    assert gg.item() == pytest.approx(18 * 2 - 2)


def test_saved_tensor_modified_in_place_still_raises():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1
    y = b ** 3
    b.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


# ---- nodes ------------------------------------------------------------------------------------
def test_node_tables_are_per_node():
    a = torch.tensor([1.0], requires_grad=True)
    y, z = a * 2, a * 3
    y.grad_fn.metadata["k"] = 1
    assert z.grad_fn.metadata == {}
    calls = []
    handle = y.grad_fn.register_prehook(lambda go: calls.append("pre"))
    y.grad_fn.register_hook(lambda gi, go: calls.append("post"))
    assert not z.grad_fn._pre_hooks and not z.grad_fn._hooks
    (y + z).backward()
    assert calls == ["pre", "post"]
    handle.remove()
    assert len(y.grad_fn._pre_hooks) == 0


def test_grad_fn_edges_and_meta():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    c = torch.tensor([1.0, 2.0])
    y = a * c
    (fn_a, nr_a), (fn_c, nr_c) = y.grad_fn.next_functions
    assert type(fn_a).__name__ == "AccumulateGrad" and fn_a.variable is a and nr_a == 0
    assert fn_c is None
    assert y.grad_fn.needs_input_grad == (True, False)
    z = y ** 2
    assert z.grad_fn.next_functions == ((y.grad_fn, 0),)

"""The per-op fast paths against torch: values, dtypes and gradients of small expressions
mixing dtypes, Python scalars, 0-d tensors, broadcasting and one-sided requires_grad."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import ember  # noqa: E402

CASES = {
    "tutorial": lambda L, a, b: 3 * a ** 3 - b ** 2,
    "mul_scalar_both_sides": lambda L, a, b: 2.5 * a * 4,
    "sub_alpha": lambda L, a, b: L.sub(a, b, alpha=3),
    "rsub_scalar": lambda L, a, b: 1 - a,
    "pow_half": lambda L, a, b: b ** 0.5,
    "pow_one_zero": lambda L, a, b: a ** 1 + b ** 0,
    "pow_neg": lambda L, a, b: b ** -2,
    "pow_tensor": lambda L, a, b: b ** a,
    "mul_float64": lambda L, a, b: a * b.double(),
    "zero_dim": lambda L, a, b: a * L.tensor(2.0, dtype=L.float64) - b[0],
    "broadcast": lambda L, a, b: a.reshape(2, 1) * b - b ** 2,
    "one_sided": lambda L, a, b: a * L.tensor([5.0, 7.0]) - L.tensor([1.0, 1.0]),
    "int_mix": lambda L, a, b: a * L.tensor([2, 3]) + L.tensor([1, 2]) * 0.5,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_expression_matches_torch(name):
    fn = CASES[name]
    results = {}
    for L in (ember, torch):
        a = L.tensor([2.0, 3.0], requires_grad=True)
        b = L.tensor([6.0, 4.0], requires_grad=True)
        out = fn(L, a, b)
        out.backward(L.ones_like(out))
        results[L.__name__] = (out.detach().numpy(), str(out.dtype).split(".")[-1],
                               None if a.grad is None else a.grad.numpy(),
                               None if b.grad is None else b.grad.numpy())
    e, t = results["ember"], results["torch"]
    assert e[1] == t[1]
    np.testing.assert_allclose(e[0], t[0], rtol=1e-6)
    for eg, tg in zip(e[2:], t[2:]):
        assert (eg is None) == (tg is None)
        if eg is not None:
            np.testing.assert_allclose(eg, tg, rtol=1e-6)


@pytest.mark.parametrize("data", [[2.0, 3.0], [1.0, 2], [True, 1.5], [1, 2], [True, False],
                                  [True, 2], []])
def test_literal_matches_torch(data):
    e, t = ember.tensor(data), torch.tensor(data)
    assert str(e.dtype) == str(t.dtype).replace("torch", "ember")
    assert repr(e) == repr(t)


def test_int_requires_grad_error_matches_torch():
    with pytest.raises(RuntimeError) as te:
        torch.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError) as ee:
        ember.tensor([1, 2], requires_grad=True)
    assert str(ee.value) == str(te.value)

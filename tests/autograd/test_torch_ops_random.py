"""normal, bernoulli, multinomial and their methods against live torch: result shapes,
dtypes, grad_fn names, zero gradients and errors. The draws themselves differ from torch's
(Ember's stream is NumPy's PCG64, README), so values are checked by their statistics and by
reproducibility under manual_seed / Generator."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ember  # noqa: E402
from dropin_helpers import same as _same  # noqa: E402


def same(fn):
    _same(torch, fn)


def meta(t):
    return tuple(t.shape), str(t.dtype).split(".")[-1], type(t.grad_fn).__name__


@pytest.mark.parametrize("fn", [
    lambda L: L.normal(L.zeros(3), L.ones(3)),
    lambda L: L.normal(L.zeros(3, requires_grad=True), L.ones(3)),
    lambda L: L.normal(L.zeros(3, requires_grad=True), L.ones(3, requires_grad=True)),
    lambda L: L.normal(L.zeros(3, requires_grad=True), 2.0),
    lambda L: L.normal(1.0, L.ones(2, 3, requires_grad=True)),
    lambda L: L.normal(L.zeros(2, 1), L.ones(3)),
    lambda L: L.normal(L.zeros(2).double(), L.ones(2)),
    lambda L: L.normal(L.zeros(2), L.ones(2).double()),
    lambda L: L.normal(0.0, 1.0, (2, 3)),
    lambda L: L.normal(0.0, 1.0, size=(4,), dtype=L.float64),
    lambda L: L.normal(0.0, 1.0, (2,), requires_grad=True),
    lambda L: L.bernoulli(L.full((2, 3), 0.5)),
    lambda L: L.bernoulli(L.full((3,), 0.5, dtype=L.float64, requires_grad=True)),
    lambda L: L.full((3,), 0.5).bernoulli(),
    lambda L: L.bernoulli(L.zeros(4), 0.5),
    lambda L: L.multinomial(L.tensor([0.2, 0.8]), 5, True),
    lambda L: L.tensor([[0.2, 0.8, 1.0], [1.0, 1.0, 1.0]]).multinomial(3),
], ids=["normal_tt", "normal_tt_grad", "normal_tt_both", "normal_tf", "normal_ft",
        "normal_broadcast", "normal_double_mean", "normal_double_std", "normal_ff_size",
        "normal_dtype", "normal_requires_grad", "bernoulli", "bernoulli_grad",
        "bernoulli_method", "bernoulli_p", "multinomial_replacement", "multinomial_rows"])
def test_shapes_dtypes_and_grad_fns(fn):
    assert meta(fn(ember)) == meta(fn(torch))


@pytest.mark.parametrize("fn", [
    lambda L: L.normal(0.0, -1.0, size=(2,)),
    lambda L: L.normal(L.zeros(2), -L.ones(2)),
    lambda L: L.normal(L.zeros(2), -1.0),
    lambda L: L.normal(L.zeros(2).long(), L.ones(2)),
    lambda L: L.zeros(2).long().normal_(),
    lambda L: L.zeros(2).normal_(0, -1),
    lambda L: L.multinomial(L.tensor([0.2, 0.8]), 3),
    lambda L: L.multinomial(L.tensor([0.2, 0.8]), 0),
    lambda L: L.multinomial(L.tensor([0.0, 0.0]), 1),
    lambda L: L.multinomial(L.tensor([-1.0, 2.0]), 1),
    lambda L: L.multinomial(L.tensor([1, 2]), 1),
    lambda L: L.multinomial(L.ones(2, 2, 2), 1),
    lambda L: L.multinomial(L.tensor([0.0, 1.0, 0.0]), 3, True),
    lambda L: L.multinomial(L.tensor([[0.0, 1.0, 0.0], [1.0, 0, 0]]), 1),
    lambda L: L.multinomial(L.tensor([0.0, 1.0, 0.0]), 3)[0],
    lambda L: L.bernoulli(L.tensor([0, 1, 0])),
    lambda L: L.bernoulli(L.tensor([0.0, 2.0])),
    lambda L: L.bernoulli(L.zeros(3), 1.5),
    lambda L: L.zeros(3).bernoulli_(L.tensor([1.0, 0.0, 1.0])),
    lambda L: L.zeros(3).long().bernoulli_(1.0),
    lambda L: L.zeros(3).bernoulli_(L.tensor([2.0, 0.0, 1.0])),
    lambda L: L.zeros(3).bernoulli_(1.5),
    lambda L: L.bernoulli(L.tensor([0.0, 1.0, 1.0, 0.0])),
], ids=["std_negative", "std_tensor_negative", "std_float_negative", "normal_long",
        "normal__long", "normal__std", "multinomial_too_many", "multinomial_zero",
        "multinomial_zero_sum", "multinomial_negative", "multinomial_long", "multinomial_3d",
        "multinomial_certain", "multinomial_certain_rows", "multinomial_nonzero_first",
        "bernoulli_long", "bernoulli_range", "bernoulli_p_range", "bernoulli__tensor",
        "bernoulli__long", "bernoulli__tensor_range", "bernoulli__range", "bernoulli_certain"])
def test_errors_and_certain_outcomes(fn):
    same(fn)


def test_zero_gradients_as_torch():
    for L in (ember, torch):
        m, s = L.zeros(3, requires_grad=True), L.ones(3, requires_grad=True)
        (L.normal(m, s) * 3).sum().backward()
        p = L.full((3,), 0.5, requires_grad=True)
        L.bernoulli(p).sum().backward()
        assert m.grad.tolist() == s.grad.tolist() == p.grad.tolist() == [0.0, 0.0, 0.0]


def test_statistics():
    ember.manual_seed(0)
    x = ember.normal(ember.full((20000,), 2.0), ember.full((20000,), 3.0))
    assert abs(x.mean().item() - 2.0) < 0.1 and abs(x.std().item() - 3.0) < 0.1
    b = ember.bernoulli(ember.full((20000,), 0.3))
    assert abs(b.mean().item() - 0.3) < 0.02
    counts = np.bincount(ember.multinomial(ember.tensor([1.0, 2.0, 7.0]), 20000, True).numpy(),
                         minlength=3)
    np.testing.assert_allclose(counts / 20000, [0.1, 0.2, 0.7], atol=0.02)
    # without replacement, first draws follow p; every row is a permutation of distinct ids
    draws = ember.multinomial(ember.tensor([[1.0, 2.0, 7.0]] * 5000), 3).numpy()
    assert (np.sort(draws, axis=1) == [0, 1, 2]).all()
    np.testing.assert_allclose(np.bincount(draws[:, 0], minlength=3) / 5000, [0.1, 0.2, 0.7],
                               atol=0.03)


def test_reproducible_under_seed_and_generator():
    def draw():
        return [ember.normal(0.0, 1.0, (4,)).tolist(), ember.bernoulli(ember.full((4,), 0.5)).tolist(),
                ember.multinomial(ember.ones(6), 6).tolist()]
    ember.manual_seed(7)
    first = draw()
    ember.manual_seed(7)
    assert draw() == first
    g = ember.Generator().manual_seed(1)
    a = ember.multinomial(ember.ones(6), 6, generator=g).tolist()
    g.manual_seed(1)
    assert ember.multinomial(ember.ones(6), 6, generator=g).tolist() == a

"""log10, lerp, addcmul, addcdiv, the softmax forms, torch.linalg and einsum against torch's
recorded answers (golden/ops_extra.json, from tools/make_golden_ops_extra.py): outputs,
input gradients, grad_fn names and errors; gradcheck on every differentiable case; and the
random ops' reproducibility under manual_seed. Runs without torch."""
import json
import pathlib

import numpy as np
import pytest

import ember
import ops_extra_cases as C
from dropin_helpers import even
from ember.autograd import gradcheck

GOLDEN = json.loads((pathlib.Path(__file__).parent / "golden" / "ops_extra.json").read_text())


@pytest.mark.parametrize("name", list(C.CASES))
def test_matches_torch(name):
    want = GOLDEN["cases"][name]
    outs, grads, names = C.run(ember, name)
    if not name.startswith("einsum"):  # torch records einsum's primitives (README)
        assert names == want["grad_fns"]
    for got, ref in zip(outs + grads, want["outputs"] + want["grads"]):
        np.testing.assert_allclose(got, np.asarray(ref), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("name", list(C.CASES))
def test_gradcheck(name):
    fn, arrays = C.CASES[name]
    inputs = tuple(ember.tensor(a, requires_grad=True) for a in arrays)
    assert gradcheck(lambda *xs: fn(ember, *xs), inputs)


@pytest.mark.parametrize("name", list(C.ERRORS))
def test_errors_match_torch(name):
    kind, message = GOLDEN["errors"][name]
    got_kind, got_message = C.error(ember, name)
    assert (got_kind, even(got_message)) == (kind, even(message))


def test_golden_covers_every_case():
    assert set(GOLDEN["cases"]) == set(C.CASES) and set(GOLDEN["errors"]) == set(C.ERRORS)


def test_random_reproducible_under_manual_seed():
    def draw():
        return (ember.normal(ember.zeros(3), ember.ones(3)).tolist(),
                ember.normal(1.0, 2.0, (2,)).tolist(),
                ember.bernoulli(ember.full((5,), 0.5)).tolist(),
                ember.multinomial(ember.tensor([1.0, 2.0, 3.0, 4.0]), 4).tolist(),
                ember.multinomial(ember.tensor([1.0, 2.0]), 6, True).tolist())
    ember.manual_seed(2024)
    first = draw()
    ember.manual_seed(2024)
    assert draw() == first
    assert sorted(first[3]) == [0, 1, 2, 3]

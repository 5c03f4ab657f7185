"""Sorting, selection, scatter, counting and diagonal ops (issue 14) against live torch:
printed results (values, indices, dtypes, grad_fn names, return types), gradients and errors
of the cases in sorting_cases.py. (gradcheck/gradgradcheck of the same ops run in the default
suite, test_ops_sorting.py: they need no torch.)"""
import pytest

torch = pytest.importorskip("torch")

import ember  # noqa: E402
from dropin_helpers import same as _same  # noqa: E402
from sorting_cases import ERROR_CASES, GRAD_CASES, TIE_CASES, VALUE_CASES, grad_of  # noqa: E402

# scatter(..., reduce=) with a Tensor src warns under both, as deprecated; checked once below
pytestmark = pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")


def same(fn):
    _same(torch, fn)


@pytest.mark.parametrize("fn", list(VALUE_CASES.values()), ids=list(VALUE_CASES))
def test_values(fn):
    same(fn)


@pytest.mark.parametrize("fn", list(ERROR_CASES.values()), ids=list(ERROR_CASES))
def test_errors(fn):
    same(fn)


@pytest.mark.parametrize("make", list(GRAD_CASES.values()), ids=list(GRAD_CASES))
def test_grads(make):
    same(grad_of(make))


@pytest.mark.parametrize("fn", list(TIE_CASES.values()), ids=list(TIE_CASES))
def test_ties_and_scatter_reduce_grads(fn):
    same(fn)


def test_scatter_reduce_keyword_warns_as_torch():
    with pytest.warns(UserWarning, match="The reduce argument of torch.scatter with Tensor src"):
        ember.zeros(3).scatter(0, ember.tensor([0, 0]), ember.ones(2), reduce="add")


@pytest.mark.parametrize("call", [
    lambda L: L.tensor([3., 1.]).sort(0, stable=True),
    lambda L: L.sort(L.tensor([3., 1.]), 0, descending=True, stable=True),
    lambda L: L.tensor([3., 1.]).argsort(0, stable=True),
    lambda L: L.argsort(L.tensor([3., 1.]), -1, stable=False),
])
def test_stable_with_positional_dim_is_refused(call):
    """torch's parser refuses ``stable=`` beside a positional dim; Ember says the same first
    line (without the list of signatures torch prints after it)."""
    with pytest.raises(TypeError) as theirs:
        call(torch)
    with pytest.raises(TypeError) as ours:
        call(ember)
    assert str(ours.value) == str(theirs.value).split("\n")[0]

"""Issue 14's sorting, selection, scatter, counting and diagonal ops without torch: each case
of sorting_cases.py against what torch printed or raised (golden/sorting.json, written by
tools/make_golden_sorting.py), and gradcheck/gradgradcheck of every differentiable op in
float64."""
import json
import pathlib
import warnings

import pytest

import ember
from dropin_helpers import outcome
from sorting_cases import ALL_CASES, DISTINCT, GRAD_CASES

GOLDEN = json.loads((pathlib.Path(__file__).parent / "golden" / "sorting.json").read_text())


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_case_matches_torch(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scatter(reduce=)'s deprecation, checked below
        got = outcome(ember, ALL_CASES[name])
    assert list(got) == GOLDEN[name]


def test_every_case_has_a_golden_answer():
    assert sorted(ALL_CASES) == sorted(GOLDEN)


def test_stable_with_positional_dim_is_refused_as_torch():
    with pytest.raises(TypeError, match=r"^sort\(\) received an invalid combination of "
                       r"arguments - got \(Tensor, int, stable=bool, descending=bool\), but "
                       r"expected one of:$"):
        ember.sort(ember.tensor([3., 1.]), 0, descending=True, stable=True)


def test_return_types_are_torchs_named_tuples():
    """One class per op in ember.return_types (as torch.return_types): fields, isinstance,
    unpacking, pickling; max/min share them."""
    import pickle

    r = ember.topk(ember.tensor([1., 3., 2.]), 2)
    assert isinstance(r, ember.return_types.topk) and isinstance(r, tuple)
    values, indices = r
    assert values is r.values is r[0] and indices is r.indices is r[1]
    assert r._fields == ("values", "indices")
    back = pickle.loads(pickle.dumps(r))
    assert type(back) is ember.return_types.topk and back.indices.tolist() == [1, 2]
    assert type(ember.tensor([[1., 2.]]).max(1)).__name__ == "max"
    with pytest.raises(TypeError, match=r"takes a 2-sequence \(3-sequence given\)"):
        ember.return_types.sort((1, 2, 3))


def test_scatter_reduce_keyword_warns():
    with pytest.warns(UserWarning, match="The reduce argument of torch.scatter with Tensor src"):
        ember.zeros(3).scatter(0, ember.tensor([0, 0]), ember.ones(2), reduce="add")


def _f64(*shape):
    return ember.tensor(DISTINCT, dtype=ember.float64).reshape(*shape).requires_grad_()


@pytest.mark.parametrize("make", list(GRAD_CASES.values()), ids=list(GRAD_CASES))
def test_gradcheck(make):
    def fn(x):
        out = make(ember, x)
        return out[0] if isinstance(out, tuple) else out
    x = _f64(2, 3, 4)
    assert ember.autograd.gradcheck(fn, (x,))
    assert ember.autograd.gradgradcheck(fn, (x,))


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
def test_gradcheck_scatter_reduce(reduce):
    idx = ember.tensor([[0, 2, 0, 0], [1, 1, 2, 1]])

    def fn(x, src):
        return ember.scatter_reduce(x, 1, idx, src, reduce, include_self=False)
    x = ember.tensor([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]], dtype=ember.float64,
                     requires_grad=True)
    src = ember.tensor([[2.0, 0.25, -3.0, 1.0], [5.0, -0.5, 2.5, 0.75]], dtype=ember.float64,
                       requires_grad=True)
    assert ember.autograd.gradcheck(fn, (x, src))


def test_gradcheck_two_input_ops():
    idx = ember.tensor([[0, 1, 2, 0], [2, 0, 0, 1]])
    ember.manual_seed(0)
    x = ember.rand(3, 4, dtype=ember.float64, requires_grad=True)
    src = ember.rand(2, 4, dtype=ember.float64, requires_grad=True)
    v = ember.tensor(0.5, dtype=ember.float64, requires_grad=True)
    i = ember.tensor([0, 2])
    for fn in (lambda a, b: ember.scatter(a, 0, idx, b),
               lambda a, b: ember.scatter_add(a, 0, idx, b),
               lambda a, b: ember.index_add(a, 0, i, b, alpha=-2),
               lambda a, b: ember.index_copy(a, 0, i, b)):
        assert ember.autograd.gradcheck(fn, (x, src))
        assert ember.autograd.gradgradcheck(fn, (x, src))
    assert ember.autograd.gradcheck(lambda a, b: a.index_fill(1, i, b), (x, v))

"""out= on the everyday functions against live torch: the value, that ``out`` itself is
returned, resizing (silent when empty, warned otherwise), dtype rules and the refusal to
differentiate through out=."""
import warnings

import pytest

torch = pytest.importorskip("torch")

import ember  # noqa: E402
from dropin_helpers import even  # noqa: E402

M, V = (lambda L: L.ones(2, 3)), (lambda L: L.ones(3, 2))
CASES = {
    "matmul": lambda L, o: L.matmul(M(L), V(L), out=o),
    "mm": lambda L, o: L.mm(M(L), V(L), out=o),
    "bmm": lambda L, o: L.bmm(L.ones(1, 2, 3), L.ones(1, 3, 2), out=o),
    "addmm": lambda L, o: L.addmm(L.ones(2, 2), M(L), V(L), out=o),
    "mv": lambda L, o: L.mv(M(L), L.ones(3), out=o),
    "dot": lambda L, o: L.dot(L.ones(3), L.ones(3), out=o),
    "add": lambda L, o: L.add(L.ones(2, 2), 1, out=o),
    "sub": lambda L, o: L.sub(L.ones(2, 2), L.ones(2), alpha=2, out=o),
    "mul": lambda L, o: L.mul(L.ones(2, 2), 2, out=o),
    "div": lambda L, o: L.div(L.ones(2, 2), 2, out=o),
    "pow": lambda L, o: L.pow(L.full((2, 2), 3.0), 2, out=o),
    "sum": lambda L, o: L.sum(L.ones(2, 2), 0, out=o),
    "mean": lambda L, o: L.mean(L.ones(2, 2), 0, out=o),
    "prod": lambda L, o: L.prod(L.full((2, 2), 2.0), 1, out=o),
    "cat": lambda L, o: L.cat([L.ones(1, 2), L.zeros(1, 2)], out=o),
    "stack": lambda L, o: L.stack([L.ones(2), L.zeros(2)], out=o),
    "clamp": lambda L, o: L.clamp(L.ones(2, 2), 0, 0.5, out=o),
    "exp": lambda L, o: L.exp(L.ones(2, 2), out=o),
    "log10": lambda L, o: L.log10(L.full((2,), 100.0), out=o),
    "sqrt": lambda L, o: L.sqrt(L.full((2,), 4.0), out=o),
    "maximum": lambda L, o: L.maximum(L.ones(2, 2), L.zeros(2, 2), out=o),
    "where": lambda L, o: L.where(L.ones(2, 2) > 0, L.ones(2, 2), L.zeros(2, 2), out=o),
    "eq": lambda L, o: L.eq(L.ones(2, 2), 1, out=o),
    "cumsum": lambda L, o: L.cumsum(L.ones(2, 2), 0, out=o),
    "lerp": lambda L, o: L.lerp(L.ones(2, 2), L.zeros(2, 2), 0.25, out=o),
    "addcmul": lambda L, o: L.addcmul(L.ones(2, 2), L.ones(2, 2), L.ones(2, 2), out=o),
    "arange": lambda L, o: L.arange(4, out=o),
    "zeros": lambda L, o: L.zeros(2, 2, out=o),
    "full": lambda L, o: L.full((2,), 7, out=o),
}
OUTS = {
    "empty": lambda L: L.empty(0),
    "resized": lambda L: L.zeros(5),
    "double": lambda L: L.zeros(0, dtype=L.float64),
    "long": lambda L: L.zeros(0, dtype=L.int64),
    "requires_grad": lambda L: L.zeros(0, requires_grad=True),
}


def outcome(L, make, out):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        o = out(L)
        try:
            r = make(L, o)
            result = ("ok", even(repr(r)), r is o)
        except Exception as exc:  # noqa: BLE001 - the error is what we compare
            result = ("raise", type(exc).__name__, even(str(exc)))
    return result + (len(caught),)


@pytest.mark.parametrize("out", list(OUTS))
@pytest.mark.parametrize("name", list(CASES))
def test_out_forms(name, out):
    if name in ("arange", "zeros", "full") and out in ("resized", "requires_grad"):
        pytest.skip("factories: resize warnings and grad checks are not mirrored (README)")
    assert outcome(ember, CASES[name], OUTS[out]) == outcome(torch, CASES[name], OUTS[out])


@pytest.mark.parametrize("fn", [
    lambda L: L.matmul(L.ones(2, 3, requires_grad=True), L.ones(3, 2), out=L.empty(0)),
    lambda L: L.add(L.ones(2, requires_grad=True), 1, out=L.empty(0)),
    lambda L: L.cat([L.ones(2, requires_grad=True)], out=L.empty(0)),
    lambda L: L.sum(L.ones(2, 2, requires_grad=True), 0, out=L.empty(0)),
])
def test_out_refuses_autograd_and_allows_no_grad(fn):
    assert outcome(ember, lambda L, o: fn(L), OUTS["empty"]) == outcome(
        torch, lambda L, o: fn(L), OUTS["empty"])
    with ember.no_grad(), torch.no_grad():
        assert fn(ember).tolist() == fn(torch).tolist()

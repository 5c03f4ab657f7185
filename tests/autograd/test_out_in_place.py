"""``ember.add(a, b, out=o)`` and its kin write straight into ``o``: same memory, no temporary
result the size of the output (which made out= twice the time of the plain op), and the
general compute-then-copy path still taken where writing in place would be wrong."""
import tracemalloc

import numpy as np
import pytest

import ember

N = 200_000  # 800 KB of float32: a temporary would stand out against the tolerance below


def _operands():
    rng = np.random.default_rng(0)
    a = ember.from_numpy(rng.standard_normal(N, dtype=np.float32))
    b = ember.from_numpy(rng.standard_normal(N, dtype=np.float32))
    return a, b


CASES = [
    ("add", lambda a, b, **k: ember.add(a, b, **k), lambda a, b: a + b),
    ("sub", lambda a, b, **k: ember.sub(a, b, **k), lambda a, b: a - b),
    ("mul scalar", lambda a, b, **k: ember.mul(a, 3.0, **k), lambda a, b: a * 3.0),
    ("div", lambda a, b, **k: ember.div(a, b, **k), lambda a, b: a / b),
    ("true_divide", lambda a, b, **k: ember.true_divide(a, b, **k), lambda a, b: a / b),
]


@pytest.mark.parametrize("name,call,plain", CASES, ids=[c[0] for c in CASES])
def test_out_writes_in_place_without_a_temporary(name, call, plain):
    a, b = _operands()
    out = ember.empty(N)
    ptr, version = out.data_ptr(), out._version
    call(a, b, out=out)  # first call: lazy set-up (kernel look-ups) stays out of the count
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        res = call(a, b, out=out)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert res is out
    assert out.data_ptr() == ptr
    assert out._version == version + 2
    assert peak < 64 * 1024, f"{name}(out=) allocated {peak} bytes: a temporary result"
    assert ember.equal(out, plain(a, b))


def test_out_may_be_an_input():
    a, b = _operands()
    want = a + b
    ptr = a.data_ptr()
    ember.add(a, b, out=a)
    assert a.data_ptr() == ptr and ember.equal(a, want)


def test_out_overlapping_an_input_partly_computes_first():
    x = ember.arange(10.0)
    ember.add(x[1:], x[:-1], out=x[:-1])  # in place, x[1] would be read after being written
    assert x.tolist() == [1.0, 3.0, 5.0, 7.0, 9.0, 11.0, 13.0, 15.0, 17.0, 9.0]
    y = ember.arange(6.0)
    ember.mul(y[:3], y.view(2, 3)[1], out=y[3:])  # a disjoint view of the same memory
    assert y.tolist() == [0.0, 1.0, 2.0, 0.0, 4.0, 10.0]


def test_out_resizes_casts_and_broadcasts_as_before():
    a = ember.ones(2, 3)
    out = ember.empty(0, dtype=ember.float64)
    ember.add(a, ember.tensor([1.0, 2.0, 3.0]), out=out)  # empty out: resized silently
    assert out.dtype is ember.float64 and out.tolist() == [[2.0, 3.0, 4.0]] * 2
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
        ember.add(a, a, out=ember.empty(2, 3, dtype=ember.int64))
    with pytest.warns(UserWarning, match="was resized"):
        ember.mul(a, 2, out=ember.empty(5))
    out = ember.empty(2, 3)
    ember.add(a, a, alpha=3, out=out)
    assert out.tolist() == [[4.0] * 3] * 2


def test_out_with_grad_still_refused():
    a = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        ember.add(a, a, out=ember.empty(3))
    out = ember.empty(3)
    with ember.no_grad():
        ember.add(a, a, out=out)
    assert out.tolist() == [2.0, 2.0, 2.0]


def test_out_keeps_torch_dtype_rules_on_the_short_path():
    a, b = ember.arange(6).view(2, 3), ember.full((2, 3), 4)
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
        ember.div(a, b, out=ember.empty(2, 3, dtype=ember.int64))  # true division: floats
    out = ember.empty(2, 3)
    ember.div(a, b, out=out)
    assert out.tolist() == [[0.0, 0.25, 0.5], [0.75, 1.0, 1.25]]
    flags = ember.empty(3, dtype=ember.bool)
    ember.add(ember.tensor([True, False, False]), ember.tensor([False, False, True]), out=flags)
    assert flags.tolist() == [True, False, True]
    with pytest.raises(RuntimeError, match="Subtraction, the `-` operator, with two bool"):
        ember.sub(flags, flags, out=ember.empty(3, dtype=ember.bool))

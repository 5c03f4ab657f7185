"""Elementwise ops against live torch: random data, every dtype, strided and broadcast layouts."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

import ember_tensor as et  # noqa: E402
from ember_tensor import elementwise as E  # noqa: E402

RNG = np.random.default_rng(1)
DTYPES = ["float32", "float64", "int64", "int32", "int16", "int8", "uint8", "bool"]


def sample(shape, dtype):
    if dtype == "bool":
        return np.asarray(RNG.random(shape) > 0.5)
    if dtype.startswith("float"):
        return np.asarray(RNG.standard_normal(shape).astype(dtype) * 3)
    lo = 0 if dtype == "uint8" else -20
    return np.asarray(RNG.integers(lo, 20, size=shape).astype(dtype))


def nonzero(shape, dtype):
    x = sample(shape, dtype)
    if dtype != "bool":
        x[x == 0] = 1
    return x


def both(x):
    return et.from_numpy(x), torch.from_numpy(x)


def namespace(lib):
    mod = E if lib == "ember" else torch
    ns = {name: getattr(mod, name) for name in (
        "add sub mul div remainder floor_divide maximum minimum eq lt ge where clamp exp "
        "sigmoid tanh relu abs neg logical_xor bitwise_and"
    ).split()}
    ns["gelu"] = E.gelu if lib == "ember" else F.gelu
    ns["leaky_relu"] = E.leaky_relu if lib == "ember" else F.leaky_relu
    return ns


def assert_same(got, want, atol=1e-6):
    if isinstance(want, Exception):
        assert isinstance(got, Exception), f"ember returned {got!r}, torch raised {want!r}"
        assert type(got).__name__ == type(want).__name__, (got, want)
        assert str(got).split("\n")[0] == str(want).split("\n")[0]
        return
    assert not isinstance(got, Exception), f"ember raised {got!r}, torch gave {want!r}"
    assert got.dtype.name == str(want.dtype).replace("torch.", "")
    assert tuple(got.shape) == tuple(want.shape)
    w = want.numpy()
    if w.dtype.kind == "f":
        np.testing.assert_allclose(got.numpy(), w, rtol=3e-6, atol=atol, equal_nan=True)
    else:
        np.testing.assert_array_equal(got.numpy(), w)


def compare(expr, atol=1e-6, **arrays):
    results = []
    for lib in ("ember", "torch"):
        ns = namespace(lib)
        for k, v in arrays.items():
            ns[k] = et.from_numpy(v) if lib == "ember" else torch.from_numpy(v)
        try:
            results.append(eval(expr, ns))  # noqa: S307 - the test's own expressions
        except Exception as err:  # noqa: BLE001 - compared below
            results.append(err)
    assert_same(*results, atol=atol)


EXPRS = ["a + b", "a - b", "a * b", "a / b", "a // b", "a % b", "maximum(a, b)", "a == b",
         "a < b", "a >= b", "a & b", "a ** 2", "2 * a + 1", "a - 1.5", "logical_xor(a, b)",
         "where(a > b, a, b)", "abs(a)", "-a", "relu(a)", "exp(a)", "sigmoid(a)"]


@pytest.mark.parametrize("expr", EXPRS)
@pytest.mark.parametrize("da", DTYPES)
@pytest.mark.parametrize("db", ["float32", "int64", "int32", "uint8", "bool"])
def test_mixed_dtypes(expr, da, db):
    compare(expr, a=sample((3, 4), da), b=nonzero((3, 4), db))


@pytest.mark.parametrize("expr", ["a + b", "a * b", "a / b", "a > b", "maximum(a, b)",
                                  "where(b > 0, a, b)", "clamp(a, -1, b)",
                                  "clamp(a, b, b + 1)"])
@pytest.mark.parametrize("shapes", [((2, 3, 4), (4,)), ((2, 3, 4), (3, 1)), ((1, 4), (5, 1)),
                                    ((2, 1, 4), (1, 3, 1)), ((0, 3), (3,)), ((), (2, 2)),
                                    ((3,), ())])
def test_broadcasting(expr, shapes):
    a, b = sample(shapes[0], "float32"), sample(shapes[1], "float32")
    compare(expr, a=a, b=b)


def strided_views(x):
    yield x
    yield x.transpose(1, 0, 2)
    yield x[:, ::2]
    yield x[1:3, 1:, 1:4]
    yield np.broadcast_to(x[:, :1], x.shape)


@pytest.mark.parametrize("expr", ["a + b", "a * b", "a - b", "gelu(a)", "tanh(a)",
                                  "leaky_relu(a, 0.2)", "a > b"])
def test_strided_inputs(expr):
    base_a, base_b = sample((4, 4, 5), "float32"), sample((4, 4, 5), "float32")
    for va in strided_views(base_a):
        for vb in strided_views(base_b):
            if va.shape == vb.shape:
                compare(expr, a=va, b=vb)


@pytest.mark.parametrize("stmt", [
    "a.add_(b)", "a.sub_(b, alpha=2)", "a.mul_(b)", "a.div_(b)", "a.clamp_(-1, 1)",
    "a.relu_()", "a.neg_()", "a.exp_()", "a.copy_(b)", "a.fill_(3)", "a.zero_()",
    "a.add_(1)", "a.pow_(2)",
])
@pytest.mark.parametrize("da,db", [("float32", "float32"), ("float64", "float32"),
                                   ("int64", "int64"), ("int64", "float32"),
                                   ("float32", "int32")])
def test_inplace(stmt, da, db):
    values = {}
    outcome = {}
    x, y = sample((3, 4), da), nonzero((4,), db)
    for lib in ("ember", "torch"):
        ns = namespace(lib)
        conv = et.from_numpy if lib == "ember" else torch.from_numpy
        a = conv(x.copy())
        ns.update(a=a, b=conv(y.copy()))
        try:
            r = eval(stmt, ns)  # noqa: S307
            assert r is a
            outcome[lib] = None
        except Exception as err:  # noqa: BLE001
            outcome[lib] = err
        values[lib] = a
    if outcome["torch"] is not None:
        assert_same(outcome["ember"], outcome["torch"])
    else:
        assert outcome["ember"] is None, outcome["ember"]
        assert_same(values["ember"], values["torch"])


def test_inplace_on_strided_destination():
    x = sample((4, 6), "float32")
    e, t = both(x.copy())
    e.t().add_(et.from_numpy(np.arange(4, dtype=np.float32)))
    t.t().add_(torch.arange(4, dtype=torch.float32))
    np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize("fn,args", [
    ("threshold_backward", (0.0,)), ("sigmoid_backward", ()), ("tanh_backward", ()),
    ("gelu_backward", ("none",)), ("gelu_backward", ("tanh",)),
    ("leaky_relu_backward", (0.1,)),
])
def test_backward_helpers(fn, args):
    g, x = sample((5, 7), "float32"), sample((5, 7), "float32")
    if fn in ("sigmoid_backward", "tanh_backward"):
        x = np.tanh(x) if fn == "tanh_backward" else 1 / (1 + np.exp(-x))
    got = getattr(E, fn)(et.from_numpy(g), et.from_numpy(x), *args)
    if fn == "gelu_backward":
        want = torch.ops.aten.gelu_backward(torch.from_numpy(g), torch.from_numpy(x),
                                            approximate=args[0])
    elif fn == "leaky_relu_backward":
        want = torch.ops.aten.leaky_relu_backward(torch.from_numpy(g), torch.from_numpy(x),
                                                  args[0], False)
    else:
        want = getattr(torch.ops.aten, fn)(torch.from_numpy(g), torch.from_numpy(x), *args)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


def test_large_parallel_matches_torch():
    torch.set_num_threads(2)
    a, b = sample((300, 1000), "float32"), sample((1000,), "float32")
    compare("a * b + a", a=a, b=b)
    compare("a.T - 1", a=a)
    compare("gelu(a)", a=a, atol=2e-6)  # torch's vectorised float32 erf is a little coarser

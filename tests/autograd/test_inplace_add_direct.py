"""``x += y`` / ``x.add_(y)`` / ``x.sub_(y)`` on two plain float arrays of one dtype and
shape write x's memory with the kernel (``inplace._direct_binary`` on
``fast_path.binary_inplace``) instead of computing the result beside x and copying it back.
Everything observable must be what the general in-place form gives: values, node and edges,
versions, gradients, hooks, errors; every other call (broadcasting, promotion, alpha, views,
overlapping or read-only memory, integers) still takes the general form."""
import numpy as np
import pytest

import ember
from ember._ops import inplace as inplace_mod
from ember_tensor._kernels import fast_path


@pytest.fixture
def general(monkeypatch):
    monkeypatch.setattr(inplace_mod, "USE_DIRECT_BINARY", False)


@pytest.fixture
def spy(monkeypatch):
    calls = []
    real = fast_path.binary_inplace

    def counted(name, a, b):
        took = real(name, a, b)
        calls.append(took)
        return took
    monkeypatch.setattr(inplace_mod, "_binary_inplace", counted)
    return calls


def _data(shape, dtype, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _step(op, shape, dtype, grad_other=True, size=None):
    x = ember.tensor(_data(shape, dtype, 0), requires_grad=True)
    y = ember.tensor(_data(shape, dtype, 1), requires_grad=grad_other)
    z = x * 2.0
    v0 = z._version
    if op == "iadd":
        z += y
    elif op == "add_":
        assert z.add_(y) is z
    else:
        assert z.sub_(y) is z
    w = ember.tensor(np.arange(z.numel(), dtype=dtype).reshape(shape))
    (z * w).sum().backward()
    return (z.detach().numpy().copy(), x.grad.numpy(), None if y.grad is None else
            y.grad.numpy(), type(z.grad_fn).__name__, z._version - v0,
            [type(f).__name__ if f is not None else None for f, _ in z.grad_fn.next_functions])


def _both(monkeypatch, fn):
    a = fn()
    monkeypatch.setattr(inplace_mod, "USE_DIRECT_BINARY", False)
    b = fn()
    monkeypatch.setattr(inplace_mod, "USE_DIRECT_BINARY", True)
    return a, b


@pytest.mark.parametrize("op", ["iadd", "add_", "sub_"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5,), (2, 3, 4), (1, 64, 16, 16), (2, 64, 32, 32)])
@pytest.mark.parametrize("grad_other", [True, False])
def test_direct_matches_the_general_form(monkeypatch, spy, op, dtype, shape, grad_other):
    # (2, 64, 32, 32) is past the work bound: strided.launch writes x there
    a, b = _both(monkeypatch, lambda: _step(op, shape, dtype, grad_other))
    assert spy == [True]  # the first run took the direct path, the second did not ask
    for u, v in zip(a, b):
        if isinstance(u, np.ndarray):
            np.testing.assert_array_equal(u, v)
        else:
            assert u == v
    assert a[3] == ("SubBackward0" if op == "sub_" else "AddBackward0") and a[4] == 1


def test_same_memory_on_both_sides(spy):
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    z = x * 1.0
    z += z
    assert spy == [True]
    np.testing.assert_array_equal(z.detach().numpy(), [2.0, 4.0])
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_no_grad_and_no_requires_grad(spy):
    y = ember.tensor([1.0, 2.0], requires_grad=True)
    w = ember.zeros(2)
    with ember.no_grad():
        w += y
    assert w.grad_fn is None and not w.requires_grad and w._version == 1
    p = ember.ones(2)
    p -= ember.ones(2)
    assert p.grad_fn is None and p._version == 1
    np.testing.assert_array_equal(w.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(p.numpy(), [0.0, 0.0])
    q = ember.zeros(2)
    q += y  # x needs no grad, y does: the node has no edge for x
    assert type(q.grad_fn).__name__ == "AddBackward0" and q.requires_grad
    assert q.grad_fn.next_functions[0][0] is None
    q.sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 1.0])
    assert spy == [True, True, True]


def test_hooks_and_retain_grad_as_the_general_form(monkeypatch):
    def run():
        seen = []
        x = ember.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = ember.tensor([0.5, 0.5, 0.5], requires_grad=True)
        z = x * 3.0
        z.register_hook(lambda g: seen.append(("before", g.numpy().tolist())))
        z += y
        z.register_hook(lambda g: seen.append(("after", g.numpy().tolist())))
        z.retain_grad()
        (z * z).sum().backward()
        return seen, z.grad.numpy().tolist(), x.grad.numpy().tolist(), y.grad.numpy().tolist()
    a, b = _both(monkeypatch, run)
    assert a == b


def test_saved_x_is_version_checked_as_in_the_general_form(monkeypatch):
    def run():
        x = ember.tensor([1.0, 2.0], requires_grad=True)
        z = x * 1.0
        s = z * z  # MulBackward0 saves z
        z += ember.tensor([1.0, 1.0])
        with pytest.raises(RuntimeError) as e:
            s.sum().backward()
        return str(e.value)
    a, b = _both(monkeypatch, run)
    assert a == b and "modified by an inplace operation" in a


@pytest.mark.parametrize("case", ["broadcast", "promote", "alpha", "int", "view_self",
                                  "viewed", "overlap", "scalar", "noncontig", "half"])
def test_other_calls_take_the_general_form(monkeypatch, spy, case):
    def run():
        x = ember.tensor(np.arange(12.0, dtype=np.float32).reshape(3, 4), requires_grad=True)
        z = x * 1.0
        if case == "broadcast":
            z += ember.ones(4)
        elif case == "promote":
            z = x.double()
            z += ember.ones(3, 4)
        elif case == "alpha":
            z.add_(ember.ones(3, 4), alpha=2)
        elif case == "int":
            z = ember.arange(12).reshape(3, 4)
            z += ember.ones(3, 4, dtype=ember.int64)
        elif case == "view_self":
            v = z[1:]
            v += ember.ones(2, 4)
        elif case == "viewed":
            v = z[1:]
            z += ember.ones(3, 4)
            z = v
        elif case == "overlap":
            flat = z.view(12)
            a, b = flat[:8].view(2, 4), flat[4:].view(2, 4)
            a.sub_(b.detach())
            z = flat
        elif case == "scalar":
            z += 1.0
        elif case == "noncontig":
            z += ember.ones(4, 3).t()
        elif case == "half":
            z = ember.ones(3, 4, dtype=ember.float16)
            z += ember.ones(3, 4, dtype=ember.float16)
        out = z.detach().numpy().copy()
        if z.requires_grad:
            z.sum().backward()
            return out, x.grad.numpy().tolist(), type(z.grad_fn).__name__, z._version
        return out, None, None, z._version
    a, b = _both(monkeypatch, run)
    assert all(took is False for took in spy)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1:] == b[1:]


@pytest.mark.parametrize("case", ["leaf", "shape", "type", "read_only", "promote"])
def test_errors_as_the_general_form(monkeypatch, case):
    def run():
        x = ember.tensor([1.0, 2.0], requires_grad=True)
        other = ember.tensor([1.0, 1.0])
        target = x * 1.0
        if case == "leaf":
            target = x
        elif case == "shape":
            other = ember.ones(3)
        elif case == "type":
            other = "a"
        elif case == "promote":
            other = ember.ones(2, dtype=ember.float64)
        elif case == "read_only":
            arr = np.ones(2, np.float32)
            arr.flags.writeable = False
            target = ember.from_numpy(arr)
            other = ember.ones(2)
        with pytest.raises(Exception) as e:
            target += other
        return type(e.value), str(e.value)
    a, b = _both(monkeypatch, run)
    assert a == b

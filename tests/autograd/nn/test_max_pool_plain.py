"""Max pooling's usual call (ints or int pairs as MaxPool2d keeps them, dilation 1, a
C-contiguous writeable float input; a contiguous float gradient) goes from the checked
geometry straight to the kernel (``pooling.max_pool2d_plain`` and
``max_pool2d_backward_plain``). Results, indices, gradients, nodes and errors must be the
general form's; every other call takes the general form."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember_tensor.nn import pooling


@pytest.fixture
def spy(monkeypatch):
    taken = {"fwd": [], "bwd": []}
    fwd, bwd = pooling.max_pool2d_plain, pooling.max_pool2d_backward_plain

    def f(*a):
        r = fwd(*a)
        taken["fwd"].append(r is not None)
        return r

    def b(*a):
        r = bwd(*a)
        taken["bwd"].append(r is not None)
        return r
    monkeypatch.setattr(pooling, "max_pool2d_plain", f)
    monkeypatch.setattr(pooling, "max_pool2d_backward_plain", b)
    return taken


def _general(monkeypatch):
    monkeypatch.setattr(pooling, "max_pool2d_plain", lambda *a: None)
    monkeypatch.setattr(pooling, "max_pool2d_backward_plain", lambda *a: None)


def _run(x0, args, kwargs, contiguous_grad=True):
    x = ember.tensor(x0, requires_grad=True)
    out, idx = F.max_pool2d(x, *args, return_indices=True, **kwargs)
    w = ember.tensor(np.random.default_rng(3).standard_normal(tuple(out.shape)).astype(x0.dtype))
    loss = (out * w).sum() if contiguous_grad else out.sum()
    loss.backward()
    return (out.detach().numpy(), idx.numpy(), x.grad.numpy(), type(out.grad_fn).__name__,
            out.shape, out.dtype)


CASES = [
    ((1, 64, 32, 32), (3, 2, 1), {}),
    ((2, 3, 9, 7), ((3, 2), (2, 1), (1, 0)), {}),
    ((3, 9, 9), (2,), {}),
    ((1, 4, 10, 10), (3, 2, 1), {"ceil_mode": True}),
    ((1, 4, 11, 11), (3, 3), {"ceil_mode": True}),
    ((2, 2, 5, 5), (3, None, 1, 1), {}),
    ((16, 64, 20, 20), (3, 2, 1), {}),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,args,kwargs", CASES)
def test_plain_matches_the_general_form(monkeypatch, spy, shape, args, kwargs, dtype):
    x0 = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    x0.flat[::7] = x0.flat[0]  # ties: the first maximum's index on both paths
    x0.flat[5] = np.nan
    a = _run(x0, args, kwargs)
    assert spy == {"fwd": [True], "bwd": [True]}
    _general(monkeypatch)
    b = _run(x0, args, kwargs)
    for u, v in zip(a, b):
        if isinstance(u, np.ndarray):
            np.testing.assert_array_equal(u, v)
        else:
            assert u == v
    assert a[3] == "MaxPool2DWithIndicesBackward0"


@pytest.mark.parametrize("case", ["float_args", "list_args", "dilation", "noncontig",
                                  "half", "int", "read_only", "broadcast_grad",
                                  "double_backward"])
def test_other_calls_take_the_general_form(monkeypatch, spy, case):
    def run():
        x0 = np.random.default_rng(1).standard_normal((2, 3, 8, 8)).astype(np.float32)
        x = ember.tensor(x0, requires_grad=True)
        args = (3, 2, 1)
        inp = x * 1.0
        kw = {}
        if case == "float_args":
            args = ((3, 3), (2.0, 2), 1)
        elif case == "list_args":
            args = ([3, 3], [2, 2], [1, 1])
        elif case == "dilation":
            kw = {"dilation": 2}
            args = (3, 2, 1)
        elif case == "noncontig":
            inp = inp.transpose(2, 3)
        elif case == "half":
            inp = ember.tensor(x0.astype(np.float16))
        elif case == "int":
            inp = ember.tensor((x0 * 10).astype(np.int64))
        elif case == "read_only":
            arr = x0.copy()
            arr.flags.writeable = False
            inp = ember.from_numpy(arr)
        try:
            out = F.max_pool2d(inp, *args, **kw)
        except Exception as e:  # noqa: BLE001 - the error is the result compared
            return type(e), str(e)
        if not out.requires_grad:
            return out.numpy().tolist()
        if case == "double_backward":
            w = ember.ones(tuple(out.shape), requires_grad=True)
            (g,) = ember.autograd.grad((out * w).sum(), inp, create_graph=True)
            (g * g).sum().backward()  # through MaxPool2DWithIndicesBackwardBackward0
            return out.detach().numpy().tolist(), w.grad.numpy().tolist()
        out.sum().backward()  # a broadcast gradient: the general backward
        return out.detach().numpy().tolist(), x.grad.numpy().tolist()
    a = run()
    assert True not in spy["bwd"]
    if case not in ("broadcast_grad", "double_backward"):
        assert True not in spy["fwd"]
    _general(monkeypatch)
    assert run() == a


@pytest.mark.parametrize("args", [(0,), (3, 0), (3, 1, 2), (3, -1), (4, 1, 3), (3, 2, 1, 0),
                                  ((3, 3, 3),), (20,)])
def test_errors_as_the_general_form(monkeypatch, args):
    x = ember.randn(1, 2, 8, 8, requires_grad=True)

    def err():
        with pytest.raises(Exception) as e:
            F.max_pool2d(x, *args)
        return type(e.value), str(e.value)
    a = err()
    _general(monkeypatch)
    assert err() == a

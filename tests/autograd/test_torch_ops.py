"""Every differentiable op against live torch: values, dtypes, grad_fn names, gradients."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import sys  # noqa: E402

sys.path.insert(0, str(__import__('pathlib').Path(__file__).parent))
import ember  # noqa: E402
from test_ops_cases import CASES, inputs_for  # noqa: E402
from op_helpers import helper_test_exc  # noqa: E402


@pytest.mark.parametrize("name", sorted(CASES))
def test_op_matches_torch(name):
    shapes, fn, kw = CASES[name]
    data = inputs_for(name, shapes, kw)
    tt = [torch.tensor(d, requires_grad=True) for d in data]
    et = [ember.tensor(d, requires_grad=True) for d in data]
    t_out, e_out = fn(torch, *tt), fn(ember, *et)
    t_out = t_out if isinstance(t_out, tuple) else (t_out,)
    e_out = e_out if isinstance(e_out, tuple) else (e_out,)
    for t, e in zip(t_out, e_out):
        assert tuple(e.shape) == tuple(t.shape)
        assert e.dtype.name == str(t.dtype).split(".")[1]
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
        assert (e.grad_fn.name() if e.grad_fn else None) == (
            type(t.grad_fn).__name__ if t.grad_fn else None)
    sum(o.sum() * (k + 1.0) for k, o in enumerate(t_out)).backward()
    sum(o.sum() * (k + 1.0) for k, o in enumerate(e_out)).backward()
    for t, e in zip(tt, et):
        if t.grad is None:
            assert e.grad is None
        else:
            np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("expr", [
    "lambda L: L.ones(2, 3).mm(L.ones(4, 2))",
    "lambda L: L.ones(2, 3).view(4)",
    "lambda L: L.ones(2, 3).sum(5)",
    "lambda L: L.ones(2, requires_grad=True).add_(1)",
    "lambda L: L.ones(2, requires_grad=True).numpy()",
    "lambda L: L.tensor([1, 2], requires_grad=True)",
    "lambda L: (L.ones(2, requires_grad=True) * 2).backward()",
    "lambda L: L.ones(2).sum().backward()",
    "lambda L: L.cat([L.ones(2, 3), L.ones(2, 4)])",
    "lambda L: L.ones(2, 3)[2]",
    "lambda L: L.ones(3).expand(2, 4)",
])
def test_errors_match_torch(expr):
    fn = eval(expr)  # noqa: S307 - test-local expressions
    helper_test_exc(fn, match_message=False)


def test_second_derivatives_match_torch():
    data = np.array([0.3, -1.2, 2.0], dtype=np.float64)
    outs = []
    for L in (torch, ember):
        x = L.tensor(data, requires_grad=True)
        y = (x.sin() * x ** 2 + x.exp().sum() * x.tanh()).sum()
        (g,) = L.autograd.grad(y, x, create_graph=True)
        (h,) = L.autograd.grad(g.sum(), x)
        outs.append((g.detach().numpy(), h.numpy()))
    np.testing.assert_allclose(outs[1][0], outs[0][0], rtol=1e-10)
    np.testing.assert_allclose(outs[1][1], outs[0][1], rtol=1e-10)

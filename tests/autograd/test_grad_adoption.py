"""A leaf's first ``.grad`` adopts the incoming gradient's buffer when nothing else can see it
(as torch steals it); these tests pin down that it never aliases anything observable."""
import numpy as np
import pytest

import ember as torch
from ember._core import PURE_PYTHON_CORE
from ember.autograd import Function

if not PURE_PYTHON_CORE:
    from ember._core import _engine_compiled as engine

# adopting a gradient instead of copying it is a shortcut of the compiled engine only
pytestmark = pytest.mark.skipif(PURE_PYTHON_CORE, reason="the reference engine always copies")


def _shares(a, b):
    return np.shares_memory(a.numpy(), b.numpy())


@pytest.fixture
def adoptions(monkeypatch):
    """Records each adoption decision the engine makes (True = no copy)."""
    seen = []
    real = engine.adoptable

    def spy(holder):
        result = real(holder)
        seen.append(result)
        return result

    monkeypatch.setattr(engine, "adoptable", spy)
    return seen


def test_fresh_gradient_is_adopted_and_values_are_right(adoptions):
    a = torch.tensor([2.0, 3.0], requires_grad=True)
    b = torch.tensor([6.0, 4.0], requires_grad=True)
    g = torch.tensor([1.0, 1.0])
    q = 3 * a ** 3 - b ** 2
    q.backward(gradient=g)
    assert adoptions == [True, True]  # both leaves got formula outputs nobody else holds
    np.testing.assert_array_equal(a.grad.numpy(), [36.0, 81.0])
    np.testing.assert_array_equal(b.grad.numpy(), [-12.0, -8.0])
    assert a.grad._version == 0 and not a.grad.requires_grad and a.grad.grad_fn is None
    assert not _shares(a.grad, g) and not _shares(b.grad, g)


def test_grad_never_aliases_the_users_gradient_argument(adoptions):
    x = torch.tensor([2.0, 3.0], requires_grad=True)
    g = torch.tensor([1.0, 5.0])
    x.backward(g)  # the root gradient goes straight to the leaf
    assert adoptions == [False]
    assert not _shares(x.grad, g)
    g.mul_(10)
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 5.0])


def test_grad_never_aliases_the_users_gradient_through_a_pass_through_node():
    x = torch.tensor([2.0, 3.0], requires_grad=True)
    y = torch.tensor([1.0, 1.0], requires_grad=True)
    g = torch.tensor([1.0, 5.0])
    (x + y).backward(g)  # AddBackward hands the root gradient itself to both leaves
    assert not _shares(x.grad, g) and not _shares(y.grad, g)
    assert not _shares(x.grad, y.grad)


def test_one_fresh_gradient_delivered_to_two_leaves_is_copied_for_one(adoptions):
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = torch.tensor([3.0, 4.0], requires_grad=True)
    ((a + b) * 2).backward(torch.tensor([1.0, 1.0]))
    assert sorted(adoptions) == [False, True]  # the second taker may keep the buffer
    assert not _shares(a.grad, b.grad)
    a.grad.add_(100)
    np.testing.assert_array_equal(b.grad.numpy(), [2.0, 2.0])


def test_retained_intermediate_grad_and_leaf_grad_do_not_alias():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    (y + 0).backward(torch.tensor([1.0, 1.0]))  # y's gradient flows on to x unchanged
    assert not _shares(x.grad, y.grad)
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 1.0])


def test_gradient_a_hook_keeps_is_not_adopted(adoptions):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    stash = []
    x.register_hook(lambda grad: stash.append(grad))
    (x * 3).backward(torch.tensor([1.0, 1.0]))
    assert adoptions == [False]
    assert not _shares(x.grad, stash[0])
    stash[0].mul_(0)
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_gradient_a_node_hook_keeps_is_not_adopted():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    kept = []
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: kept.append(grad_inputs))
    y.backward(torch.tensor([1.0, 1.0]))
    assert not _shares(x.grad, kept[0][0])


class _ReturnsSaved(Function):
    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(w)
        return x * 1.0

    @staticmethod
    def backward(ctx, g):
        (w,) = ctx.saved_tensors
        return w, None  # a saved tensor as the gradient


_GLOBAL = torch.tensor([7.0, 8.0])


class _ReturnsGlobal(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 1.0

    @staticmethod
    def backward(ctx, g):
        return _GLOBAL


def test_grad_never_aliases_a_saved_tensor_returned_as_gradient(adoptions):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    w = torch.tensor([5.0, 6.0])
    _ReturnsSaved.apply(x, w).backward(torch.tensor([1.0, 1.0]))
    assert adoptions == [False]
    assert not _shares(x.grad, w)
    w.mul_(0)
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 6.0])


def test_grad_never_aliases_a_tensor_the_backward_keeps_elsewhere():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    _ReturnsGlobal.apply(x).backward(torch.tensor([1.0, 1.0]))
    assert not _shares(x.grad, _GLOBAL)


def test_view_of_a_gradient_is_not_adopted():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    g = torch.tensor([1.0, 2.0, 3.0, 4.0])
    x.view(4).backward(g)  # ViewBackward returns a reshaped view of g
    assert not _shares(x.grad, g)
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 2.0], [3.0, 4.0]])


def test_adopted_grad_accumulates_in_place_without_touching_others():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).backward(torch.tensor([1.0, 1.0]))
    first = x.grad
    y = x * 3
    y.backward(torch.tensor([1.0, 1.0]))
    assert x.grad is first  # later gradients are added in place, as before
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 5.0])


def test_create_graph_grad_keeps_its_history():
    x = torch.tensor([2.0], requires_grad=True)
    (x ** 3).backward(create_graph=True)
    assert x.grad.requires_grad  # 3x^2, still differentiable
    (gx,) = torch.autograd.grad(x.grad, x)
    np.testing.assert_allclose(gx.numpy(), [12.0])


def test_reference_counts_are_measured_not_assumed():
    counts = engine.sole_counts()
    assert counts is None or len(counts) == 3
    holder = [torch.tensor([1.0, 2.0]) * 2]
    extra = holder[0]  # a second reference: must not be adoptable
    assert not engine.adoptable(holder)
    del extra
    assert engine.adoptable(holder) == (counts is not None)
    view = holder[0]._data._np[:]  # a NumPy view of the buffer: not adoptable either
    assert not engine.adoptable(holder)
    del view


def test_linear_weight_gradient_is_formed_in_its_layout_and_adopted(adoptions):
    """Linear's weight enters addmm transposed; its gradient is formed transposed and
    transposed back, so the leaf adopts a C-ordered view spanning its own buffer (no 2 MB copy
    a step). Accumulating a second gradient must still add into that buffer correctly."""
    torch.manual_seed(0)
    lin = torch.nn.Linear(6, 4)
    x = torch.randn(3, 6)
    g = torch.randn(3, 4)
    lin(x).backward(g)
    assert adoptions == [True, True]  # bias (a sum) and weight (the transposed-back product)
    want = g.numpy().T @ x.numpy()
    np.testing.assert_allclose(lin.weight.grad.numpy(), want, rtol=1e-6)
    assert lin.weight.grad.is_contiguous()
    lin(x).backward(g)
    np.testing.assert_allclose(lin.weight.grad.numpy(), 2 * want, rtol=1e-6)


def test_view_whose_base_someone_else_holds_is_copied(adoptions):
    """A product transposed back is adopted only while nothing else holds its base: here a
    hook keeps the transposed gradient, so the leaf must get a copy."""
    kept = []
    w = torch.randn(4, 6, requires_grad=True)
    x = torch.randn(3, 6)
    wt = w.t()
    wt.register_hook(lambda grad: kept.append(grad))
    torch.mm(x, wt).backward(torch.ones(3, 4))
    assert adoptions == [False]
    assert not _shares(w.grad, kept[0])

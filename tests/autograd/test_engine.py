"""The backward engine: deep chains, retain_graph, create_graph, hooks, inputs=, errors."""
import warnings

import numpy as np
import pytest

import ember as torch
from ember.autograd import Function


def test_long_chain_backprops_without_recursion():
    x = torch.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    assert abs(x.grad.item() - 1.0001 ** 10_000) < 1e-2


def test_shared_subexpression_accumulates():
    x = torch.tensor([3.0], requires_grad=True)
    y = x * x
    z = y + y * 2  # y used twice: each consumer delivers before y's node runs
    z.backward()
    assert x.grad.item() == pytest.approx(18.0)


def test_backward_twice_needs_retain_graph():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    s = (a.sigmoid() * 3).sum()
    s.backward(retain_graph=True)
    first = a.grad.clone()
    s.backward()
    np.testing.assert_allclose(a.grad.numpy(), 2 * first.numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        s.backward()


def test_grad_accumulates_in_place_after_first():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    (a * 2).sum().backward()
    g = a.grad
    (a * 3).sum().backward()
    assert a.grad is g and a.grad.tolist() == [5.0, 5.0]


def test_first_grad_is_a_fresh_tensor():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    v = torch.tensor([1.0, 1.0])
    (a + 0).backward(v)
    a.grad.add_(1)
    assert v.tolist() == [1.0, 1.0]


def test_create_graph_second_derivative():
    x = torch.tensor([2.0, 3.0], requires_grad=True)
    y = (x ** 3).sum()
    (g,) = torch.autograd.grad(y, x, create_graph=True)
    assert g.tolist() == [12.0, 27.0] and g.requires_grad
    (h,) = torch.autograd.grad(g.sum(), x)
    assert h.tolist() == [12.0, 18.0]


def test_create_graph_through_backward_accumulates_graph():
    x = torch.tensor([1.5], requires_grad=True)
    (x.exp() * x).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    gx = x.grad.clone()
    x.grad = None
    gx.sum().backward()
    e = np.exp(1.5)
    assert x.grad.item() == pytest.approx(e * 1.5 + 2 * e, rel=1e-5)


def test_grad_allow_unused_and_errors():
    a = torch.ones(2, requires_grad=True)
    b = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        torch.autograd.grad(a.sum(), [a, b])
    ga, gb = torch.autograd.grad((a * 2).sum(), [a, b], allow_unused=True)
    assert ga.tolist() == [2.0, 2.0] and gb is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        torch.autograd.grad(a.sum(), torch.ones(2))
    assert a.grad is None  # grad() never touches .grad


def test_implicit_grad_and_no_grad_fn_errors():
    a = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        (a * 2).backward()
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad and "
                                           "does not have a grad_fn"):
        torch.ones(2).sum().backward()
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (a * 2).backward(torch.ones(3))


def test_inputs_restricts_accumulation():
    a = torch.ones(2, requires_grad=True)
    b = torch.ones(2, requires_grad=True)
    (a * b * 3).sum().backward(inputs=[a])
    assert a.grad.tolist() == [3.0, 3.0] and b.grad is None
    with pytest.raises(RuntimeError, match="cannot be empty"):
        (a * b).sum().backward(inputs=[])


def test_inputs_non_leaf_gets_grad():
    a = torch.ones(2, requires_grad=True)
    h = a * 2
    (h * 5).sum().backward(inputs=[h])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert h.grad.tolist() == [5.0, 5.0]
    assert a.grad is None


def test_tensor_hooks_leaf_and_nonleaf():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    h = a * 3
    seen = []
    h.register_hook(lambda g: seen.append(g.tolist()))
    handle = a.register_hook(lambda g: g * 10)
    h.sum().backward()
    assert seen == [[1.0, 1.0]] and a.grad.tolist() == [30.0, 30.0]
    handle.remove()
    a.grad = None
    (a * 3).sum().backward()
    assert a.grad.tolist() == [3.0, 3.0]
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't "
                                           "require gradient"):
        torch.ones(2).register_hook(lambda g: g)


def test_retain_grad_and_nonleaf_warning():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    h = a * 3
    h.retain_grad()
    assert h.retains_grad
    (h * h).sum().backward()
    assert h.grad.tolist() == [6.0, 12.0]
    k = a * 2
    with pytest.warns(UserWarning, match="is not a leaf Tensor is being accessed"):
        assert k.grad is None


def test_graph_structure():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    y = a * 2
    (node, nr), (other, _) = y.grad_fn.next_functions
    assert node.name() == "AccumulateGrad" and node.variable is a and nr == 0
    assert other is None
    assert repr(y.grad_fn).startswith("<MulBackward0 object at 0x")
    assert (a * 3).grad_fn.next_functions[0][0] is node  # one accumulator per leaf


def test_inplace_errors_and_version_counter():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used "
                                           "in an in-place operation."):
        a.add_(1)
    y = a.exp()
    v = y.view(2)
    assert y._version == 0
    v.mul_(2)
    assert y._version == 1 and v._version == 1
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation: "
                                           r"\[torch.FloatTensor \[2\]\]"):
        y.sum().backward()
    with torch.no_grad():
        a.add_(1)
    assert a.tolist() == [2.0, 3.0]


def test_inplace_on_nonleaf_is_differentiated():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    y = a * 2
    y.add_(1).mul_(3)
    assert y.grad_fn.name() == "MulBackward0"
    y.sum().backward()
    assert a.grad.tolist() == [6.0, 6.0]


def test_setitem_gradient():
    a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = torch.tensor(5.0, requires_grad=True)
    y = a * 1
    y[1] = v * 2
    assert y.grad_fn.name() == "CopySlices"
    y.sum().backward()
    assert a.grad.tolist() == [1.0, 0.0, 1.0] and v.grad.item() == 2.0


def test_multi_output_node_materializes_missing_grads():
    a = torch.arange(6.0).requires_grad_()
    p, q = a.split(3)
    p.sum().backward()
    assert a.grad.tolist() == [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]


def test_output_no_gradient_reaches_gets_none_not_zeros():
    # max-pool's and topk's indices can never carry a gradient: the engine hands their node
    # None (a 16x224 step would otherwise zero-fill 24.5 MiB of int64 a step), and a node
    # hook's grad_outputs leave them out, as torch's do
    x = torch.randn(1, 1, 4, 4, requires_grad=True)
    seen = []
    out, idx = torch.nn.functional.max_pool2d(x, 2, return_indices=True)
    out.grad_fn.register_hook(lambda gi, go: seen.append(go))
    out.sum().backward()
    assert len(seen[0]) == 1 and seen[0][0].shape == (1, 1, 2, 2)
    assert x.grad.sum().item() == 4.0  # one 1 per window, the backward ran on None
    y = torch.tensor([3.0, 1.0, 4.0, 1.5], requires_grad=True)
    vals, _ = y.topk(2)
    vals.grad_fn.register_hook(lambda gi, go: seen.append(go))
    vals.sum().backward()
    assert len(seen[1]) == 1
    assert y.grad.tolist() == [1.0, 0.0, 1.0, 0.0]


def test_node_hook_sees_none_where_no_gradient_came():
    # torch passes None for a differentiable output that got no gradient; the backward
    # formula still gets zeros (test_multi_output_node_materializes_missing_grads)
    a = torch.arange(6.0).requires_grad_()
    p, q = a.split(3)
    seen = []
    p.grad_fn.register_hook(lambda gi, go: seen.append(go))
    p.sum().backward()
    assert seen[0][0].tolist() == [1.0, 1.0, 1.0] and seen[0][1] is None
    assert a.grad.tolist() == [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]


def test_custom_function():
    class MyFn(Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(x)
            ctx.k = k
            return x * k

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            assert ctx.needs_input_grad == (True, False)
            return g * ctx.k, None

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = MyFn.apply(x, 3.0)
    assert y.grad_fn.name() == "MyFnBackward" and type(y.grad_fn).__name__ == "MyFnBackward"
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_custom_function_wrong_gradient_count():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, g):
            return (g,) if False else (g, g, g)

    x = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="returned an incorrect number of gradients"):
        Bad.apply(x, x).sum().backward()


def test_custom_function_mark_non_differentiable_and_dirty():
    class Sort(Function):
        @staticmethod
        def forward(ctx, x):
            idx = torch.tensor([1, 0])
            ctx.mark_non_differentiable(idx)
            return x.flip(0), idx

        @staticmethod
        def backward(ctx, g, gi):
            return g.flip(0)

    class AddOne_(Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    v, i = Sort.apply(x)
    assert not i.requires_grad and v.requires_grad
    y = x * 1
    z = AddOne_.apply(y)
    assert z is y and y._version == 1
    (v.sum() + z.sum()).backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_once_differentiable_node_refuses_create_graph():
    from ember._core.node import Node, record

    class KernelBackward0(Node):
        once_differentiable = True

        def backward(self, g):
            return (g * 2,)

    x = torch.ones(2, requires_grad=True)
    y = record(KernelBackward0, (x.detach() * 2)._data, (x,))
    with pytest.raises(RuntimeError, match="create_graph"):
        torch.autograd.grad(y.sum(), x, create_graph=True)
    (g,) = torch.autograd.grad(y.sum(), x)
    assert g.tolist() == [2.0, 2.0]


def test_broadcast_gradient_reduced_once():
    a = torch.ones(3, 1, requires_grad=True)
    b = torch.ones(4, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1) and a.grad.tolist() == [[4.0]] * 3
    assert b.grad.tolist() == [3.0] * 4


def test_requires_grad_rules():
    with pytest.raises(RuntimeError, match="Only Tensors of floating point"):
        torch.tensor([1, 2], requires_grad=True)
    y = torch.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf"):
        y.requires_grad = False
    assert y.detach().requires_grad is False
    assert torch.ones(2).argmax().requires_grad is False

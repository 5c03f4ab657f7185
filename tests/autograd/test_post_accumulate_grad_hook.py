"""Tensor.register_post_accumulate_grad_hook: runs after a leaf's .grad is updated (the
moment DistributedDataParallel starts a bucket's all-reduce), as torch's."""
import pytest

import ember


def test_hook_sees_accumulated_grad_each_backward():
    p = ember.ones(3, requires_grad=True)
    seen = []
    p.register_post_accumulate_grad_hook(lambda t: seen.append((t is p, t.grad.tolist())))
    (p * 2).sum().backward()
    (p * 3).sum().backward()
    assert seen == [(True, [2.0, 2.0, 2.0]), (True, [5.0, 5.0, 5.0])]


def test_hook_may_change_grad_in_place_and_handle_removes_it():
    p = ember.ones(2, requires_grad=True)
    h = p.register_post_accumulate_grad_hook(lambda t: t.grad.mul_(10))
    (p * 2).sum().backward()
    assert p.grad.tolist() == [20.0, 20.0]
    h.remove()
    p.grad = None
    (p * 2).sum().backward()
    assert p.grad.tolist() == [2.0, 2.0]


def test_hook_runs_after_tensor_hooks_and_not_for_autograd_grad():
    p = ember.ones(2, requires_grad=True)
    order = []
    p.register_hook(lambda g: order.append("pre"))
    p.register_post_accumulate_grad_hook(lambda t: order.append("post"))
    (p * 2).sum().backward()
    assert order == ["pre", "post"]
    ember.autograd.grad((p * 2).sum(), p)
    assert order == ["pre", "post", "pre"]


def test_errors_as_torch():
    p = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="cannot be registered on non-leaf tensors"):
        (p * 2).register_post_accumulate_grad_hook(print)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        ember.ones(2).register_post_accumulate_grad_hook(print)

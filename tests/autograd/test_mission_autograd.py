"""The mission's autograd sections (2 and 5) run and print exactly what the tutorial shows."""
import pytest

import ember as torch


def test_section2_printed_lines(capsys):
    a = torch.tensor([2., 3.], requires_grad=True)
    b = torch.tensor([6., 4.], requires_grad=True)
    Q = 3 * a**3 - b**2
    external_grad = torch.tensor([1., 1.])
    Q.backward(gradient=external_grad)
    print(9 * a**2 == a.grad)
    print(-2 * b == b.grad)
    print(9 * a**2 == a.grad, a.grad)
    print(-2 * b == b.grad, b.grad)
    assert capsys.readouterr().out.splitlines() == [
        "tensor([True, True])",
        "tensor([True, True])",
        "tensor([True, True]) tensor([36., 81.])",
        "tensor([True, True]) tensor([-12.,  -8.])",
    ]


def test_section2_sum_backward_variant():
    a = torch.tensor([2., 3.], requires_grad=True)
    b = torch.tensor([6., 4.], requires_grad=True)
    (3 * a**3 - b**2).sum().backward()
    assert a.grad.tolist() == [36., 81.]
    assert b.grad.tolist() == [-12., -8.]


def test_section2_notebook_reprs():
    a = torch.tensor([3., 4.], requires_grad=True)
    b = torch.tensor([5., 7.], requires_grad=True)
    assert repr((a, b)) == (
        "(tensor([3., 4.], requires_grad=True), tensor([5., 7.], requires_grad=True))"
    )
    Q = 3 * a**3 - b**2
    assert repr(Q) == "tensor([ 56., 143.], grad_fn=<SubBackward0>)"
    Q.backward(gradient=torch.tensor([1., 1.]))
    assert repr((a.grad, b.grad)) == "(tensor([ 81., 144.]), tensor([-10., -14.]))"
    assert repr(9 * a**2) == "tensor([ 81., 144.], grad_fn=<MulBackward0>)"


def test_section2_nonscalar_backward_needs_gradient():
    a = torch.tensor([2., 3.], requires_grad=True)
    Q = 3 * a**3
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar "
                                           "outputs"):
        Q.backward()


def test_section5_exclusion_from_dag(capsys):
    x = torch.rand(5, 5)
    y = torch.rand(5, 5)
    z = torch.rand((5, 5), requires_grad=True)
    a = x + y
    print(f"Does `a` require gradients?: {a.requires_grad}")
    b = x + z
    print(f"Does `b` require gradients?: {b.requires_grad}")
    assert capsys.readouterr().out.splitlines() == [
        "Does `a` require gradients?: False",
        "Does `b` require gradients?: True",
    ]


def test_section6_no_grad_context_and_frozen_params():
    w = torch.randn(3, 2, requires_grad=True)
    w.requires_grad = False
    fc = torch.randn(2, 4, requires_grad=True)
    x = torch.randn(5, 3)
    loss = (x @ w @ fc).sum()
    loss.backward()
    assert w.grad is None and fc.grad is not None
    with torch.no_grad():
        out = x @ fc.t().t() if False else x @ w
    assert not out.requires_grad and out.grad_fn is None


def test_type_of_loss_prints_ember_tensor():
    loss = (torch.rand(2, requires_grad=True) * 2).sum()
    assert str(type(loss)) == "<class 'ember.Tensor'>"
    assert repr(loss).endswith("grad_fn=<SumBackward0>)")

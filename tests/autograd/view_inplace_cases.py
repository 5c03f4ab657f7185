"""Scenarios of in-place ops on views and on bases with live views, written against torch's
API: each takes the framework module and returns what the user would look at (values, the
grad_fn names, the gradients). test_views_inplace.py checks them against values worked out
by hand; test_torch_views_inplace.py against torch itself."""
import numpy as np


def _out(*tensors):
    return [np.asarray(t.detach().numpy() if hasattr(t, "detach") else t) for t in tensors]


def exp_on_slice(torch):
    x = torch.tensor([0.5, -1.0, 2.0, 0.25], requires_grad=True)
    a = x * 1
    a[:2].exp_()
    a.sum().backward()
    return type(a.grad_fn).__name__, _out(a, x.grad)


def mul_view_then_use_base(torch):
    x = torch.tensor([1.0, -2.0, 3.0, 0.5], requires_grad=True)
    b = x * 2
    v = b[1:3]
    v.mul_(3)
    (b * b).sum().backward()
    return type(b.grad_fn).__name__, type(v.grad_fn).__name__, _out(b, x.grad)


def base_inplace_then_old_view(torch):
    x = torch.tensor([1.0, -2.0, 3.0, 0.5], requires_grad=True)
    c = x * 1
    w = c[::2]
    c.mul_(2)
    w.sum().backward()
    return type(w.grad_fn).__name__, _out(w, x.grad)


def view_of_view_with_tensor_operand(torch):
    x = torch.arange(12.0).reshape(3, 4).requires_grad_()
    s = torch.tensor(0.5, requires_grad=True)
    y = x * 3
    col = y.t()[1]          # a view of a view: column 1 of y
    col.mul_(s)
    (y * torch.arange(12.0).reshape(3, 4)).sum().backward()
    return _out(y, x.grad, s.grad)


def zero_and_fill(torch):
    x = torch.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    v = torch.tensor(5.0, requires_grad=True)
    y = x * 3
    y[:2].zero_()
    z = x * 1
    z[2:].fill_(v)
    (y * torch.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    (z * z).sum().backward()
    return _out(y, z, x.grad, v.grad)


def setitem_through_view(torch):
    x = torch.tensor([[1.0, -2.0], [3.0, -4.0]], requires_grad=True)
    y = x * 2
    row = y[1]
    row[row < 0] = 0       # masked assignment on a view of y
    (y ** 2).sum().backward()
    return _out(y, x.grad)


def second_view_sees_first_views_write(torch):
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    first, second = y[:2], y[1:]
    first.mul_(10)
    (second * torch.tensor([1.0, 100.0])).sum().backward()
    return _out(second, x.grad)


def double_backward_through_copyslices(torch):
    x = torch.tensor([0.3, 0.7, 1.1], requires_grad=True)
    y = x * x
    y[1:].sin_()
    (g,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    (gg,) = torch.autograd.grad(g.sum(), x)
    return _out(g, gg)


def inplace_on_a_flattened_batch(torch):
    # EfficientNet's classifier: Dropout(inplace=True) right after flatten (a 2-d view)
    x = torch.arange(6.0).reshape(2, 3, 1, 1).requires_grad_()
    y = torch.flatten(x * 2, 1)
    y.mul_(torch.tensor([[1.0, 0.0, 2.0], [0.0, 3.0, 1.0]]))
    (y * torch.arange(6.0).reshape(2, 3)).sum().backward()
    return type(y.grad_fn).__name__, _out(y, x.grad)


CASES = {f.__name__: f for f in (
    inplace_on_a_flattened_batch,
    exp_on_slice, mul_view_then_use_base, base_inplace_then_old_view,
    view_of_view_with_tensor_operand, zero_and_fill, setitem_through_view,
    second_view_sees_first_views_write, double_backward_through_copyslices)}


def refusals(torch):
    """(what, exception type name, message) for each in-place torch refuses on a view."""
    out = []

    def attempt(what, fn):
        try:
            fn()
        except Exception as err:  # noqa: BLE001 - the type is what is compared
            out.append((what, type(err).__name__, str(err)))
        else:
            out.append((what, None, None))

    leaf = torch.ones(4, requires_grad=True)
    attempt("view of a leaf", lambda: leaf[:2].mul_(2))
    y = leaf * 2
    attempt("output of unbind", lambda: y.unbind(0)[1].mul_(2))
    attempt("output of split", lambda: y.split(2)[0].add_(1))
    attempt("output of split sizes", lambda: y.split([1, 3])[1].add_(1))
    attempt("expanded", lambda: torch.ones(1).expand(3).add_(1))
    with torch.no_grad():
        attempt("view of a leaf, no_grad", lambda: leaf[:2].mul_(1))
    return out

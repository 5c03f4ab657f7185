"""Module backward-hook scenarios written once for torch and Ember: each returns a log of
what the hooks saw and the gradients that came out, as plain lists to compare."""
import warnings

import numpy as np


def _np(g):
    return None if g is None else np.round(g.detach().numpy(), 10).tolist()


def _set(T, lin):
    with T.no_grad():
        lin.weight.copy_(T.tensor(np.arange(lin.weight.numel(), dtype=np.float64)
                                  .reshape(tuple(lin.weight.shape)) / 10))
        lin.bias.fill_(0.1)
    return lin


def replace_grad_input_and_output(T):
    log = []
    lin = _set(T, T.nn.Linear(3, 2).double())

    def hook(m, gi, go):
        log.append(("hook", type(m).__name__, [_np(g) for g in gi], [_np(g) for g in go]))
        return (gi[0] * 2,)

    def pre(m, go):
        log.append(("pre", [_np(g) for g in go]))
        return (go[0] * 3,)

    handles = [lin.register_full_backward_hook(hook), lin.register_full_backward_pre_hook(pre)]
    x = T.ones(2, 3, dtype=T.float64, requires_grad=True)
    (lin(x) * T.tensor([1.0, -1.0], dtype=T.float64)).sum().backward()
    log.append(("grads", _np(x.grad), _np(lin.weight.grad), _np(lin.bias.grad)))
    for h in handles:
        h.remove()
    x.grad = None
    lin(x).sum().backward()
    log.append(("after remove", _np(x.grad)))
    return log


class TwoInTwoOut:
    """A module taking (a, scale, b) and returning (a*b, a+b): tensors mixed with a number."""

    @staticmethod
    def build(T):
        class M(T.nn.Module):
            def forward(self, a, scale, b):
                return a * b * scale, a + b
        return M()


def several_tensors_and_order(T):
    log = []
    inner = TwoInTwoOut.build(T)
    outer = T.nn.Sequential(T.nn.Identity())
    inner.register_full_backward_hook(
        lambda m, gi, go: log.append(("inner", [_np(g) for g in gi], [_np(g) for g in go])))
    inner.register_full_backward_pre_hook(lambda m, go: log.append(("inner pre", len(go))))
    inner.register_full_backward_hook(lambda m, gi, go: log.append(("second", len(gi))),
                                      prepend=True)
    outer.register_full_backward_hook(
        lambda m, gi, go: log.append(("outer", [_np(g) for g in gi])))
    a = T.tensor([1.0, 2.0], dtype=T.float64, requires_grad=True)
    b = T.tensor([3.0, -1.0], dtype=T.float64)  # no grad: its slot is None
    p, s = inner(a, 2.0, b)
    (outer(p) * 2 + s).sum().backward()
    log.append(("a.grad", _np(a.grad)))
    return log


def no_input_needs_grad(T):
    log = []
    lin = _set(T, T.nn.Linear(2, 2).double())
    lin.register_full_backward_hook(
        lambda m, gi, go: log.append(("hook", gi, [_np(g) for g in go])))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lin(T.ones(1, 2, dtype=T.float64)).sum().backward()
    log.append([str(w.message).split(" See ")[0] for w in caught])
    log.append(_np(lin.weight.grad))
    return log


def wrong_count_errors(T):
    out = []
    for register, bad in (("register_full_backward_hook", lambda m, gi, go: (None, None)),
                          ("register_full_backward_pre_hook", lambda m, go: (go[0], go[0]))):
        lin = _set(T, T.nn.Linear(2, 2).double())
        getattr(lin, register)(bad)
        try:
            lin(T.ones(1, 2, dtype=T.float64, requires_grad=True)).sum().backward()
        except RuntimeError as err:
            out.append(str(err))
    return out


SCENARIOS = [replace_grad_input_and_output, several_tensors_and_order, no_input_needs_grad,
             wrong_count_errors]

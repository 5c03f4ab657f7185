"""Run a ``double_backward_cases`` case on a framework: first derivatives with
``create_graph=True``, their grad_fn names, and the second (and third) derivatives of a fixed
random projection of them. Shared by the Ember-only and the torch comparison tests."""
import numpy as np

from double_backward_cases import make_inputs


def _project(T, grads, seed):
    """sum_i <grads[i], v_i> for fixed random v_i (skipping gradients without a graph)."""
    rng = np.random.default_rng(seed)
    total = None
    for g in grads:
        if g is None:
            continue
        v = T.tensor(rng.standard_normal(tuple(g.shape)), dtype=T.float64)
        if g.requires_grad:
            term = (g * v).sum()
            total = term if total is None else total + term
    return total


def _numpy(grads):
    return [None if g is None else g.detach().numpy() for g in grads]


def derivatives(T, F, specs, fn, order=2, seed=5):
    """``(first, names, second, third)``: the first derivatives (against a random incoming
    gradient that itself requires grad), their grad_fn names, the gradients of their random
    projection with respect to the inputs and that incoming gradient, and with ``order=3``
    the same once more (else None)."""
    xs = [T.tensor(a, dtype=T.float64, requires_grad=True) for a in make_inputs(specs, seed)]
    y = fn(T, F, *xs)
    rng = np.random.default_rng(seed + 1)
    go = T.tensor(rng.standard_normal(tuple(y.shape)), dtype=T.float64, requires_grad=True)
    leaves = xs + [go]
    first = T.autograd.grad(y, xs, go, create_graph=True, allow_unused=True)
    names = [None if g is None or g.grad_fn is None else g.grad_fn.name() for g in first]
    second = T.autograd.grad(_project(T, first, seed + 2), leaves, create_graph=order > 2,
                             allow_unused=True)
    third = None
    if order > 2:
        third = _numpy(T.autograd.grad(_project(T, second, seed + 3), leaves,
                                       allow_unused=True))
    return _numpy(first), names, _numpy(second), third


def assert_close(got, want, rtol=1e-9, atol=1e-11):
    """Lists of arrays equal within tolerance; None counts as zeros (torch and Ember may
    differ in which unused gradient they leave undefined)."""
    assert len(got) == len(want)
    for g, w in zip(got, want):
        if g is None and w is None:
            continue
        ref = w if w is not None else g
        g = np.zeros_like(ref) if g is None else g
        w = np.zeros_like(ref) if w is None else w
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)

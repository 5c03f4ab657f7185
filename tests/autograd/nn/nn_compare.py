"""Run one ``nn_cases`` case on a library and collect outputs, grad_fn names and input grads."""
import numpy as np

from nn_cases import make_inputs


def to_numpy(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def run_case(lib, F, specs, fn, seed, inputs=None):
    """``(outputs, grad_fn names, grads)`` for ``fn`` run on ``lib`` with seeded inputs.

    Grads are of ``sum(out * upstream)`` with a seeded upstream, per float ``"f"`` input.
    """
    arrays = make_inputs(specs, seed) if inputs is None else inputs
    tensors = []
    for a, (shape, kind) in zip(arrays, specs):
        t = lib.tensor(a)
        if kind == "f":
            t.requires_grad_(True)
        tensors.append(t)
    out = fn(lib, F, *tensors)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    names = [type(o.grad_fn).__name__ if o.grad_fn is not None else None for o in outs]
    values = [to_numpy(o).copy() for o in outs]
    grads = []
    diff = [o for o in outs if o.requires_grad]
    if diff:
        rng = np.random.default_rng(seed + 1)
        total = None
        for o in diff:
            up = lib.tensor(rng.standard_normal(tuple(o.shape)).astype(to_numpy(o).dtype))
            term = (o * up).sum()
            total = term if total is None else total + term
        total.backward()
        for t, (shape, kind) in zip(tensors, specs):
            if kind == "f":
                grads.append(None if t.grad is None else to_numpy(t.grad).copy())
    return values, names, grads, arrays

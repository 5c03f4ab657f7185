"""Every op case against torch's recorded answers (tests/autograd/golden/autograd_ops.*),
so the default suite checks values, grad_fn names and gradients without torch installed.
Regenerate with ``python tools/make_golden_autograd.py``."""
import json
import pathlib

import numpy as np
import pytest

import sys  # noqa: E402

sys.path.insert(0, str(__import__('pathlib').Path(__file__).parent))
import ember  # noqa: E402
from test_ops_cases import CASES  # noqa: E402

GOLDEN = pathlib.Path(__file__).parent / "golden"
ARRAYS = np.load(GOLDEN / "autograd_ops.npz")
META = json.loads((GOLDEN / "autograd_ops.json").read_text())


@pytest.mark.parametrize("name", sorted(META))
def test_op_matches_golden(name):
    shapes, fn, _ = CASES[name]
    ins = [ember.tensor(ARRAYS[f"{name}/in{i}"], requires_grad=True) for i in range(len(shapes))]
    out = fn(ember, *ins)
    outs = out if isinstance(out, tuple) else (out,)
    assert [o.grad_fn.name() if o.grad_fn else None for o in outs] == META[name]
    for k, o in enumerate(outs):
        np.testing.assert_allclose(o.detach().numpy(), ARRAYS[f"{name}/out{k}"], rtol=1e-5,
                                   atol=1e-6)
    total = None
    for k, o in enumerate(outs):
        term = (o * (k + 1.0)).sum()
        total = term if total is None else total + term
    total.backward()
    for i, t in enumerate(ins):
        key = f"{name}/grad{i}"
        if key in ARRAYS:
            np.testing.assert_allclose(t.grad.numpy(), ARRAYS[key], rtol=1e-4, atol=1e-5)
        else:
            assert t.grad is None


def test_golden_covers_every_case():
    assert set(META) == set(CASES)

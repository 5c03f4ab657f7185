"""The vision-model ops (``vision_ops_cases``) replayed on Ember against golden files made
with torch by ``tools/make_golden_vision_ops.py`` (no torch needed)."""
import json
import pathlib
import sys

import numpy as np
import pytest

import ember
import ember.nn.functional as EF

HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(HERE))

from nn_cases import make_inputs  # noqa: E402
from nn_compare import run_case  # noqa: E402
from vision_ops_cases import CASES, REPRS  # noqa: E402

GOLDEN = np.load(HERE / "golden" / "vision_ops.npz")
META = json.loads((HERE / "golden" / "vision_ops.json").read_text())


@pytest.mark.parametrize("name,specs,fn", CASES, ids=[c[0] for c in CASES])
def test_case_matches_golden(name, specs, fn):
    values, grad_fns, grads, _ = run_case(ember, EF, specs, fn, seed=7,
                                          inputs=make_inputs(specs, 7))
    assert grad_fns == META["grad_fns"][name]
    for i, v in enumerate(values):
        want = GOLDEN[f"{name}/out{i}"]
        assert v.shape == want.shape and v.dtype == want.dtype
        np.testing.assert_allclose(v, want, rtol=1e-10, atol=1e-12)
    for i, g in enumerate(grads):
        key = f"{name}/grad{i}"
        assert (g is None) == (key not in GOLDEN.files)
        if g is not None:
            np.testing.assert_allclose(g, GOLDEN[key], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("i", range(len(REPRS)))
def test_module_repr_matches_golden(i):
    assert repr(REPRS[i](ember.nn)) == META["reprs"][i]


@pytest.mark.parametrize("op,args", [
    (lambda x: EF.hardswish(x), ()), (lambda x: EF.hardsigmoid(x), ()),
    (lambda x: EF.silu(x), ()), (lambda x: EF.relu6(x * 4), ()),
    (lambda x: EF.adaptive_max_pool2d(x, (3, 2)), ()),
    (lambda x: EF.adaptive_avg_pool2d(x, (3, 2)), ()),
    (lambda x: EF.interpolate(x, size=(5, 7), mode="bilinear"), ()),
    (lambda x: EF.interpolate(x, scale_factor=1.6, mode="bilinear", align_corners=True), ()),
    (lambda x: EF.interpolate(x, size=(6, 3)), ()),
])
def test_gradcheck(op, args):
    # points kept off the activations' kinks so finite differences are exact
    x = ember.tensor(np.random.default_rng(3).uniform(0.1, 0.9, (1, 2, 4, 5)) *
                     np.sign(np.random.default_rng(4).standard_normal((1, 2, 4, 5))) * 3.3,
                     requires_grad=True)
    assert ember.autograd.gradcheck(op, (x,) + args)


def test_activation_double_backward():
    """Under create_graph the activations' backwards are recorded, so they differentiate
    (hardsigmoid's refuses, as torch's: test_double_backward_nn.py)."""
    x = ember.tensor(np.linspace(-4.7, 4.3, 13), requires_grad=True)
    for fn in (EF.hardswish, EF.silu, EF.relu6):
        assert ember.autograd.gradgradcheck(fn, (x,))
    y = ember.tensor(np.random.default_rng(5).standard_normal((2, 6, 2)), requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda t: EF.channel_shuffle(t, 3), (y,))

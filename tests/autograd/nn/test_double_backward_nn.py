"""Gradients of gradients through the fused nn ops (``double_backward_cases``): Ember's
``gradgradcheck`` in float64, the create_graph=False fast path against the recorded path,
third derivatives against the ops' composite forms, and the nodes torch names.
``test_torch_double_backward_nn.py`` compares the same cases with torch."""
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))

import ember  # noqa: E402
import ember.nn.functional as F  # noqa: E402

from double_backward_cases import CASES, EMBER_ONLY, make_inputs  # noqa: E402
from double_backward_compare import assert_close, derivatives  # noqa: E402

_ALL = CASES + EMBER_ONLY


def _inputs(specs):
    return tuple(ember.tensor(a, requires_grad=True) for a in make_inputs(specs, 5))


@pytest.mark.parametrize("name,specs,fn", _ALL, ids=[c[0] for c in _ALL])
def test_gradgradcheck(name, specs, fn):
    assert ember.autograd.gradgradcheck(lambda *xs: fn(ember, F, *xs), _inputs(specs))


@pytest.mark.parametrize("name,specs,fn", _ALL, ids=[c[0] for c in _ALL])
def test_fused_and_recorded_backward_agree(name, specs, fn):
    """The one-pass kernels (create_graph=False) and the recorded path give one gradient."""
    xs = _inputs(specs)
    y = fn(ember, F, *xs)
    go = ember.tensor(np.random.default_rng(1).standard_normal(tuple(y.shape)))
    fast = ember.autograd.grad(y, xs, go, retain_graph=True, allow_unused=True)
    assert all(g is None or g.grad_fn is None for g in fast)
    recorded = ember.autograd.grad(y, xs, go, create_graph=True, allow_unused=True)
    assert_close([None if g is None else g.detach().numpy() for g in recorded],
                 [None if g is None else g.numpy() for g in fast], rtol=1e-12, atol=1e-14)


# torch's names, as test_torch_double_backward_nn.py checks for every case
NAMES = {
    "conv": ["ConvolutionBackwardBackward0"] * 3,
    "max_pool": ["MaxPool2DWithIndicesBackwardBackward0"],
    "adaptive_max": ["AdaptiveMaxPool2DBackwardBackward0"],
    "avg_pool": ["AvgPool2DBackwardBackward0"],
    "adaptive_avg": ["AdaptiveAvgPool2DBackwardBackward0"],
    "batch_norm_eval": ["NativeBatchNormBackwardBackward0"] * 3,
    "layer_norm": ["NativeLayerNormBackwardBackward0"] * 3,
    "softmax": ["SoftmaxBackwardDataBackward0"],
    "cross_entropy": ["LogSoftmaxBackwardDataBackward0"],
    "nll_weighted": ["NllLossBackwardBackward0"],
    "cross_entropy_2d": ["LogSoftmaxBackwardDataBackward0"],
    "mse": ["MseLossBackwardBackward0"] * 2,
    "bce_logits": ["DivBackward1"] * 2,
    "embedding": ["EmbeddingDenseBackwardBackward0"],
    "leaky_relu": ["LeakyReluBackwardBackward0"],
    "gelu": ["GeluBackwardBackward0"],
    "upsample_bilinear": ["UpsampleBilinear2DBackwardBackward0"],
}


@pytest.mark.parametrize("name", sorted(NAMES))
def test_first_derivatives_are_torchs_nodes(name):
    _, specs, fn = next(c for c in CASES if c[0] == name)
    assert derivatives(ember, F, specs, fn)[1] == NAMES[name]


def _layer_norm_ops(x, w, b):
    m = x.mean(-1, keepdim=True)
    xc = x - m
    return xc * ((xc * xc).mean(-1, keepdim=True) + 1e-5).rsqrt() * w + b


def _batch_norm_ops(x, w, b):
    m = x.mean((0, 2, 3), keepdim=True)
    xc = x - m
    r = ((xc * xc).mean((0, 2, 3), keepdim=True) + 1e-5).rsqrt()
    return xc * r * w.reshape(1, -1, 1, 1) + b.reshape(1, -1, 1, 1)


@pytest.mark.parametrize("fused,ops,specs", [
    (lambda T, F, x, w, b: F.layer_norm(x, (3,), w, b), _layer_norm_ops,
     [((2, 4, 3), "f"), ((3,), "f"), ((3,), "f")]),
    (lambda T, F, x, w, b: F.batch_norm(x, None, None, w, b, True), _batch_norm_ops,
     [((3, 2, 2, 2), "f"), ((2,), "f"), ((2,), "f")]),
], ids=["layer_norm", "batch_norm_train"])
def test_third_derivatives_of_norms_equal_their_composite(fused, ops, specs):
    """The statistics' dependence on x is kept at every order (torch holds them constant
    past the second, so its third derivative disagrees with this composite)."""
    got = derivatives(ember, F, specs, fused, order=3)
    want = derivatives(ember, F, specs, lambda T, F, *xs: ops(*xs), order=3)
    for k in (0, 2, 3):
        assert_close(got[k], want[k], rtol=1e-8, atol=1e-10)


def test_hardsigmoid_backward_refuses_differentiation_as_torch():
    x = ember.tensor(np.linspace(-2.5, 2.5, 5), requires_grad=True)
    (g,) = ember.autograd.grad(F.hardsigmoid(x).sum(), x, create_graph=True)
    assert g.grad_fn.name() == "torch::autograd::NotImplemented"
    with pytest.raises(RuntimeError, match="hardsigmoid_backward is not implemented"):
        g.sum().backward()

"""Second derivatives through the fused nn ops (``double_backward_cases``) against torch:
the first derivatives under ``create_graph=True``, their grad_fn names
(``ConvolutionBackwardBackward0``...), the second derivatives, and for a few ops the third."""
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))

torch = pytest.importorskip("torch")

import ember  # noqa: E402
import ember.nn.functional as EF  # noqa: E402
import torch.nn.functional as TF  # noqa: E402

from double_backward_cases import CASES  # noqa: E402
from double_backward_compare import assert_close, derivatives  # noqa: E402

_BY_NAME = {c[0]: c for c in CASES}


@pytest.mark.parametrize("name,specs,fn", CASES, ids=[c[0] for c in CASES])
def test_second_derivatives_match_torch(name, specs, fn):
    t_first, t_names, t_second, _ = derivatives(torch, TF, specs, fn)
    e_first, e_names, e_second, _ = derivatives(ember, EF, specs, fn)
    assert e_names == t_names
    assert_close(e_first, t_first)
    assert_close(e_second, t_second)


# not batch_norm_train / layer_norm: torch's third derivative there holds the saved mean and
# rstd constant, so it disagrees with its own composite form; Ember's equals the composite
# (test_double_backward_nn.py checks that)
@pytest.mark.parametrize("name", ["conv_stride_pad_groups", "batch_norm_eval", "softmax",
                                  "log_softmax", "gelu", "gelu_tanh", "mse", "bce_logits"])
def test_third_derivatives_match_torch(name):
    _, specs, fn = _BY_NAME[name]
    t_third = derivatives(torch, TF, specs, fn, order=3)[3]
    e_third = derivatives(ember, EF, specs, fn, order=3)[3]
    assert_close(e_third, t_third, rtol=1e-8, atol=1e-10)


def test_hardsigmoid_backward_refuses_differentiation_as_torch():
    words = "derivative for aten::hardsigmoid_backward is not implemented"
    for T, F in ((torch, TF), (ember, EF)):
        x = T.tensor(np.linspace(-2.5, 2.5, 5), requires_grad=True)
        (g,) = T.autograd.grad(F.hardsigmoid(x).sum(), x, create_graph=True)
        assert g.grad_fn.name() == "torch::autograd::NotImplemented"
        with pytest.raises(RuntimeError, match=words):
            g.sum().backward()


def _gradient_penalty_grads(T, F, arrays):
    """A WGAN-GP style step on a small CNN: the squared norm of d(loss)/d(input), itself
    differentiated with respect to every weight (conv, batch norm, pooling, linear, loss)."""
    x, w1, b1, g1, w2, lin = (T.tensor(a, dtype=T.float64, requires_grad=True) for a in arrays)
    h = F.conv2d(x, w1, b1, padding=1)
    h = F.relu(F.batch_norm(h, None, None, g1, None, True))
    h = F.max_pool2d(h, 2)
    h = F.avg_pool2d(F.conv2d(h, w2, stride=1, padding=1), 2)
    logits = F.adaptive_avg_pool2d(h, 1).flatten(1) @ lin
    loss = F.cross_entropy(logits, T.tensor([1, 0], dtype=T.int64))
    (gx,) = T.autograd.grad(loss, x, create_graph=True)
    penalty = (gx * gx).sum()
    return [g.numpy() for g in T.autograd.grad(penalty, (w1, b1, g1, w2, lin))]


def test_gradient_penalty_through_a_cnn_matches_torch():
    rng = np.random.default_rng(3)
    shapes = [(2, 3, 6, 6), (4, 3, 3, 3), (4,), (4,), (5, 4, 3, 3), (5, 3)]
    arrays = [rng.standard_normal(s) for s in shapes]
    got = _gradient_penalty_grads(ember, EF, arrays)
    want = _gradient_penalty_grads(torch, TF, arrays)
    assert_close(got, want)

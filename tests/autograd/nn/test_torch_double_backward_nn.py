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

"""Ember's ResNet-18 against the plain-torch reference with the same weights: outputs, loss
gradients and BatchNorm running statistics.

What is compared in which precision, and why: eval outputs, the train-mode loss and the
running statistics are continuous, well-conditioned functions of the input, so float32
agrees to ~1e-5 whatever the summation order. The train-step gradients are not: ReLU's
derivative jumps at 0, so a pre-activation within float32 rounding (~1e-6) of zero is
passed by one library and blocked by the other, and layer4's train-mode BatchNorm at 32 px
normalises 4 values per channel, which amplifies rounding ~1e3-fold. Over 60 random
set-ups in float32, 4 gave gradients 16-21% apart on some parameter (median 1.6e-4), so a
float32 verdict would depend on the CPU. In float64 both effects are ~1e-12 (measured at
most 1.2e-12 over 20 set-ups), so the gradient formulas are checked there.
"""
import pathlib
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ember  # noqa: E402
from ember_vision.models import resnet18  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tools"))
import torch_resnet  # noqa: E402


def _pair(dtype=np.float32):
    """(torch reference, ember model) with the same weights and non-trivial BatchNorm."""
    torch.manual_seed(0)
    ref = torch_resnet.resnet18(num_classes=10)
    with torch.no_grad():
        for m in ref.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.1, 0.1)
    model = resnet18(num_classes=10)
    state = {k: ember.from_numpy(v.detach().numpy().copy()) for k, v in ref.state_dict().items()}
    model.load_state_dict(state, strict=True)
    if dtype == np.float64:
        ref, model = ref.double(), model.double()
    return ref, model


def _train_step(ref, model, dtype):
    """One train-mode forward and backward of both on the same batch; returns the losses."""
    x = np.random.default_rng(1).standard_normal((4, 3, 32, 32)).astype(dtype)
    y = np.array([1, 3, 5, 7])
    ref.train()
    model.train()
    loss_t = torch.nn.functional.cross_entropy(ref(torch.from_numpy(x)), torch.from_numpy(y))
    loss_t.backward()
    loss_e = ember.nn.functional.cross_entropy(model(ember.from_numpy(x)), ember.from_numpy(y))
    loss_e.backward()
    return loss_t.item(), loss_e.item()


def test_eval_outputs_match():
    ref, model = _pair()
    x = np.random.default_rng(0).standard_normal((2, 3, 48, 48)).astype(np.float32)
    ref.eval()
    model.eval()
    with torch.no_grad():
        want = ref(torch.from_numpy(x)).numpy()
    with ember.no_grad():
        got = model(ember.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_float32_train_step_loss_and_running_stats_match():
    ref, model = _pair()
    loss_t, loss_e = _train_step(ref, model, np.float32)
    assert abs(loss_e - loss_t) < 1e-4  # at most 1.8e-5 measured over 60 set-ups
    ref_buffers = dict(ref.named_buffers())
    for name, b in model.named_buffers():
        np.testing.assert_allclose(b.numpy(), ref_buffers[name].numpy(), rtol=1e-4, atol=1e-5,
                                   err_msg=name)


def test_float64_train_step_gradients_and_running_stats_match():
    ref, model = _pair(np.float64)
    loss_t, loss_e = _train_step(ref, model, np.float64)
    assert abs(loss_e - loss_t) < 1e-10
    ref_params = dict(ref.named_parameters())
    for name, p in model.named_parameters():
        got, want = p.grad.numpy(), ref_params[name].grad.numpy()
        assert got.dtype == np.float64
        # judged against each gradient's own scale; measured at most 1.2e-12
        rel = np.abs(got - want).max() / max(np.abs(want).max(), 1e-12)
        assert rel < 1e-9, (name, rel)
    ref_buffers = dict(ref.named_buffers())
    for name, b in model.named_buffers():
        np.testing.assert_allclose(b.numpy(), ref_buffers[name].numpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=name)

"""Ember's ResNet-18 against the plain-torch reference with the same weights: outputs, loss
gradients and BatchNorm running statistics."""
import pathlib
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ember  # noqa: E402
from ember_vision.models import resnet18  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tools"))
import torch_resnet  # noqa: E402


@pytest.fixture(scope="module")
def pair():
    torch.manual_seed(0)
    ref = torch_resnet.resnet18(num_classes=10)
    with torch.no_grad():  # non-trivial BatchNorm statistics
        for m in ref.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.1, 0.1)
    model = resnet18(num_classes=10)
    state = {k: ember.from_numpy(v.detach().numpy().copy()) for k, v in ref.state_dict().items()}
    model.load_state_dict(state, strict=True)
    return ref, model


def test_eval_outputs_match(pair):
    ref, model = pair
    x = np.random.default_rng(0).standard_normal((2, 3, 48, 48)).astype(np.float32)
    ref.eval()
    model.eval()
    with torch.no_grad():
        want = ref(torch.from_numpy(x)).numpy()
    with ember.no_grad():
        got = model(ember.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_train_step_gradients_and_running_stats_match(pair):
    ref, model = pair
    x = np.random.default_rng(1).standard_normal((4, 3, 32, 32)).astype(np.float32)
    y = np.array([1, 3, 5, 7])
    ref.train()
    model.train()
    loss_t = torch.nn.functional.cross_entropy(ref(torch.from_numpy(x)), torch.from_numpy(y))
    loss_t.backward()
    loss_e = ember.nn.functional.cross_entropy(model(ember.from_numpy(x)), ember.from_numpy(y))
    loss_e.backward()
    assert abs(loss_e.item() - loss_t.item()) < 1e-4
    ref_params = dict(ref.named_parameters())
    for name, p in model.named_parameters():
        got, want = p.grad.numpy(), ref_params[name].grad.numpy()
        # float32 sums in a different order, amplified through train-mode BatchNorm:
        # judge each gradient relative to its own scale
        rel = np.abs(got - want).max() / max(np.abs(want).max(), 1e-6)
        assert rel < 1e-3, (name, rel)
    ref_buffers = dict(ref.named_buffers())
    for name, b in model.named_buffers():
        np.testing.assert_allclose(b.numpy(), ref_buffers[name].numpy(), rtol=1e-4, atol=1e-5,
                                   err_msg=name)

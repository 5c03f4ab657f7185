"""ember_vision.ops without torch: torchvision's state_dict layout, the blocks' arithmetic
written out by hand, and stochastic depth's row/batch semantics."""
import numpy as np
import pytest

import ember
import ember_vision
from ember import nn
from ember_vision import ops


def test_conv2d_norm_activation_layout():
    block = ops.Conv2dNormActivation(4, 8, kernel_size=3, stride=2)
    assert [(k, tuple(v.shape)) for k, v in block.state_dict().items()] == [
        ("0.weight", (8, 4, 3, 3)), ("1.weight", (8,)), ("1.bias", (8,)),
        ("1.running_mean", (8,)), ("1.running_var", (8,)), ("1.num_batches_tracked", ())]
    assert block[0].padding == (1, 1) and block.out_channels == 8
    assert isinstance(block[2], nn.ReLU) and block[2].inplace
    plain = ops.Conv2dNormActivation(4, 6, kernel_size=(5, 3), dilation=2, norm_layer=None,
                                     activation_layer=None)
    assert len(plain) == 1 and plain[0].padding == (4, 2) and plain[0].bias is not None


def test_squeeze_excitation_is_its_formula():
    se = ops.SqueezeExcitation(6, 2, scale_activation=nn.Hardsigmoid)
    assert list(se.state_dict()) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    x = ember.randn(2, 6, 5, 5)
    w1, b1 = se.fc1.weight.detach().numpy()[:, :, 0, 0], se.fc1.bias.detach().numpy()
    w2, b2 = se.fc2.weight.detach().numpy()[:, :, 0, 0], se.fc2.bias.detach().numpy()
    pooled = x.numpy().mean(axis=(2, 3))
    hidden = np.maximum(pooled @ w1.T + b1, 0)
    scale = np.clip(hidden @ w2.T + b2 + 3, 0, 6) / 6
    want = x.numpy() * scale[:, :, None, None]
    np.testing.assert_allclose(se(x).detach().numpy(), want, rtol=1e-5, atol=1e-6)


def test_permute_and_frozen_batch_norm():
    x = ember.randn(2, 3, 4, 5)
    assert ops.Permute([0, 2, 3, 1])(x).shape == (2, 4, 5, 3)
    fbn = ops.FrozenBatchNorm2d(3)
    assert list(fbn.state_dict()) == ["weight", "bias", "running_mean", "running_var"]
    assert repr(fbn) == "FrozenBatchNorm2d(3, eps=1e-05)"
    np.testing.assert_allclose(fbn(x).numpy(), x.numpy() / np.sqrt(1 + 1e-5), rtol=1e-6)


def test_stochastic_depth():
    ember.manual_seed(0)
    x = ember.ones(2000, 2, requires_grad=True)
    out = ops.stochastic_depth(x, 0.25, "row")
    rows = out.detach().numpy()
    assert (rows[:, 0] == rows[:, 1]).all()
    assert set(np.unique(rows)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((rows[:, 0] == 0).mean() - 0.25) < 0.05
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), rows)  # d(x * noise)/dx = noise
    assert len(np.unique(ops.stochastic_depth(x, 0.5, "batch").detach().numpy())) == 1
    assert ops.stochastic_depth(x, 0.5, "row", training=False) is x
    module = ops.StochasticDepth(0.1, "batch")
    assert repr(module) == "StochasticDepth(p=0.1, mode=batch)"
    assert module.eval()(x) is x
    with pytest.raises(ValueError, match="drop probability has to be between 0 and 1"):
        ops.stochastic_depth(x, -0.1, "row")
    with pytest.raises(ValueError, match="mode has to be either 'batch' or 'row'"):
        ops.stochastic_depth(x, 0.1, "rows")


def test_reachable_as_torchvision_ops():
    assert ember_vision.ops.StochasticDepth is ops.StochasticDepth

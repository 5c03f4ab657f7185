"""ember_vision.ops against torchvision.ops: state_dict keys and shapes, reprs, forward values
and gradients on the same weights; stochastic depth's semantics (its draws are Ember's own)."""
import numpy as np
import pytest

import ember
import ember_vision.ops as eops
from ember import nn as enn

torch = pytest.importorskip("torch")


def _copy_weights(src, dst):
    dst.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in src.state_dict().items()})


def _same(e, t, tol=1e-5):
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol)


def _blocks(nn, ops):
    return [
        lambda: ops.Conv2dNormActivation(4, 8, kernel_size=3, stride=2),
        lambda: ops.Conv2dNormActivation(8, 8, kernel_size=5, groups=8,
                                         activation_layer=nn.Hardswish),
        lambda: ops.Conv2dNormActivation(4, 6, kernel_size=1, norm_layer=None,
                                         activation_layer=nn.SiLU),
        lambda: ops.Conv2dNormActivation(4, 6, kernel_size=(3, 1), dilation=2,
                                         activation_layer=None),
        lambda: ops.SqueezeExcitation(8, 2),
        lambda: ops.SqueezeExcitation(8, 4, activation=nn.ReLU, scale_activation=nn.Hardsigmoid),
        lambda: ops.FrozenBatchNorm2d(8, eps=1e-3),
        lambda: ops.Permute([0, 2, 3, 1]),
    ]


@pytest.mark.parametrize("i", range(8))
def test_block_matches_torchvision(torchvision, i):
    t_block = _blocks(torch.nn, torchvision.ops.misc)[i]()
    e_block = _blocks(enn, eops)[i]()
    tsd = t_block.state_dict()
    assert [(k, tuple(v.shape)) for k, v in e_block.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in tsd.items()]
    # torch 2.13's BatchNorm2d repr adds bias=True (README: where Ember differs, on purpose)
    assert repr(e_block) == repr(t_block).replace("affine=True, bias=True", "affine=True")
    if i == 6:
        for k in tsd:
            tsd[k].uniform_(0.5, 1.5)
    _copy_weights(t_block, e_block)
    channels = 8 if i in (1, 4, 5, 6) else 4
    x = np.random.default_rng(i).standard_normal((2, channels, 9, 9)).astype(np.float32)
    for train in (True, False):
        t_block.train(train)
        e_block.train(train)
        tx = torch.tensor(x, requires_grad=True)
        ex = ember.tensor(x, requires_grad=True)
        to, eo = t_block(tx), e_block(ex)
        _same(eo, to)
        g = np.random.default_rng(9).standard_normal(tuple(to.shape)).astype(np.float32)
        to.backward(torch.tensor(g))
        eo.backward(ember.tensor(g))
        _same(ex.grad, tx.grad, 1e-4)


def test_stochastic_depth_semantics(torchvision):
    x = ember.ones(4000, 3)
    out = eops.stochastic_depth(x, 0.25, "row")
    rows = out[:, 0].numpy()
    assert set(np.unique(rows)) <= {0.0, np.float32(1 / 0.75)}
    assert (out.numpy() == rows[:, None]).all()  # a whole row is kept or dropped
    assert abs((rows == 0).mean() - 0.25) < 0.04
    batch = eops.stochastic_depth(x, 0.5, "batch").numpy()
    assert len(np.unique(batch)) == 1 and batch.flat[0] in (0.0, 2.0)
    assert eops.stochastic_depth(x, 0.7, "row", training=False) is x
    assert eops.stochastic_depth(x, 0.0, "row") is x
    assert (eops.stochastic_depth(x, 1.0, "row").numpy() == 0).all()
    t_mod = torchvision.ops.StochasticDepth(0.2, "row")
    e_mod = eops.StochasticDepth(0.2, "row")
    assert repr(e_mod) == repr(t_mod)
    e_mod.eval()
    assert e_mod(x) is x
    for args in ((x, 1.5, "row"), (x, 0.5, "col")):
        with pytest.raises(ValueError) as e_err:
            eops.stochastic_depth(*args)
        with pytest.raises(ValueError) as t_err:
            torchvision.ops.stochastic_depth(torch.ones(2), *args[1:])
        assert str(e_err.value) == str(t_err.value)

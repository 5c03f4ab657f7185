"""nn modules against live torch: reprs, state-dict keys/metadata, load errors, forward/backward."""
import pathlib
import sys
from collections import OrderedDict

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ember  # noqa: E402
from ember import nn  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from nn_models import REPRS, _build, _strip_bias  # noqa: E402


def _copy_state(tmodel, emodel):
    sd = OrderedDict((k, ember.tensor(v.detach().numpy().copy())) for k, v in
                     tmodel.state_dict().items())
    sd._metadata = tmodel.state_dict()._metadata
    return emodel.load_state_dict(sd)


def test_repr_children_and_state_dict_match_torch():
    t, e = _build(torch.nn), _build(nn)
    assert repr(e) == _strip_bias(repr(t))
    assert [repr(c) for c in e.children()] == [_strip_bias(repr(c)) for c in t.children()]
    tsd, esd = t.state_dict(), e.state_dict()
    assert list(esd.keys()) == list(tsd.keys())
    assert dict(esd._metadata) == dict(tsd._metadata)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in e.named_modules()] == [n for n, _ in t.named_modules()]
    for k in tsd:
        assert tuple(esd[k].shape) == tuple(tsd[k].shape)
        assert str(esd[k].dtype).split(".")[-1] == str(tsd[k].dtype).split(".")[-1]


def test_dir_lists_parameters_buffers_and_children():
    e = _build(nn)
    names = dir(e)
    for name in ("conv1", "bn1", "layer1", "fc", "forward", "training", "state_dict"):
        assert name in names
    assert "weight" in dir(e.fc) and "running_mean" in dir(e.bn1)


@pytest.mark.parametrize("train", [True, False])
def test_forward_backward_and_running_stats_match_torch(train):
    torch.manual_seed(0)
    t, e = _build(torch.nn).double(), _build(nn).double()
    assert repr(_copy_state(t, e)) == "<All keys matched successfully>"
    t.train(train), e.train(train)
    x = np.random.default_rng(1).standard_normal((2, 3, 16, 16))
    tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    to, eo = t(tx), e(ex)
    assert type(eo.grad_fn).__name__ == type(to.grad_fn).__name__ == "AddmmBackward0"
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=1e-9, atol=1e-12)
    to.sum().backward()
    eo.sum().backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-8, atol=1e-12)
    for (n, tp), (_, ep) in zip(t.named_parameters(), e.named_parameters()):
        np.testing.assert_allclose(ep.grad.numpy(), tp.grad.numpy(), rtol=1e-8, atol=1e-12,
                                   err_msg=n)
    for (n, tb), (_, eb) in zip(t.named_buffers(), e.named_buffers()):
        np.testing.assert_allclose(eb.numpy(), tb.numpy(), rtol=1e-10, err_msg=n)


def _error(call):
    try:
        call()
    except Exception as exc:  # noqa: BLE001
        return type(exc), str(exc).replace("torch.Size", "ember.Size")
    return None, None


def _bad_dicts(sd_factory):
    sd = sd_factory()
    del sd["fc.bias"]
    yield "missing", sd
    sd = sd_factory()
    sd["fc.extra"] = sd["fc.bias"]
    sd["nothere.weight"] = sd["fc.bias"]
    yield "unexpected", sd
    sd = sd_factory()
    sd["fc.weight"] = sd["fc.weight"][:, :2]
    del sd["bn1.running_var"]
    sd["layer1.5.conv1.weight"] = sd["fc.bias"]
    yield "all_three", sd


def test_load_state_dict_errors_match_torch():
    t, e = _build(torch.nn), _build(nn)
    tcases = dict(_bad_dicts(lambda: OrderedDict(t.state_dict())))
    ecases = dict(_bad_dicts(lambda: OrderedDict(e.state_dict())))
    for name in tcases:
        t_type, t_msg = _error(lambda: t.load_state_dict(tcases[name]))
        e_type, e_msg = _error(lambda: e.load_state_dict(ecases[name]))
        assert t_type is e_type is RuntimeError, name
        assert e_msg == t_msg, name
        t_res = t.load_state_dict(tcases[name], strict=False) if name != "all_three" else None
        if t_res is not None:
            e_res = e.load_state_dict(ecases[name], strict=False)
            assert e_res.missing_keys == t_res.missing_keys
            assert e_res.unexpected_keys == t_res.unexpected_keys
            assert repr(e_res).replace("ember", "torch") == repr(t_res)


def test_batchnorm_loads_dict_without_num_batches_tracked():
    t, e = torch.nn.BatchNorm2d(3), nn.BatchNorm2d(3)
    sd = OrderedDict((k, v) for k, v in t.state_dict().items() if k != "num_batches_tracked")
    t.load_state_dict(sd)  # no metadata: treated as version 1, key added
    esd = OrderedDict((k, ember.tensor(v.numpy())) for k, v in sd.items())
    assert e.load_state_dict(esd).missing_keys == []
    # version-2 metadata: the key is required, as in torch
    sd._metadata = OrderedDict({"": {"version": 2}})
    esd._metadata = sd._metadata
    t_type, t_msg = _error(lambda: t.load_state_dict(sd))
    e_type, e_msg = _error(lambda: e.load_state_dict(esd))
    assert e_type is t_type is RuntimeError and e_msg == t_msg


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_momentum_and_eval_match_torch(momentum):
    t = torch.nn.BatchNorm1d(3, momentum=momentum).double()
    e = nn.BatchNorm1d(3, momentum=momentum).double()
    rng = np.random.default_rng(2)
    for _ in range(3):
        x = rng.standard_normal((6, 3))
        t(torch.tensor(x)), e(ember.tensor(x))
    np.testing.assert_allclose(e.running_mean.numpy(), t.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(e.running_var.numpy(), t.running_var.numpy(), rtol=1e-12)
    assert int(e.num_batches_tracked.item()) == 3
    t.eval(), e.eval()
    x = rng.standard_normal((4, 3))
    np.testing.assert_allclose(e(ember.tensor(x)).detach().numpy(),
                               t(torch.tensor(x)).detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("i", range(len(REPRS)))
def test_module_repr_matches_torch(i):
    assert repr(REPRS[i](nn)) == _strip_bias(repr(REPRS[i](torch.nn)))


def test_default_init_follows_torch_bounds():
    lin = nn.Linear(50, 20)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    bound = 1 / np.sqrt(50)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert np.abs(b).max() <= bound
    conv = nn.Conv2d(4, 6, 3)
    assert np.abs(conv.weight.detach().numpy()).max() <= 1 / np.sqrt(36)
    assert nn.init.calculate_gain("leaky_relu", 0.2) == torch.nn.init.calculate_gain(
        "leaky_relu", 0.2)
    for name in ("linear", "relu", "tanh", "selu", "sigmoid", "conv2d"):
        assert nn.init.calculate_gain(name) == torch.nn.init.calculate_gain(name)

"""Module mechanics without torch: registration, hooks, containers, modes, frozen params."""
from collections import OrderedDict

import numpy as np
import pytest

import ember
from ember import nn


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.register_buffer("scale", ember.ones(2))
        self.register_buffer("tmp", ember.zeros(1), persistent=False)

    def forward(self, x):
        return self.fc(x) * self.scale


def test_setattr_files_values_into_registries():
    m = Tiny()
    assert list(m._modules) == ["fc"] and list(m._buffers) == ["scale", "tmp"]
    assert list(m.state_dict()) == ["scale", "fc.weight", "fc.bias"]
    m.extra = nn.Parameter(ember.zeros(2))
    assert "extra" in m._parameters and m.extra is m._parameters["extra"]
    with pytest.raises(TypeError, match="cannot assign 'ember.Tensor' as parameter 'extra'"):
        m.extra = ember.zeros(2)
    with pytest.raises(TypeError, match="as child module 'fc'"):
        m.fc = 3
    with pytest.raises(KeyError, match="attribute 'fc' already exists"):
        m.register_buffer("fc", ember.zeros(1))
    with pytest.raises(KeyError) as err:
        m.register_buffer("a.b", ember.zeros(1))
    assert err.value.args[0] == 'buffer name can\'t contain "."'
    with pytest.raises(AttributeError, match="'Tiny' object has no attribute 'nope'"):
        m.nope
    del m.extra
    assert "extra" not in m._parameters
    with pytest.raises(AttributeError, match="before Module.__init__"):
        class Bad(nn.Module):
            def __init__(self):
                self.w = nn.Parameter(ember.zeros(1))
        Bad()


def test_attribute_lookup_finds_each_registry_and_refuses_before_init():
    m = nn.BatchNorm2d(3)
    assert m.weight is m._parameters["weight"]
    assert m.running_mean is m._buffers["running_mean"]
    seq = nn.Sequential(m)
    assert getattr(seq, "0") is m
    # before Module.__init__ there are no registries: a plain AttributeError, so hasattr works
    bare = nn.Linear.__new__(nn.Linear)
    assert not hasattr(bare, "weight")
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'weight'"):
        bare.weight


def test_parameter_is_a_leaf_sharing_memory():
    t = ember.zeros(3)
    p = nn.Parameter(t)
    assert isinstance(p, ember.Tensor) and p.requires_grad and p.is_leaf
    p.data[0] = 5.0
    assert t[0].item() == 5.0
    assert repr(nn.Parameter(ember.tensor([1.0, 2.0]))) == (
        "Parameter containing:\ntensor([1., 2.], requires_grad=True)")
    assert not nn.Parameter(ember.zeros(1), requires_grad=False).requires_grad


def test_hooks_run_and_are_removable():
    m = Tiny()
    seen = []
    h1 = m.register_forward_pre_hook(lambda mod, args: seen.append("pre"))
    h2 = m.register_forward_hook(lambda mod, args, out: out * 0)
    out = m(ember.ones(1, 3))
    assert seen == ["pre"] and (out.detach().numpy() == 0).all()
    h1.remove()
    h2.remove()
    assert (m(ember.ones(1, 3)).detach().numpy() != 0).any() and seen == ["pre"]


def test_frozen_parameters_get_no_grad():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    for p in model.parameters():
        p.requires_grad = False
    model[2] = nn.Linear(4, 2)
    model(ember.ones(5, 3)).sum().backward()
    assert model[0].weight.grad is None and model[0].bias.grad is None
    assert model[2].weight.grad is not None and model[2].bias.grad.shape == (2,)
    model.zero_grad()
    assert model[2].weight.grad is None


def test_containers_index_slice_and_iterate():
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Tanh())
    assert isinstance(seq[-1], nn.Tanh) and len(seq) == 3
    assert isinstance(seq[1:], nn.Sequential) and len(seq[1:]) == 2
    seq.append(nn.Sigmoid())
    assert list(seq._modules) == ["0", "1", "2", "3"]
    del seq[0]
    assert list(seq._modules) == ["0", "1", "2"] and isinstance(seq[0], nn.ReLU)
    with pytest.raises(IndexError, match="index 5 is out of range"):
        seq[5]
    named = nn.Sequential(OrderedDict(a=nn.ReLU(), b=nn.Tanh()))
    assert [n for n, _ in named.named_children()] == ["a", "b"]
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    assert len(list(ml.parameters())) == 6 and len(ml[:2]) == 2
    md = nn.ModuleDict({"x": nn.ReLU()})
    md["y"] = nn.Tanh()
    assert list(md.keys()) == ["x", "y"] and "y" in md


def test_shared_module_is_listed_once_and_train_eval_recurse():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, shared)
    assert len(list(model.parameters())) == 2
    assert len(list(model.named_parameters(remove_duplicate=False))) == 4
    model.eval()
    assert not shared.training and not model.training
    model.train()
    assert shared.training
    assert model.get_submodule("0") is shared
    assert model.get_parameter("1.bias") is shared.bias


def test_load_state_dict_copies_and_reports():
    a, b = Tiny(), Tiny()
    res = b.load_state_dict(a.state_dict())
    assert repr(res) == "<All keys matched successfully>"
    np.testing.assert_array_equal(b.fc.weight.detach().numpy(), a.fc.weight.detach().numpy())
    sd = a.state_dict()
    del sd["scale"]
    with pytest.raises(RuntimeError) as err:
        b.load_state_dict(sd)
    assert str(err.value) == ('Error(s) in loading state_dict for Tiny:\n\tMissing key(s) in '
                              'state_dict: "scale". ')
    assert b.load_state_dict(sd, strict=False).missing_keys == ["scale"]
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        b.load_state_dict([1])


def test_batchnorm_without_num_batches_tracked_and_momentum_none():
    bn = nn.BatchNorm2d(3)
    sd = OrderedDict((k, v) for k, v in bn.state_dict().items() if k != "num_batches_tracked")
    assert bn.load_state_dict(sd).missing_keys == []
    assert bn.num_batches_tracked.shape == () and bn.num_batches_tracked.dtype == ember.int64
    cum = nn.BatchNorm1d(2, momentum=None)
    xs = [np.array([[1.0, 2.0], [3.0, 6.0]]), np.array([[5.0, 0.0], [7.0, 2.0]])]
    for x in xs:
        cum(ember.tensor(x, dtype=ember.float32))
    means = np.mean([x.mean(0) for x in xs], axis=0)
    np.testing.assert_allclose(cum.running_mean.numpy(), means, rtol=1e-6)
    with pytest.raises(ValueError, match="expected 4D input \\(got 2D input\\)"):
        bn(ember.zeros(2, 3))


def test_init_functions_fill_in_place():
    w = ember.empty(4, 5)
    nn.init.constant_(w, 0.5)
    assert (w.numpy() == 0.5).all()
    nn.init.xavier_uniform_(w)
    assert np.abs(w.numpy()).max() <= np.sqrt(6 / 9)
    nn.init.trunc_normal_(w, std=1.0, a=-0.5, b=0.5)
    assert np.abs(w.numpy()).max() <= 0.5
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.kaiming_uniform_(ember.empty(3))
    with pytest.raises(ValueError, match="Mode fan_x not supported"):
        nn.init.kaiming_normal_(w, mode="fan_x")


def test_clip_grad_norm_and_value():
    p = nn.Parameter(ember.zeros(4))
    p.grad = ember.tensor([3.0, 4.0, 0.0, 0.0])
    total = nn.utils.clip_grad_norm_([p], 1.0)
    assert abs(total.item() - 5.0) < 1e-6
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8, 0, 0], rtol=1e-5)
    nn.utils.clip_grad_value_([p], 0.7)
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.7, 0, 0], rtol=1e-6)
    vec = nn.utils.parameters_to_vector(nn.Linear(2, 3).parameters())
    assert vec.shape == (9,)

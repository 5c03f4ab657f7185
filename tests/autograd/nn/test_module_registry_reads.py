"""BatchNorm's and Conv2d's forwards read their parameters (and buffers) from the Module
registries (``batchnorm._registered``, ``Conv2d.forward``) only where attribute reads would
reach ``Module.__getattr__``; a class or instance that shadows one of the names, a deleted
parameter, or a subclass with its own ``__getattr__`` goes through the attributes as
before."""
import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.nn.modules import batchnorm as BM
from ember.nn.modules.module import registry_reads


def _attribute_reads(m):
    return (m.weight, m.bias, m.running_mean, m.running_var, m.num_batches_tracked)


@pytest.mark.parametrize("make", [lambda: nn.BatchNorm2d(3), lambda: nn.BatchNorm1d(4, affine=False),
                                  lambda: nn.BatchNorm2d(3, track_running_stats=False)])
def test_registry_reads_are_the_attribute_reads(make):
    m = make()
    regs = BM._registered(m)
    assert regs is not None
    assert all(a is b for a, b in zip(regs, _attribute_reads(m)))


def test_shadowed_names_fall_back_to_attribute_reads():
    class Shadowing(nn.BatchNorm2d):
        @property
        def weight(self):
            return self._parameters["weight"] * 2

    class OwnGetattr(nn.BatchNorm2d):
        def __getattr__(self, name):
            return super().__getattr__(name)

    assert not registry_reads(Shadowing, BM._NAMES)
    assert not registry_reads(OwnGetattr, BM._NAMES)
    assert registry_reads(nn.BatchNorm2d, BM._NAMES)
    s = nn.BatchNorm2d(3)
    s.__class__ = Shadowing  # (its __init__ would register through the property)
    assert BM._registered(s) is None
    x = ember.randn(2, 3, 4, 4)
    with ember.no_grad():
        want = nn.functional.batch_norm(x, s.running_mean.clone(), s.running_var.clone(),
                                        s.weight, s.bias, True, 0.1, 1e-5)
        np.testing.assert_array_equal(s(x).numpy(), want.numpy())  # the property's weight
    assert BM._registered(OwnGetattr(3)) is None
    # a plain tensor in the instance dict after the parameter is deleted
    m = nn.BatchNorm2d(3)
    del m.weight
    assert BM._registered(m) is None
    m.weight = ember.full((3,), 3.0)
    assert BM._registered(m) is None
    with ember.no_grad():
        out = m(x)
    assert out.std().item() > 2.5  # scaled by the instance's weight
    m2 = nn.BatchNorm2d(3)
    del m2.bias
    assert BM._registered(m2) is None
    with pytest.raises(AttributeError, match="bias"):
        m2(x)


def test_forward_counts_batches_and_steps_running_stats():
    m = nn.BatchNorm2d(3)
    x = ember.randn(2, 3, 4, 4)
    for k in range(1, 4):
        m(x)
        assert m.num_batches_tracked.item() == k
    assert m.num_batches_tracked._version_counter[0] >= 3
    m.momentum = None  # cumulative average: factor 1/count
    m.reset_running_stats()
    m(x)
    mean = x.numpy().mean(axis=(0, 2, 3))
    np.testing.assert_allclose(m.running_mean.numpy(), mean, rtol=1e-5, atol=1e-6)


def test_conv2d_registry_reads_and_their_fallbacks():
    from ember.nn.modules import conv as CM

    x = ember.randn(1, 2, 5, 5)
    m = nn.Conv2d(2, 3, 3, padding=1)
    assert registry_reads(nn.Conv2d, CM._NAMES)
    with ember.no_grad():
        want = nn.functional.conv2d(x, m.weight, m.bias, 1, 1)
        np.testing.assert_array_equal(m(x).numpy(), want.numpy())

    class Doubled(nn.Conv2d):
        @property
        def weight(self):
            return self._parameters["weight"] * 2

    d = nn.Conv2d(2, 3, 3, padding=1, bias=False)
    d.__class__ = Doubled
    assert not registry_reads(Doubled, CM._NAMES)
    with ember.no_grad():
        want = nn.functional.conv2d(x, d._parameters["weight"] * 2, None, 1, 1)
        np.testing.assert_array_equal(d(x).numpy(), want.numpy())
    # a deleted parameter replaced by a plain tensor in the instance dict
    e = nn.Conv2d(2, 3, 3, padding=1)
    del e.weight
    e.weight = ember.ones(3, 2, 3, 3)
    with ember.no_grad():
        want = nn.functional.conv2d(x, ember.ones(3, 2, 3, 3), e.bias, 1, 1)
        np.testing.assert_array_equal(e(x).numpy(), want.numpy())
    f = nn.Conv2d(2, 3, 3)
    del f.bias
    with pytest.raises(AttributeError, match="bias"):
        f(x)
    # gradients reach the registered parameters
    m(x).sum().backward()
    assert m.weight.grad is not None and m.bias.grad is not None

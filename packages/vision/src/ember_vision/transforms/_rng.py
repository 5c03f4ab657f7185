"""The random draws transforms make, one helper per torch call torchvision makes.

Each draws from ember's global generator (``ember.manual_seed``) through the ember call that
mirrors torchvision's torch call (same function, same shape, same order), so a transform
consumes the stream the way torchvision consumes torch's. Ember's generator is NumPy's PCG64,
not torch's Mersenne Twister: a seed gives the same parameters on every Ember run, but not
the parameters torch would draw. (The torch-env tests swap these helpers for their torch
twins and check that the outputs then equal torchvision's, which pins the call order.)
"""
import numpy as np

import ember


def rand(n=None):
    """``torch.rand(1).item()`` (the coin behind every ``p``), or ``torch.rand((n,))``."""
    if n is None:
        return ember.rand(1).item()
    return ember.rand((n,)).tolist()


def uniform(low, high):
    """``torch.empty(1).uniform_(low, high).item()`` (a float32 value)."""
    return ember.empty(1).uniform_(float(low), float(high)).item()


def randint(low, high, n=None):
    """``torch.randint(low, high, size=(1,)).item()``, or a list of ``n`` draws."""
    if n is None:
        return int(ember.randint(low, high, size=(1,)).item())
    return ember.randint(low, high, size=(n,)).tolist()


def randperm(n):
    """``torch.randperm(n)`` as a list."""
    return ember.randperm(n).tolist()


def normal(shape):
    """``torch.empty(shape, dtype=torch.float32).normal_()``."""
    return ember.empty(list(shape), dtype=ember.float32).normal_()


def dirichlet(alphas):
    """``torch._sample_dirichlet`` of a (rows, k) array of concentrations, as float32."""
    from ember_tensor import _random

    gen = _random.default_generator._rng
    return np.stack([gen.dirichlet(row) for row in np.asarray(alphas, dtype=np.float64)]
                    ).astype(np.float32)


def multinomial(p):
    """``int(torch.multinomial(torch.tensor(p), 1))``: one index drawn with weights ``p``."""
    cdf = np.cumsum(np.asarray(p, dtype=np.float64))
    return int(min(np.searchsorted(cdf, ember.rand(1).item() * cdf[-1], side="right"),
                   len(cdf) - 1))


def rand_tensor(shape):
    """``torch.rand(shape)``: a float32 tensor of uniform [0, 1) values."""
    return ember.rand(list(shape))

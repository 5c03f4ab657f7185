"""Seeded random streams: ``manual_seed``, ``Generator``, ``rand``, ``randn``, ``randint``,
``randperm``, and the in-place ``uniform_``/``normal_``/``bernoulli_``.

The bit stream is NumPy's PCG64, so Ember's numbers differ from torch's but are the same on
every run for the same seed.
"""
import numpy as np

from . import _dtype as D
from ._array import Array, _shape_arg
from ._creation import _check_sizes


class Generator:
    """A random stream. ``manual_seed`` resets it; ``get_state``/``set_state`` save it."""

    def __init__(self, device="cpu"):
        self._seed = 67280421310721  # torch's default seed, for familiarity
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed):
        seed = int(seed)
        self._seed = seed
        self._rng = np.random.Generator(np.random.PCG64(seed & ((1 << 64) - 1)))
        return self

    def seed(self):
        return self.manual_seed(int(np.random.SeedSequence().entropy) & ((1 << 63) - 1))._seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        return self._rng.bit_generator.state

    def set_state(self, state):
        self._rng.bit_generator.state = state
        return self


default_generator = Generator()


def manual_seed(seed):
    return default_generator.manual_seed(seed)


def initial_seed():
    return default_generator.initial_seed()


def seed():
    return default_generator.seed()


def _gen(generator):
    return (generator or default_generator)._rng


def _float_dtype(dtype):
    dtype = D.as_dtype(dtype) or D.get_default_dtype()
    if not dtype.is_floating_point:
        raise RuntimeError(f'"check_uniform_bounds" not implemented for \'{dtype.name.title()}\'')
    return dtype


def rand(*size, generator=None, dtype=None):
    dtype = _float_dtype(dtype)
    shape = _check_sizes(_shape_arg(size))
    rng = _gen(generator)
    if dtype is D.float16:
        return Array(rng.random(shape, dtype=np.float32).astype(np.float16))
    return Array(rng.random(shape, dtype=dtype.np))


def randn(*size, generator=None, dtype=None):
    dtype = _float_dtype(dtype)
    shape = _check_sizes(_shape_arg(size))
    rng = _gen(generator)
    if dtype is D.float16:
        return Array(rng.standard_normal(shape, dtype=np.float32).astype(np.float16))
    return Array(rng.standard_normal(shape, dtype=dtype.np))


def randint(low, high=None, size=None, generator=None, dtype=None):
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing 1 required positional argument: 'size'")
    if high <= low:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
        )
    shape = _check_sizes(_shape_arg((size,)))
    dtype = D.as_dtype(dtype) or D.int64
    return Array(_gen(generator).integers(low, high, size=shape).astype(dtype.np))


def randperm(n, generator=None, dtype=None):
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    dtype = D.as_dtype(dtype) or D.int64
    return Array(_gen(generator).permutation(n).astype(dtype.np))


def _fill(a, values):
    a._np[...] = values
    return a


def uniform_(a, from_=0.0, to=1.0, generator=None):
    if from_ > to:
        raise RuntimeError(
            f"uniform_ expects to return a [from, to) range, but found from={from_} > to={to}"
        )
    vals = _gen(generator).uniform(from_, to, size=a._np.shape)
    return _fill(a, vals)


def normal_(a, mean=0.0, std=1.0, generator=None):
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    vals = _gen(generator).normal(mean, std, size=a._np.shape)
    return _fill(a, vals)


def bernoulli_(a, p=0.5, generator=None):
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    return _fill(a, _gen(generator).random(a._np.shape) < p)


def random_uniform_like(shape, generator=None, dtype=np.float32):
    """Raw uniform [0, 1) values, for kernels that build masks (dropout)."""
    return _gen(generator).random(shape, dtype=dtype)

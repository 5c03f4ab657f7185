"""Seeded random streams: ``manual_seed``, ``Generator``, ``rand``, ``randn``, ``randint``,
``randperm``, ``normal``, ``bernoulli``, ``multinomial`` and the in-place
``uniform_``/``normal_``/``bernoulli_``.

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


def _float_kernel(name, a):
    if not a.dtype.is_floating_point:
        raise NotImplementedError(f"\"{name}\" not implemented for '{a.dtype.torch_name}'")


def _check_std(std):
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")


def normal_(a, mean=0.0, std=1.0, generator=None):
    _float_kernel("normal_kernel_cpu", a)
    _check_std(std)
    vals = _gen(generator).normal(mean, std, size=a._np.shape)
    return _fill(a, vals)


_P_RANGE = ("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error "
            "message be improved?  If so, please report an enhancement request to PyTorch.)")


def bernoulli_(a, p=0.5, generator=None):
    """Each element 1 with probability ``p`` (a number, or an Array broadcast to ``a``)."""
    if isinstance(p, Array):
        _float_kernel("bernoulli_tensor_cpu_p_", p)
        probs = p._np
        if probs.size and not ((probs >= 0) & (probs <= 1)).all():
            raise RuntimeError(_P_RANGE)
    elif not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    else:
        probs = p
    return _fill(a, _gen(generator).random(a._np.shape) < probs)


def bernoulli(p, generator=None):
    """A new Array of p's shape and dtype: 1 with probability p, elementwise."""
    _float_kernel("bernoulli_tensor_cpu_p_", p)
    return bernoulli_(Array(np.empty_like(p._np)), p, generator)


def normal(mean, std, size=None, generator=None, dtype=None):
    """torch.normal's overloads: (Array, Array) broadcast, (Array, float), (float, Array), and
    (float, float, size). The result takes the dtype of the Array mean, else of the std."""
    mean_is, std_is = isinstance(mean, Array), isinstance(std, Array)
    if not mean_is and not std_is:
        dtype = _float_dtype(dtype)
        _check_std(std)
        shape = _check_sizes(_shape_arg((size,)))
        return Array(_gen(generator).normal(mean, std, size=shape).astype(dtype.np))
    like = mean if mean_is else std
    _float_kernel("normal_kernel_cpu", like)
    if std_is:
        if std._np.size and not (std._np >= 0).all():
            raise RuntimeError("normal expects all elements of std >= 0.0")
    else:
        _check_std(std)
    m = mean._np if mean_is else mean
    sd = std._np if std_is else std
    shape = np.broadcast_shapes(np.shape(m), np.shape(sd))
    vals = _gen(generator).standard_normal(shape) * sd + m
    return Array(np.ascontiguousarray(vals, dtype=like.dtype.np))


def _multinomial_errors(p, num_samples, replacement):
    if p.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not np.issubdtype(p.dtype, np.floating):
        raise RuntimeError("multinomial only supports floating-point dtypes for input, got: "
                           f"{D.from_numpy_dtype(p.dtype).torch_name}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > p.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    if not np.isfinite(p).all() or (p < 0).any():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if (p.sum(-1) <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")


def multinomial(probs, num_samples, replacement=False, generator=None):
    """Category indices drawn from each row of unnormalised ``probs`` (int64).

    With replacement: inverse-CDF sampling of uniforms. Without: each category gets the key
    p / E with E ~ Exp(1) and the largest keys win, which draws without replacement in
    proportion to p; zero-probability categories come last, as in torch."""
    p = probs._np.astype(np.float64)
    _multinomial_errors(probs._np, num_samples, replacement)
    rows = p.reshape(-1, p.shape[-1])
    rng = _gen(generator)
    if replacement:
        cdf = np.cumsum(rows, axis=-1)
        u = rng.random((rows.shape[0], num_samples)) * cdf[:, -1:]
        out = np.stack([np.searchsorted(c, x, side="right") for c, x in zip(cdf, u)])
        out = np.minimum(out, rows.shape[-1] - 1)
    else:
        keys = rows / rng.exponential(size=rows.shape)
        out = np.argsort(-keys, axis=-1, kind="stable")[:, :num_samples]
    return Array(np.ascontiguousarray(out.reshape(p.shape[:-1] + (num_samples,)),
                                      dtype=np.int64))


def random_uniform_like(shape, generator=None, dtype=np.float32):
    """Raw uniform [0, 1) values, for kernels that build masks (dropout)."""
    return _gen(generator).random(shape, dtype=dtype)

"""Device idioms against live torch (a CPU-only build): the same answers, and the same
exception types and messages when a script uses a device that is not there."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ember  # noqa: E402
from dropin_helpers import outcome  # noqa: E402
from dropin_helpers import same as _same  # noqa: E402

if torch.cuda.is_available() or torch.backends.mps.is_available():
    pytest.skip("the oracle is torch's CPU-only build", allow_module_level=True)


def same(fn):
    _same(torch, fn)


def mps_prefix(fn):
    """torch's MPS allocation error ends in its dispatcher's kernel list; Ember keeps the
    type and the first sentence (README, "Where Ember differs")."""
    e, t = outcome(ember, fn), outcome(torch, fn)
    assert e[:2] == t[:2] == ("raise", "NotImplementedError")
    first = t[2].split(". ")[0] + "."
    assert e[2].startswith(first)


QUERIES = [
    lambda L: L.cuda.is_available(), lambda L: L.cuda.device_count(),
    lambda L: L.cuda.manual_seed(1), lambda L: L.cuda.manual_seed_all(1),
    lambda L: L.cuda.manual_seed("a"), lambda L: L.cuda.manual_seed(None),
    lambda L: L.cuda.seed(), lambda L: L.cuda.seed_all(), lambda L: L.cuda.is_initialized(),
    lambda L: L.cuda.current_device(), lambda L: L.cuda.synchronize(),
    lambda L: L.cuda.empty_cache(), lambda L: L.cuda.get_device_name(),
    lambda L: L.cuda.get_device_capability(), lambda L: L.cuda.get_device_properties(0),
    lambda L: L.cuda.initial_seed(), lambda L: L.cuda.get_rng_state(),
    lambda L: L.cuda.is_bf16_supported(), lambda L: L.cuda.memory_allocated(),
    lambda L: L.cuda.max_memory_allocated(), lambda L: L.cuda.memory_reserved(),
    lambda L: L.accelerator.is_available(), lambda L: L.accelerator.current_accelerator(),
    lambda L: L.accelerator.current_accelerator(check_available=True),
    lambda L: L.accelerator.device_count(), lambda L: L.accelerator.current_device_index(),
    lambda L: L.accelerator.synchronize(), lambda L: L.accelerator.set_device_index(0),
    lambda L: L.backends.cudnn.is_available(), lambda L: L.backends.cudnn.version(),
    lambda L: (L.backends.cudnn.benchmark, L.backends.cudnn.deterministic,
               L.backends.cudnn.enabled, L.backends.cudnn.allow_tf32),
    lambda L: L.backends.mps.is_available(), lambda L: L.backends.mps.is_built(),
    lambda L: L.backends.cuda.is_built(), lambda L: L.backends.cuda.matmul.allow_tf32,
    lambda L: L.backends.cuda.matmul.foo, lambda L: setattr(L.backends.cuda.matmul, "foo", 1),
    lambda L: L.get_default_device(),
]


@pytest.mark.parametrize("i", range(len(QUERIES)))
def test_queries(i):
    same(QUERIES[i])


@pytest.mark.parametrize("name", ["enabled", "benchmark", "deterministic", "allow_tf32"])
@pytest.mark.parametrize("value", [True, False, 1, None, np.bool_(True)])
def test_cudnn_flags(name, value):
    def flip(L):
        old = getattr(L.backends.cudnn, name)
        try:
            setattr(L.backends.cudnn, name, value)
            return getattr(L.backends.cudnn, name)
        finally:
            setattr(L.backends.cudnn, name, old)
    same(flip)


@pytest.mark.parametrize("args", [
    ("cuda",), ("cuda:0",), ("cuda", 1), ("mps",), ("cpu:0",), ("cpu", 0), ("cuda", None),
    ("privateuseone",), ("bogus",), ("CUDA",), ("bogus:0",), ("cuda:-1",), ("cuda:x",),
    ("cuda:01",), ("cuda:",), (" cpu",), ("cpu:0:0",), ("",),
    ("cuda:2147483648",), ("cpu:0", 1), ("cuda", -1), (-1,), (0,), (1,), ("cuda", "0"),
    ("cuda", True),
])
def test_device_construction(args):
    same(lambda L: L.device(*args))


DEVICES = ["cuda", "cuda:0", "cuda:1", 0, 1, "mps", "xpu", "bogus", "cpu", "cpu:0", None]
USES = {
    "zeros": lambda L, d: L.zeros(2, device=d), "ones": lambda L, d: L.ones(2, device=d),
    "empty": lambda L, d: L.empty(2, device=d).shape,
    "rand": lambda L, d: L.rand(2, device=d).shape,
    "randn": lambda L, d: L.randn(2, device=d).shape,
    "full": lambda L, d: L.full((2,), 1.5, device=d),
    "arange": lambda L, d: L.arange(2, device=d), "eye": lambda L, d: L.eye(2, device=d),
    "linspace": lambda L, d: L.linspace(0, 1, 3, device=d),
    "randint": lambda L, d: L.randint(3, (2,), device=d).shape,
    "randperm": lambda L, d: L.randperm(3, device=d).shape,
    "tensor": lambda L, d: L.tensor([1.0], device=d),
    "tensor_0d": lambda L, d: L.tensor(1.0, device=d),
    "as_tensor": lambda L, d: L.as_tensor([1.0], device=d),
    "asarray": lambda L, d: L.asarray([1.0], device=d),
    "zeros_like": lambda L, d: L.zeros_like(L.ones(2), device=d),
    "rand_like": lambda L, d: L.rand_like(L.ones(2), device=d).shape,
    "randn_like": lambda L, d: L.randn_like(L.ones(2), device=d).shape,
    "full_like": lambda L, d: L.full_like(L.ones(2), 2, device=d),
    "randint_like": lambda L, d: L.randint_like(L.ones(2), 3, device=d).shape,
    "new_zeros": lambda L, d: L.ones(2).new_zeros(2, device=d),
    "new_full": lambda L, d: L.ones(2).new_full((2,), 1.0, device=d),
    "new_tensor": lambda L, d: L.ones(2).new_tensor([1.0], device=d),
    "to": lambda L, d: L.ones(2).to(d),
    "to_kw": lambda L, d: L.ones(2).to(device=d),
    "to_dtype": lambda L, d: L.ones(2).to(d, L.float64),
    "to_device_obj": lambda L, d: L.ones(2).to(L.device(d)) if d is not None else 0,
    "cuda": lambda L, d: L.ones(2).cuda(d),
    "linear": lambda L, d: L.nn.Linear(2, 2, device=d).weight.shape,
    "conv": lambda L, d: L.nn.Conv2d(1, 1, 3, device=d).weight.shape,
    "batchnorm": lambda L, d: L.nn.BatchNorm2d(2, device=d).running_mean,
    "layernorm": lambda L, d: L.nn.LayerNorm(2, device=d).weight,
    "embedding": lambda L, d: L.nn.Embedding(3, 2, device=d).weight.shape,
    "module_to": lambda L, d: L.nn.Linear(2, 2).to(d).weight.shape,
    "module_to_kw": lambda L, d: L.nn.Linear(2, 2).to(device=d).weight.shape,
    "module_cuda": lambda L, d: L.nn.Linear(2, 2).cuda(d).weight.shape,
    "empty_module_to": lambda L, d: L.nn.ReLU().to(d),
    "empty_module_cuda": lambda L, d: L.nn.ReLU().cuda(d),
}


@pytest.mark.parametrize("use", sorted(USES))
@pytest.mark.parametrize("dev", DEVICES, ids=repr)
def test_using_a_device(use, dev):
    fn = USES[use]
    t = outcome(torch, lambda L: fn(L, dev))
    if t[:2] == ("raise", "NotImplementedError"):
        mps_prefix(lambda L: fn(L, dev))
    else:
        assert outcome(ember, lambda L: fn(L, dev)) == t


def test_module_to_checks_dtype_before_device():
    same(lambda L: L.nn.Linear(2, 2).to("cuda", L.int64))
    same(lambda L: L.nn.Linear(2, 2).to("cuda", L.float64))


@pytest.mark.parametrize("default", ["cpu", "cpu:0", "cuda", "cuda:1", "mps", "xpu"])
@pytest.mark.parametrize("use", [
    lambda L: L.get_default_device(), lambda L: L.zeros(2), lambda L: L.tensor([1.0]),
    lambda L: L.randn(2).shape, lambda L: L.nn.Linear(2, 2).weight.shape,
    lambda L: L.from_numpy(np.ones(2)), lambda L: L.arange(3),
])
def test_default_device(default, use):
    def under(L):
        L.set_default_device(default)
        try:
            return use(L)
        finally:
            L.set_default_device(None)
    t = outcome(torch, under)
    if t[:2] == ("raise", "NotImplementedError"):
        mps_prefix(under)
    else:
        assert outcome(ember, under) == t


@pytest.mark.parametrize("default", ["bogus", 0, None])
def test_set_default_device_arguments(default):
    def setting(L):
        try:
            L.set_default_device(default)
            return L.get_default_device()
        finally:
            L.set_default_device(None)
    same(setting)


@pytest.mark.parametrize("inner", ["cpu", "cuda", "cuda:1"])
def test_device_context(inner):
    def block(L):
        with L.device(inner):
            return L.get_default_device(), L.zeros(1)
    same(block)
    same(lambda L: L.get_default_device())

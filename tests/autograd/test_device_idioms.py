"""The device lines at the top of most PyTorch scripts, answered as torch 2.13's CPU build
answers them (values and messages read off that build; test_torch_dropin.py compares live)."""
import re
import threading

import numpy as np
import pytest

import ember
import ember.backends.cudnn as cudnn
from ember import nn

NO_CUDA = "Torch not compiled with CUDA enabled"
NO_ACCELERATOR = "Cannot access accelerator device when none is available."
NO_MPS = "PyTorch is not linked with support for mps devices"
EXPECTED = ("Expected one of cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, "
            "maia, xla, lazy, vulkan, mps, meta, hpu, mtia, privateuseone device type at start "
            "of device string: {}")


def raises(kind, message):
    return pytest.raises(kind, match="^" + re.escape(message) + "$")


@pytest.fixture(autouse=True)
def _cpu_default():
    yield
    ember.set_default_device(None)


# ---- the queries ------------------------------------------------------------------------------
def test_cuda_answers_no_gpu():
    device = "cuda" if ember.cuda.is_available() else "cpu"
    assert device == "cpu"
    assert ember.cuda.device_count() == 0 and type(ember.cuda.device_count()) is int
    assert ember.cuda.is_initialized() is False and ember.cuda.is_bf16_supported() is False
    assert ember.cuda.manual_seed(1) is None and ember.cuda.manual_seed_all(1) is None
    assert ember.cuda.manual_seed(1.5) is None and ember.cuda.seed() is None
    assert ember.cuda.seed_all() is None and ember.cuda.empty_cache() is None
    assert ember.cuda.memory_allocated() == 0 and ember.cuda.max_memory_allocated() == 0
    assert ember.cuda.memory_reserved() == 0
    with pytest.raises(ValueError, match="invalid literal for int"):
        ember.cuda.manual_seed_all("a")
    for ask in (ember.cuda.current_device, ember.cuda.synchronize, ember.cuda.get_device_name,
                ember.cuda.get_device_capability, ember.cuda.initial_seed,
                ember.cuda.get_rng_state, lambda: ember.cuda.get_device_properties(0)):
        with raises(AssertionError, NO_CUDA):
            ask()


def test_accelerator_answers_none():
    assert ember.accelerator.is_available() is False
    assert ember.accelerator.current_accelerator() is None
    assert ember.accelerator.current_accelerator(check_available=True) is None
    assert ember.accelerator.device_count() == 0
    for ask in (ember.accelerator.current_device_index, ember.accelerator.synchronize,
                lambda: ember.accelerator.set_device_index(0)):
        with raises(RuntimeError, NO_ACCELERATOR):
            ask()


def test_cudnn_switches_are_settable_and_checked():
    assert cudnn is ember.backends.cudnn
    assert cudnn.is_available() is False and cudnn.version() is None
    assert (cudnn.benchmark, cudnn.deterministic, cudnn.enabled, cudnn.allow_tf32) == (
        False, False, True, True)
    try:
        cudnn.benchmark = True
        cudnn.deterministic = True
        cudnn.enabled = False
        assert (ember.backends.cudnn.benchmark, cudnn.deterministic, cudnn.enabled) == (
            True, True, False)
        with raises(RuntimeError, "set_benchmark_cudnn expects a bool, but got int"):
            cudnn.benchmark = 1
        with raises(RuntimeError, "set_enabled_cudnn expects a bool, but got NoneType"):
            cudnn.enabled = None
        with raises(RuntimeError, "set_deterministic_cudnn expects a bool, but got numpy.bool"):
            cudnn.deterministic = np.bool_(True)
        with raises(RuntimeError, "set_allow_tf32_cublas expects a bool, but got int"):
            cudnn.allow_tf32 = 1
    finally:
        cudnn.benchmark, cudnn.deterministic, cudnn.enabled = False, False, True


def test_mps_and_cuda_backends():
    assert ember.backends.mps.is_available() is False and ember.backends.mps.is_built() is False
    assert ember.backends.cuda.is_built() is False
    matmul = ember.backends.cuda.matmul
    assert matmul.allow_tf32 is False
    matmul.allow_tf32 = True
    assert matmul.allow_tf32 is True
    matmul.allow_tf32 = False
    with raises(AttributeError, "Unknown attribute foo"):
        matmul.foo = 1
    with raises(AttributeError, "Unknown attribute foo"):
        matmul.foo  # noqa: B018


# ---- device objects ---------------------------------------------------------------------------
def test_device_constructs_any_torch_device_type():
    assert repr(ember.device("cuda")) == "device(type='cuda')"
    assert repr(ember.device("cuda:0")) == "device(type='cuda', index=0)"
    assert repr(ember.device("cuda", 1)) == "device(type='cuda', index=1)"
    assert repr(ember.device(type="cuda", index=1)) == "device(type='cuda', index=1)"
    assert repr(ember.device("cuda", None)) == "device(type='cuda')"
    assert repr(ember.device("mps")) == "device(type='mps')"
    assert repr(ember.device("cpu:0")) == "device(type='cpu', index=0)"
    assert str(ember.device("cuda", 0)) == "cuda:0"
    assert ember.device(ember.device("cuda:1")).index == 1
    assert ember.tensor([1.0]).device == ember.device("cpu")
    assert repr(ember.tensor([1.0]).device) == "device(type='cpu')"


@pytest.mark.parametrize("args, kind, message", [
    (("bogus",), RuntimeError, EXPECTED.format("bogus")),
    (("CUDA",), RuntimeError, EXPECTED.format("CUDA")),
    (("bogus:0",), RuntimeError, EXPECTED.format("bogus")),
    (("cuda:-1",), RuntimeError, "Invalid device string: 'cuda:-1'"),
    (("cuda:x",), RuntimeError, "Invalid device string: 'cuda:x'"),
    (("cuda:01",), RuntimeError, "Invalid device string: 'cuda:01'"),
    (("cuda:",), RuntimeError, "Invalid device string: 'cuda:'"),
    ((" cpu",), RuntimeError, "Invalid device string: ' cpu'"),
    (("cpu:0:0",), RuntimeError, "Invalid device string: 'cpu:0:0'"),
    (("",), RuntimeError, "Device string must not be empty"),
    (("cuda:2147483648",), RuntimeError,
     "Could not parse device index '2147483648' in device string 'cuda:2147483648'"),
    (("cpu:0", 1), RuntimeError,
     "type (string) must not include an index because index was passed explicitly: cpu:0"),
    (("cuda", -1), RuntimeError, "Device index must not be negative"),
    ((-1,), RuntimeError, "Device index must not be negative"),
    ((0,), RuntimeError, NO_ACCELERATOR),
    (("cuda", "0"), TypeError, "device(): argument 'index' (position 2) must be int, not str"),
    (("cuda", True), TypeError, "device(): argument 'index' (position 2) must be int, not bool"),
])
def test_device_parse_errors(args, kind, message):
    with raises(kind, message):
        ember.device(*args)


# ---- using a device that is not the CPU ------------------------------------------------------
FACTORIES = {
    "zeros": lambda d: ember.zeros(2, device=d), "ones": lambda d: ember.ones(2, device=d),
    "empty": lambda d: ember.empty(2, device=d), "rand": lambda d: ember.rand(2, device=d),
    "randn": lambda d: ember.randn(2, device=d),
    "full": lambda d: ember.full((2,), 1.0, device=d),
    "arange": lambda d: ember.arange(2, device=d), "eye": lambda d: ember.eye(2, device=d),
    "linspace": lambda d: ember.linspace(0, 1, 3, device=d),
    "randint": lambda d: ember.randint(3, (2,), device=d),
    "randperm": lambda d: ember.randperm(3, device=d),
    "new_zeros": lambda d: ember.ones(2).new_zeros(2, device=d),
    "new_full": lambda d: ember.ones(2).new_full((2,), 1.0, device=d),
}
COPIES = {
    "tensor": lambda d: ember.tensor([1.0], device=d),
    "tensor_0d": lambda d: ember.tensor(1.0, device=d),
    "as_tensor": lambda d: ember.as_tensor([1.0], device=d),
    "asarray": lambda d: ember.asarray([1.0], device=d),
    "new_tensor": lambda d: ember.ones(2).new_tensor([1.0], device=d),
    "to": lambda d: ember.ones(2).to(d),
    "to_kw": lambda d: ember.ones(2).to(device=d),
    "to_dtype": lambda d: ember.ones(2).to(d, ember.float64),
}
LIKES = {
    "zeros_like": lambda d: ember.zeros_like(ember.ones(2), device=d),
    "rand_like": lambda d: ember.rand_like(ember.ones(2), device=d),
    "randn_like": lambda d: ember.randn_like(ember.ones(2), device=d),
    "full_like": lambda d: ember.full_like(ember.ones(2), 2, device=d),
    "randint_like": lambda d: ember.randint_like(ember.ones(2), 3, device=d),
}
EVERY = {**FACTORIES, **COPIES, **LIKES}


@pytest.mark.parametrize("name", sorted(EVERY))
@pytest.mark.parametrize("dev", ["cuda", "cuda:1", "CUDA-object"])
def test_cuda_device_fails_as_torchs_cpu_build(name, dev):
    with raises(AssertionError, NO_CUDA):
        EVERY[name](ember.device("cuda", 0) if dev == "CUDA-object" else dev)


@pytest.mark.parametrize("name", sorted(EVERY))
def test_int_device_and_xpu(name):
    with raises(RuntimeError, NO_ACCELERATOR):
        EVERY[name](1)
    with raises(AssertionError, "Torch not compiled with XPU enabled"):
        EVERY[name]("xpu")
    with raises(RuntimeError, EXPECTED.format("bogus")):
        EVERY[name]("bogus")


@pytest.mark.parametrize("name", sorted(EVERY))
def test_mps_device_fails_with_torchs_type(name):
    if name in COPIES:
        with raises(RuntimeError, NO_MPS):
            COPIES[name]("mps")
        return
    op = "aten::empty_strided" if name in LIKES else "aten::empty.memory_format"
    with pytest.raises(NotImplementedError, match="^" + re.escape(
            f"Could not run '{op}' with arguments from the 'MPS' backend.")):
        EVERY[name]("mps")


def test_other_device_types_get_embers_message():
    with raises(RuntimeError, "Ember runs on the CPU only; device 'meta' is not available"):
        ember.zeros(2, device="meta")


def test_the_cpu_is_fine_in_every_spelling():
    t = ember.ones(2)
    for dev in ("cpu", "cpu:0", ember.device("cpu"), None):
        assert t.to(dev) is t and t.to(device=dev) is t
        assert ember.zeros(2, device=dev).tolist() == [0.0, 0.0]
    assert t.cpu() is t


def test_tensor_cuda():
    t = ember.ones(2)
    for dev in ((), (None,), ("cuda:0",), (ember.device("cuda"),)):
        with raises(AssertionError, NO_CUDA):
            t.cuda(*dev)
    with raises(RuntimeError, NO_ACCELERATOR):
        t.cuda(0)
    with raises(RuntimeError, "Invalid device, must be cuda device"):
        t.cuda("cpu")


def test_module_to_and_cuda():
    m = nn.Linear(2, 2)
    for move in (lambda: m.to("cuda"), lambda: m.to(ember.device("cuda")), m.cuda,
                 lambda: m.to(device="cuda"), lambda: m.to("cuda", ember.float64),
                 lambda: m.cuda("cuda:0"), lambda: nn.BatchNorm1d(2, affine=False).to("cuda")):
        with raises(AssertionError, NO_CUDA):
            move()
    with raises(RuntimeError, NO_MPS):
        m.to("mps")
    with raises(RuntimeError, NO_ACCELERATOR):
        m.to(0)
    with raises(RuntimeError, NO_ACCELERATOR):
        m.cuda(0)
    with raises(RuntimeError, EXPECTED.format("bogus")):
        m.to("bogus")
    with raises(TypeError, "nn.Module.to only accepts floating point or complex dtypes, but "
                           "got desired dtype=ember.int64"):
        m.to("cuda", ember.int64)
    assert m.to("cpu") is m and m.to(ember.ones(1)) is m and m.cpu() is m
    relu = nn.ReLU()  # nothing to move: torch returns it, even for CUDA
    assert relu.to("cuda") is relu and relu.cuda() is relu and relu.to("mps") is relu
    with raises(RuntimeError, EXPECTED.format("bogus")):
        relu.to("bogus")
    with raises(RuntimeError, NO_ACCELERATOR):
        relu.to(0)


@pytest.mark.parametrize("make", [
    lambda: nn.Linear(2, 2, device="cuda"), lambda: nn.Conv2d(1, 1, 3, device="cuda"),
    lambda: nn.BatchNorm2d(2, device="cuda"), lambda: nn.LayerNorm(2, device="cuda"),
    lambda: nn.Embedding(3, 2, device="cuda"),
])
def test_layers_with_a_cuda_device(make):
    with raises(AssertionError, NO_CUDA):
        make()


# ---- the default device -----------------------------------------------------------------------
def test_default_device_cpu():
    assert repr(ember.get_default_device()) == "device(type='cpu')"
    ember.set_default_device("cpu")
    assert repr(ember.get_default_device()) == "device(type='cpu')"
    ember.set_default_device(ember.device("cpu", 0))
    assert repr(ember.get_default_device()) == "device(type='cpu', index=0)"
    assert ember.zeros(2).tolist() == [0.0, 0.0] and ember.tensor([1.0, 2.0]).tolist() == [1, 2]
    ember.set_default_device(None)
    assert repr(ember.get_default_device()) == "device(type='cpu')"


def test_default_device_cuda_is_accepted_then_refused_by_factories():
    t = ember.ones(2)
    ember.set_default_device("cuda")  # accepted, as torch accepts it
    for make in (lambda: ember.zeros(2), lambda: ember.tensor([1.0]), lambda: ember.randn(2),
                 lambda: ember.as_tensor(t), lambda: nn.Linear(2, 2),
                 ember.get_default_device):
        with raises(AssertionError, NO_CUDA):
            make()
    # ops on tensors that exist, and tensors sharing NumPy memory, stay on the CPU
    assert (t + 1).tolist() == [2.0, 2.0] and t.sum().item() == 2.0
    assert ember.zeros_like(t).tolist() == [0.0, 0.0] and t.new_zeros(1).tolist() == [0.0]
    assert ember.from_numpy(np.ones(2)).dtype is ember.float64
    ember.set_default_device("cuda:1")
    assert repr(ember.get_default_device()) == "device(type='cuda', index=1)"
    ember.set_default_device("mps")
    with raises(RuntimeError, NO_MPS):
        ember.get_default_device()


def test_set_default_device_parses_its_argument():
    with raises(RuntimeError, EXPECTED.format("bogus")):
        ember.set_default_device("bogus")
    with raises(RuntimeError, NO_ACCELERATOR):
        ember.set_default_device(0)
    assert repr(ember.get_default_device()) == "device(type='cpu')"


def test_default_device_is_per_thread():
    ember.set_default_device("cuda")
    seen = []
    worker = threading.Thread(target=lambda: seen.append(ember.zeros(1).tolist()))
    worker.start()
    worker.join()
    assert seen == [[0.0]]


def test_device_as_a_context_manager():
    with ember.device("cpu") as d:
        assert d == ember.device("cpu") and ember.zeros(1).tolist() == [0.0]
    with ember.device("cuda:1"):
        assert repr(ember.get_default_device()) == "device(type='cuda', index=1)"
        with ember.device("cpu"):
            assert ember.zeros(1).tolist() == [0.0]
        with raises(AssertionError, NO_CUDA):
            ember.zeros(1)
    assert repr(ember.get_default_device()) == "device(type='cpu')"
    with pytest.raises(AssertionError):
        with ember.device("cuda"):
            ember.zeros(1)
    assert ember.zeros(1).tolist() == [0.0]

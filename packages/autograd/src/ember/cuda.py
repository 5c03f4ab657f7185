"""``ember.cuda``: what torch's CPU-only build answers, so that the device checks at the top of
a script (``device = "cuda" if torch.cuda.is_available() else "cpu"``) pick the CPU.

Queries answer "no GPU", seeding is accepted and does nothing (torch queues it for a CUDA that
never comes), and asking about a particular GPU raises torch's AssertionError.
"""
from typing import NoReturn

from ._device import check as _check
from ._device import device as _device

__all__ = [
    "current_device", "device_count", "empty_cache", "get_device_capability",
    "get_device_name", "get_device_properties", "get_rng_state", "initial_seed",
    "is_available", "is_bf16_supported", "is_initialized", "manual_seed", "manual_seed_all",
    "max_memory_allocated", "memory_allocated", "memory_reserved", "seed", "seed_all",
    "synchronize",
]


def _no_cuda() -> NoReturn:
    _check(_device("cuda"))  # raises torch's "Torch not compiled with CUDA enabled"
    raise AssertionError("unreachable: the CUDA check always raises")


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def is_bf16_supported() -> bool:
    return False


def manual_seed(seed: int) -> None:
    int(seed)  # torch converts first, so a bad seed fails as it does there


def manual_seed_all(seed: int) -> None:
    int(seed)


def seed() -> None:
    pass


def seed_all() -> None:
    pass


def empty_cache() -> None:
    pass


def memory_allocated(device=None) -> int:
    return 0


def max_memory_allocated(device=None) -> int:
    return 0


def memory_reserved(device=None) -> int:
    return 0


def current_device() -> int:
    _no_cuda()


def synchronize(device=None) -> None:
    _no_cuda()


def get_device_name(device=None) -> str:
    _no_cuda()


def get_device_capability(device=None) -> tuple:
    _no_cuda()


def get_device_properties(device=None):
    _no_cuda()


def initial_seed() -> int:
    _no_cuda()


def get_rng_state(device="cuda"):
    _no_cuda()

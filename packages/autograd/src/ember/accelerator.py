"""``ember.accelerator``: torch's device-agnostic queries, answered as on a CPU-only build
(no accelerator: ``current_accelerator()`` is None, and asking for its index raises)."""
from ._device import NO_ACCELERATOR

__all__ = ["current_accelerator", "current_device_index", "device_count", "is_available",
           "set_device_index", "synchronize"]


def is_available() -> bool:
    return False


def current_accelerator(check_available: bool = False):
    return None


def device_count() -> int:
    return 0


def current_device_index() -> int:
    raise RuntimeError(NO_ACCELERATOR)


def set_device_index(device, /) -> None:
    raise RuntimeError(NO_ACCELERATOR)


def synchronize(device=None, /) -> None:
    raise RuntimeError(NO_ACCELERATOR)

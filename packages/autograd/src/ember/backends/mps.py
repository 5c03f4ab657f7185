"""``ember.backends.mps``, as ``torch.backends.mps`` on a machine without Apple's MPS."""

__all__ = ["is_available", "is_built"]


def is_available() -> bool:
    return False


def is_built() -> bool:
    return False

"""``ember.backends.cuda``, as ``torch.backends.cuda`` on a CPU-only build: not built, and the
cuBLAS switches scripts set (``matmul.allow_tf32 = True``) are remembered and do nothing."""
from ._flags import BoolFlag

__all__ = ["is_built", "matmul"]


def is_built() -> bool:
    return False


class _MatmulFlags:
    allow_tf32 = BoolFlag(False, "set_allow_tf32_cublas")

    # torch refuses names it does not know, both ways, so a typo does not pass silently
    def __getattr__(self, name):
        raise AttributeError(f"Unknown attribute {name}")

    def __setattr__(self, name, value):
        if not hasattr(type(self), name):
            raise AttributeError(f"Unknown attribute {name}")
        object.__setattr__(self, name, value)


matmul = _MatmulFlags()

"""``ember.backends.cudnn``, as ``torch.backends.cudnn`` on a build without cuDNN.

``cudnn.benchmark = True`` and ``cudnn.deterministic = True`` are accepted and remembered
(Ember's CPU kernels are deterministic and need no autotuning); ``is_available()`` is False.
"""
import sys

from ._flags import BoolFlag, FlagModule

# the flags (benchmark, deterministic, enabled, allow_tf32) are attributes of the module class
__all__ = ["is_available", "version"]


def is_available() -> bool:
    return False


def version():
    """cuDNN's version; None without cuDNN, as torch answers."""
    return None


class _CudnnModule(FlagModule):
    enabled = BoolFlag(True, "set_enabled_cudnn")
    benchmark = BoolFlag(False, "set_benchmark_cudnn")
    deterministic = BoolFlag(False, "set_deterministic_cudnn")
    allow_tf32 = BoolFlag(True, "set_allow_tf32_cublas")  # torch's message names cuBLAS here


sys.modules[__name__].__class__ = _CudnnModule

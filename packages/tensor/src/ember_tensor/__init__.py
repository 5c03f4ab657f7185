"""ember_tensor: Ember's n-dimensional array and its CPU kernels.

Knows nothing of gradients; ``ember`` (the autograd package) builds on it.
"""
import os as _os

# Before any OpenMP runtime starts: idle OpenMP threads sleep instead of spinning. On a
# 2-core machine a spinning pool steals the core BLAS and the conv task pool need (measured:
# batch-norm train 48 ms -> 4.5 ms under load). A value the user set is kept. Note that a
# torch imported later in the same process reads the same variable.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from . import _dtype  # noqa: E402
from ._array import Array
from ._creation import (
    arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, linspace, ones,
    ones_like, tensor, zeros, zeros_like,
)
from ._dtype import (
    bool, double, dtype, float, float16, float32, float64, get_default_dtype, half, int, int8,
    int16, int32, int64, long, promote_types, result_type, set_default_dtype, short, uint8,
)
from ._random import (
    Generator, bernoulli_, default_generator, initial_seed, manual_seed, normal_, rand, randint,
    randn, randperm, seed, uniform_,
)
from ._shape_ops import cat, chunk, split, stack
from ._size import Size
from ._kernels.parallel import get_num_threads, openmp_enabled, set_num_threads
from ._kernels import LEVEL as _KERNEL_LEVEL
from ._kernels.cpu_features import supported_levels as supported_cpu_levels


def cpu_level() -> str:
    """The compiled copy of the kernels in use: ``"baseline"``, ``"avx2"`` or ``"avx512"``
    (a portable build, chosen from the CPU or by ``EMBER_CPU``), or ``"native"`` (an
    ``EMBER_NATIVE=1`` build)."""
    return _KERNEL_LEVEL

__version__ = "0.1.0"

from ._array import _install_operators  # noqa: E402

_install_operators()
del _install_operators

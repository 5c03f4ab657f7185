"""ember_tensor: Ember's n-dimensional array and its CPU kernels.

Knows nothing of gradients; ``ember`` (the autograd package) builds on it.
"""
import os as _os

# Before any OpenMP runtime starts: an idle team thread spins briefly, then sleeps. Sleeping
# at once (PASSIVE alone) costs ~30 us to wake the second thread for every op on this kind
# of VM, which halved 2-thread speed on 1e6-element ops; spinning long (ACTIVE, or GNU's
# default 300000) steals the core from other work on a busy 2-core machine (measured: 1.3-2x
# slower ResNet steps beside two busy processes at 3000 and 10000 spins). 1000 spins bridge
# the gap between consecutive ops and cost at most ~15% under that load. PASSIVE stays for
# LLVM's runtime, which has no spin count; GNU's explicit GOMP_SPINCOUNT overrides it. A
# policy the user set is kept as it is. A torch imported later in the same process reads
# the same variables.
if "OMP_WAIT_POLICY" not in _os.environ:
    _os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    _os.environ.setdefault("GOMP_SPINCOUNT", "1000")

# Big freed buffers stay with malloc for the next step instead of going back to the kernel,
# which zeroed fresh pages for them every step (see _malloc_policy).
from . import _malloc_policy  # noqa: E402

_malloc_policy.apply()

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

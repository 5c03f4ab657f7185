"""ember_tensor: Ember's n-dimensional array and its CPU kernels.

Knows nothing of gradients; ``ember`` (the autograd package) builds on it.
"""
import glob as _glob
import importlib.machinery as _machinery
import os as _os

# The kernels run on Ember's own thread pool (_omp_pool.c: a gcc build on Linux), whose idle
# threads spin through the gaps between the ops of a step and sleep when the machine is
# busy; it reads no OpenMP wait variables, and Ember sets none, so a torch in the same
# process keeps its own defaults. A build on another OpenMP runtime (clang's, or
# EMBER_LIBGOMP=1) still gets the settings that runtime needs, before it starts: an idle
# team thread spins briefly, then sleeps. Sleeping at once (PASSIVE alone) costs ~30 us to
# wake the second thread for every op on this kind of VM; spinning long (ACTIVE, or GNU's
# default 300000) steals the core from other work on a busy 2-core machine (measured:
# 1.3-2x slower ResNet steps beside two busy processes at 3000 and 10000 spins). A policy
# the user set is kept as it is.
_HERE = _os.path.dirname(_os.path.abspath(__file__))
_OWN_POOL = any(_glob.glob(_os.path.join(_HERE, "_omp_pool" + suffix))
                for suffix in _machinery.EXTENSION_SUFFIXES)
if not _OWN_POOL and "OMP_WAIT_POLICY" not in _os.environ:
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

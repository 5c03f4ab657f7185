"""ember: PyTorch's API on Ember's CPU kernels. ``import ember as torch``."""
import ember_tensor as _et
from ember_tensor import (
    Generator, Size, bool, default_generator, double, dtype, float, float16, float32, float64,
    get_default_dtype, half, initial_seed, int, int8, int16, int32, int64, long,
    manual_seed, promote_types, seed, set_default_dtype, short, uint8,
)
from ember_tensor import get_num_threads, set_num_threads

from ._tensor import Tensor, is_tensor
from . import _ops
from . import autograd
from .autograd.grad_mode import (
    enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
    set_grad_enabled,
)
from ._device import device, get_default_device, set_default_device
from ._creation import (
    as_tensor, asarray, empty_like, from_numpy, full_like, ones_like, rand_like, randint_like,
    randn_like, tensor, zeros_like,
)

_ops.install(Tensor)
# every op function (the factories with out=): generated from the ops modules' tables
from ._namespace import *  # noqa: E402,F401,F403

strided = "torch.strided"
float_ = float


def result_type(tensor1, tensor2):
    from ember_tensor._dtype import result_type as _rt

    return _rt(*(getattr(x, "_data", x) for x in (tensor1, tensor2)))


def numel(input):
    return input.numel()


def is_floating_point(input):
    return input.dtype.is_floating_point


def is_nonzero(input):
    if input.numel() != 1:
        raise RuntimeError(
            "Boolean value of Tensor with more than one value is ambiguous"
            if input.numel() > 1 else "Boolean value of Tensor with no values is ambiguous"
        )
    return builtins_bool(input.item())


def builtins_bool(x):
    import builtins

    return builtins.bool(x)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    from ember_tensor import _printing

    _printing.set_printoptions(precision=precision, threshold=threshold, edgeitems=edgeitems,
                               linewidth=linewidth, profile=profile, sci_mode=sci_mode)


__version__ = "0.1.0"

# The layers built on the Tensor: modules, optimizers, data loading, checkpoints.
from . import accelerator, backends, cuda, distributed, nn, optim, utils  # noqa: E402
from . import linalg  # noqa: E402
from ._anomaly_mode import is_anomaly_enabled  # noqa: E402
from ._anomaly_mode import set_detect_anomaly as set_anomaly_enabled  # noqa: E402
from .serialization import load, save  # noqa: E402

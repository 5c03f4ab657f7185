"""Activations and the fused backwards their autograd nodes call (one pass over memory)."""
import builtins

from . import _dtype as D
from ._elementwise_core import _binary, TORCH_NAMES, _unary


def relu(a, out=None, *, _inplace=False):
    if a.dtype is D.bool:
        raise RuntimeError("Boolean inputs not supported for relu")
    return _unary("relu", a, out=out, inplace=_inplace)


def leaky_relu(a, negative_slope=0.01, out=None):
    return _unary("leaky_relu", a, out=out, params=(builtins.float(negative_slope),))


def _gelu_mode(approximate):
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return 0.0 if approximate == "none" else 1.0


def gelu(a, approximate="none"):
    mode = _gelu_mode(approximate)
    if not a.dtype.is_floating_point:
        raise NotImplementedError(
            f"\"GeluKernelImpl\" not implemented for '{TORCH_NAMES[a.dtype]}'"
        )
    return _unary("gelu", a, params=(mode,))


def threshold_backward(grad, x, threshold):
    """relu's gradient: ``grad`` where ``x > threshold``, else 0."""
    return _binary("threshold_backward", grad, x, params=(builtins.float(threshold),))


def sigmoid_backward(grad, out):
    return _binary("sigmoid_backward", grad, out)


def tanh_backward(grad, out):
    return _binary("tanh_backward", grad, out)


def leaky_relu_backward(grad, x, negative_slope):
    return _binary("leaky_relu_backward", grad, x, params=(builtins.float(negative_slope),))


def gelu_backward(grad, x, approximate="none"):
    return _binary("gelu_backward", grad, x, params=(_gelu_mode(approximate),))

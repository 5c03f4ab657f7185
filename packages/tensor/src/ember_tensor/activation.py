"""Activations and the fused backwards their autograd nodes call (one pass over memory)."""
import builtins

from . import _dtype as D
from ._array import Array
from ._elementwise_core import _binary, _unary


def relu(a, out=None, *, _inplace=False):
    # an Array's dtype kind says "bool" without the ``dtype`` property's Python frame
    if (type(a) is not Array or a._np.dtype.kind == "b") and a.dtype is D.bool:
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
            f"\"GeluKernelImpl\" not implemented for '{a.dtype.torch_name}'"
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


# ---- MobileNetV3's hard activations, EfficientNet's SiLU, ReLU6's hardtanh ----------------
def _float_only(a, kernel):
    if not a.dtype.is_floating_point:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{a.dtype.torch_name}'")


def hardswish(a, out=None):
    """``x * relu6(x + 3) / 6``."""
    _float_only(a, "hardswish_cpu")
    return _unary("hardswish", a, out=out)


def hardsigmoid(a, out=None):
    """``relu6(x + 3) / 6``."""
    _float_only(a, "hardsigmoid_cpu")
    return _unary("hardsigmoid", a, out=out)


def silu(a, out=None):
    """``x * sigmoid(x)``, computed as torch's ``x / (1 + exp(-x))``."""
    _float_only(a, "silu_cpu")
    return _unary("silu", a, out=out)


def hardswish_backward(grad, x):
    return _binary("hardswish_backward", grad, x)


def hardsigmoid_backward(grad, x):
    return _binary("hardsigmoid_backward", grad, x)


def silu_backward(grad, x):
    return _binary("silu_backward", grad, x)


def hardtanh_backward(grad, x, min_val, max_val):
    """``grad`` where ``min_val < x < max_val``, else 0 (``x`` may be hardtanh's output)."""
    return _binary("hardtanh_backward", grad, x,
                   params=(builtins.float(min_val), builtins.float(max_val)))

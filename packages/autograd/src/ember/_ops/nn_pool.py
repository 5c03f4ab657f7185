"""Pooling's nodes, to any order of derivative: max, average, adaptive average and adaptive
max pooling, and adaptive average pooling to 1x1 (every ResNet's and MobileNet's global
pool). ``nn.py`` checks the arguments (and computes max pooling's forward) first.

Each node's usual backward is the matching fused kernel. Under ``create_graph=True`` the
same kernel's result is recorded as torch's ``...BackwardBackward0`` node, whose backward is
the adjoint written as ops: the pooled values' gradient is linear in the incoming gradient
alone, so average pooling's adjoint is the average pool itself and max pooling's is a gather
at the saved argmax positions.
"""
from typing import Optional, Sequence, Tuple, Union

from ember_tensor import Array
from ember_tensor import nn as K
from ember_tensor.nn import pooling as K_pool

from .._core.node import Node, record
from .._tensor import Tensor
from .nn_double_backward import building_graph, div_scalar, shape_only

__all__ = ["adaptive_max_pool2d", "global_avg_pool2d", "max_pool2d_backward",
           "avg_pool2d", "adaptive_avg_pool2d"]

_Size2 = Union[int, None, Sequence[Optional[int]]]


def _float_grad(g: Array) -> Array:
    if g._np.dtype.kind != "f":
        raise RuntimeError("max_pool2d_backward: only floating point gradients exist")
    return g


# ---- max pooling: the gradient scatters to the argmax, its adjoint gathers from it ------
class _MaxPoolBackwardBackward(Node):
    def backward(self, gg):
        idx = Tensor._make(self.indices)
        lead = tuple(idx.shape[:-2])
        picked = gg.reshape(lead + (-1,)).gather(-1, idx.reshape(lead + (-1,)))
        return (picked.reshape(tuple(idx.shape)),)


class MaxPool2DWithIndicesBackwardBackward0(_MaxPoolBackwardBackward):
    pass


class AdaptiveMaxPool2DBackwardBackward0(_MaxPoolBackwardBackward):
    pass


def max_pool2d_backward(grad: Tensor, in_shape, indices: Array, node_cls=None) -> Tensor:
    """The input's gradient of max pooling with ``indices`` (per-plane flat positions)."""
    if not building_graph():
        # the usual call (a contiguous float gradient of the indices' shape) without the
        # general form's checks; None: the general form below
        gx = K_pool.max_pool2d_backward_plain(grad._data, in_shape, indices)
        if gx is not None:
            return Tensor._make(gx)
    g = _float_grad(grad._data)
    gx = K.max_pool2d_backward(g, shape_only(in_shape, g._np.dtype), indices)
    if not building_graph():
        return Tensor._make(gx)
    return record(node_cls or MaxPool2DWithIndicesBackwardBackward0, gx, (grad,),
                  indices=indices)


class AdaptiveMaxPool2DBackward0(Node):
    def backward(self, grad, grad_indices=None):
        # the indices are per-plane flat positions, as max_pool2d's: the same scatter
        return (max_pool2d_backward(grad, self.in_shape, self.indices,
                                    AdaptiveMaxPool2DBackwardBackward0),)


def adaptive_max_pool2d(input: Tensor, output_size: _Size2) -> Tuple[Tensor, Tensor]:
    """``(out, indices)``: torch.nn.functional.adaptive_max_pool2d_with_indices."""
    out, idx = K.adaptive_max_pool2d(input._data, output_size)
    return record(AdaptiveMaxPool2DBackward0, (out, idx), (input,), non_differentiable=(idx,),
                  indices=idx, in_shape=tuple(input.shape))


class MeanBackward1(Node):
    """torch computes a 1x1 adaptive average pool as ``mean((-2, -1), keepdim=True)``, so its
    grad_fn is the mean's; the gradient is one fused kernel (each plane written with
    ``grad / (H*W)``) instead of an expanded copy divided, except under ``create_graph``."""

    def backward(self, grad):
        if building_graph():
            return (div_scalar(grad.expand(self.in_shape), self.n),)
        return (Tensor._make(K.global_avg_pool2d_backward(grad._data, self.in_shape)),)


def global_avg_pool2d(input: Tensor) -> Tensor:
    """``adaptive_avg_pool2d(input, 1)``: the same values and node as
    ``input.mean((-2, -1), keepdim=True)``, in one pass per plane."""
    shape = tuple(input.shape)
    return record(MeanBackward1, K.global_avg_pool2d(input._data), (input,), in_shape=shape,
                  n=shape[-2] * shape[-1])


# ---- average pooling: the gradient spreads evenly, its adjoint is the pool itself --------
class AvgPool2DBackward0(Node):
    def backward(self, grad):
        g = grad._data
        gx = K.avg_pool2d_backward(g, shape_only(self.in_shape, g._np.dtype), *self.args)
        if not building_graph():
            return (Tensor._make(gx),)
        return (record(AvgPool2DBackwardBackward0, gx, (grad,), args=self.args),)


class AvgPool2DBackwardBackward0(Node):
    def backward(self, gg):
        return (avg_pool2d(gg, self.args),)


def avg_pool2d(input: Tensor, args) -> Tensor:
    """avg_pool2d with checked ``args``: (kernel, stride, padding, ceil_mode,
    count_include_pad, divisor_override)."""
    out = K.avg_pool2d(input._data, *args)
    return record(AvgPool2DBackward0, out, (input,), args=args, in_shape=tuple(input.shape))


class AdaptiveAvgPool2DBackward0(Node):
    def backward(self, grad):
        g = grad._data
        gx = K.adaptive_avg_pool2d_backward(g, shape_only(self.in_shape, g._np.dtype))
        if not building_graph():
            return (Tensor._make(gx),)
        return (record(AdaptiveAvgPool2DBackwardBackward0, gx, (grad,),
                       out_size=tuple(grad.shape[-2:])),)


class AdaptiveAvgPool2DBackwardBackward0(Node):
    def backward(self, gg):
        return (adaptive_avg_pool2d(gg, self.out_size),)


def adaptive_avg_pool2d(input: Tensor, out_size: Tuple[int, int]) -> Tensor:
    """adaptive_avg_pool2d to a checked ``(oh, ow)`` other than 1x1."""
    out = K.adaptive_avg_pool2d(input._data, out_size)
    return record(AdaptiveAvgPool2DBackward0, out, (input,), in_shape=tuple(input.shape))

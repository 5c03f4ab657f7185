"""Differentiable pooling ops beyond ``nn.py``'s: adaptive max pooling, and adaptive
average pooling to 1x1 (every ResNet's and MobileNet's global pool).

As in ``nn.py``, the forward runs an ember_tensor kernel and the node's backward the
matching backward kernel (``once_differentiable``).
"""
from typing import Optional, Sequence, Tuple, Union

import numpy as np

from ember_tensor import nn as K

from ..autograd import grad_mode
from ..autograd.node import Node, record
from .._tensor import Tensor

__all__ = ["adaptive_max_pool2d", "global_avg_pool2d"]

_Size2 = Union[int, None, Sequence[Optional[int]]]


class AdaptiveMaxPool2DBackward0(Node):
    once_differentiable = True

    def backward(self, grad, grad_indices=None):
        g = grad._data
        # the indices are per-plane flat positions, as max_pool2d's: the same scatter
        shape_only = np.broadcast_to(np.zeros((), g._np.dtype), self.in_shape)
        return (Tensor._make(K.max_pool2d_backward(g, shape_only, self.indices)),)


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
        if grad_mode._state.grad_enabled and grad.requires_grad:
            return (grad.expand(self.in_shape) / self.n,)
        return (Tensor._make(K.global_avg_pool2d_backward(grad._data, self.in_shape)),)


def global_avg_pool2d(input: Tensor) -> Tensor:
    """``adaptive_avg_pool2d(input, 1)``: the same values and node as
    ``input.mean((-2, -1), keepdim=True)``, in one pass per plane."""
    shape = tuple(input.shape)
    return record(MeanBackward1, K.global_avg_pool2d(input._data), (input,), in_shape=shape,
                  n=shape[-2] * shape[-1])

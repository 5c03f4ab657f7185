"""Differentiable pooling ops beyond ``nn.py``'s: adaptive max pooling.

As in ``nn.py``, the forward runs an ember_tensor kernel and the node's backward the
matching backward kernel (``once_differentiable``).
"""
from typing import Optional, Sequence, Tuple, Union

import numpy as np

from ember_tensor import nn as K

from ..autograd.node import Node, record
from .._tensor import Tensor

__all__ = ["adaptive_max_pool2d"]

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

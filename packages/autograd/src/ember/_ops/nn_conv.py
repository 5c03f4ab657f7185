"""2-D convolution as a differentiable op, to any order of derivative.

``convolution`` runs the conv kernel and records ``ConvolutionBackward0``; that node's usual
backward is the fused ``conv2d_backward`` kernel. Under ``create_graph=True`` it calls
``convolution_backward`` instead: the same kernel, recorded as
``ConvolutionBackwardBackward0`` (torch's name), whose backward is again convolutions: the
input's gradient ``gI(g, w)`` and the weight's ``gW(g, x)`` are bilinear, so their adjoints
are ``conv(ggI, w)``, ``conv(x, ggW)``, ``gI(g, ggW)`` and ``gW(g, ggI)``, recorded in turn.
``nn.conv2d`` checks and normalises the arguments before it gets here.
"""
from typing import Optional, Sequence, Tuple

from ember_tensor import nn as K

from .._tensor import Tensor
from .._core.node import Node, record
from .nn_double_backward import building_graph, record_masked, spread

__all__ = ["convolution", "convolution_backward"]

_Pair = Tuple[int, int]


def _wrap(a):
    return None if a is None else Tensor._make(a)


class ConvolutionBackward0(Node):
    def backward(self, grad):
        x, w = self.saved_tensors
        needs = self.needs_input_grad
        mask = (needs[0], needs[1], len(needs) > 2 and needs[2])
        if building_graph():
            return convolution_backward(grad, x, w, self.geometry, mask)
        gx, gw, gb = K.conv2d_backward(grad._data, x._data, w._data, *self.geometry,
                                       output_mask=mask)
        return _wrap(gx), _wrap(gw), _wrap(gb)


def convolution(input: Tensor, weight: Tensor, bias: Optional[Tensor],
                geometry: Tuple[_Pair, _Pair, _Pair, int]) -> Tensor:
    """conv2d of a 4-D input; ``geometry`` is ``(stride, padding, dilation, groups)``."""
    out = K.conv2d(input._data, weight._data, None if bias is None else bias._data, *geometry)
    return record(ConvolutionBackward0, out, (input, weight, bias), save=(input, weight),
                  geometry=geometry)


class ConvolutionBackwardBackward0(Node):
    def backward(self, *grads):
        g, x, w = self.saved_tensors
        ggx, ggw, ggb = spread(self.mask, grads)
        geo = self.geometry
        need_g, need_x, need_w = self.needs_input_grad
        gg = gx = gw = None
        if need_g:
            for term in (None if ggx is None else convolution(ggx, w, None, geo),
                         None if ggw is None else convolution(x, ggw, None, geo),
                         None if ggb is None else ggb.reshape(1, -1, 1, 1).expand(g.shape)):
                if term is not None:
                    gg = term if gg is None else gg + term
        if need_x and ggw is not None:
            gx = convolution_backward(g, x, ggw, geo, (True, False, False))[0]
        if need_w and ggx is not None:
            gw = convolution_backward(g, ggx, w, geo, (False, True, False))[1]
        return gg, gx, gw


def convolution_backward(grad: Tensor, input: Tensor, weight: Tensor,
                         geometry: Tuple[_Pair, _Pair, _Pair, int],
                         mask: Sequence[bool]) -> Tuple[Optional[Tensor], ...]:
    """``(grad_input, grad_weight, grad_bias)`` of ``convolution``, None where ``mask`` is
    False, recorded so that they can be differentiated again."""
    arrays = K.conv2d_backward(grad._data, input._data, weight._data, *geometry,
                               output_mask=tuple(mask))
    return record_masked(ConvolutionBackwardBackward0, arrays, (grad, input, weight),
                         save=(grad, input, weight), geometry=geometry)

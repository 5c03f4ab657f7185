"""Differentiable activations with kernels of their own: hardswish, hardsigmoid, SiLU and
hardtanh (ReLU6 is ``hardtanh(x, 0, 6)``, as torch's).

Each forward is one kernel from the elementwise table; the node is named as torch's grad_fn
(``HardswishBackward0``...). The backward is the fused kernel when no graph is being built;
under ``create_graph`` it is what torch records: the kernel's result as a node of its own
(``HardswishBackwardBackward0``, ``HardtanhBackwardBackward0``) whose backward is written with
ops, SiLU's rule as Tensor ops (torch's composite), and for hardsigmoid a node that refuses
to be differentiated again, as torch's does. The in-place forms (``inplace=True``) keep a
copy of the original input for the backward, as torch's generated in-place nodes do, except
hardtanh, whose mask reads the same off its output.
"""
from ember_tensor import Array
from ember_tensor import activation as A
from ember_tensor import selection as S

from .. import _grad_mode as grad_mode
from .._core.node import Node, record
from .._tensor import Tensor
from .nn_double_backward import building_graph
from .selection import where

__all__ = ["hardswish", "hardsigmoid", "silu", "hardtanh"]


def _saved_input(node: Node) -> Tensor:
    return node.saved_tensors[0] if node.original is None else Tensor._make(node.original)


class HardswishBackward0(Node):
    def backward(self, grad):
        return (hardswish_backward(grad, _saved_input(self)),)


class HardswishBackwardBackward0(Node):
    def backward(self, gg):
        g, x = self.saved_tensors
        gx = None
        if self.needs_input_grad[1]:  # the slope x/3 + 1/2 of the middle piece
            gx = where((x > -3.0) & (x < 3.0), gg * g / 3.0, 0.0)
        return hardswish_backward(gg, x), gx


def hardswish_backward(grad: Tensor, x: Tensor) -> Tensor:
    gx = A.hardswish_backward(grad._data, x._data)
    if not building_graph():
        return Tensor._make(gx)
    return record(HardswishBackwardBackward0, gx, (grad, x), save=(grad, x))


class HardsigmoidBackward0(Node):
    def backward(self, grad):
        x = _saved_input(self)
        gx = A.hardsigmoid_backward(grad._data, x._data)
        if not building_graph():
            return (Tensor._make(gx),)
        return (record(NotImplemented_, gx, (grad, x)),)


class NotImplemented_(Node):
    """What torch records for a backward it cannot differentiate (hardsigmoid's): a node
    that raises only when a gradient actually reaches it."""

    def name(self):
        return "torch::autograd::NotImplemented"

    def backward(self, gg):
        raise RuntimeError("derivative for aten::hardsigmoid_backward is not implemented")


class SiluBackward0(Node):
    def backward(self, grad):
        x = _saved_input(self)
        if not building_graph():
            return (Tensor._make(A.silu_backward(grad._data, x._data)),)
        s = x.sigmoid()  # torch's composite form, under its node names (MulBackward0)
        return (grad * s * (1 + x * (1 - s)),)


class HardtanhBackward0(Node):
    def backward(self, grad):
        (x,) = self.saved_tensors  # the input, or the output of the in-place form
        return (hardtanh_backward(grad, x, self.min_val, self.max_val),)


class HardtanhBackwardBackward0(Node):
    """Linear in the gradient, with a mask that is constant in x almost everywhere."""

    def backward(self, gg):
        (x,) = self.saved_tensors
        return hardtanh_backward(gg, x, self.min_val, self.max_val), None


def hardtanh_backward(grad: Tensor, x: Tensor, lo: float, hi: float) -> Tensor:
    gx = A.hardtanh_backward(grad._data, x._data, lo, hi)
    if not building_graph():
        return Tensor._make(gx)
    return record(HardtanhBackwardBackward0, gx, (grad, x), save=(x,), min_val=lo, max_val=hi)


def _apply(node_cls, kernel, input: Tensor, inplace: bool, **attrs) -> Tensor:
    if not inplace:
        return record(node_cls, kernel(input._data), (input,), save=(input,), original=None,
                      **attrs)
    input._check_inplace()
    original = None
    if grad_mode._state.grad_enabled and input.requires_grad:
        original = Array(input._data._np.copy())
    kernel(input._data, out=input._data)
    return record(node_cls, input, (input,), original=original, **attrs)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    return _apply(HardswishBackward0, A.hardswish, input, inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    return _apply(HardsigmoidBackward0, A.hardsigmoid, input, inplace)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    return _apply(SiluBackward0, A.silu, input, inplace)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """Clamped to ``[min_val, max_val]``; the in-place node saves the output, whose mask is
    the input's (``x <= lo`` exactly where ``out <= lo``)."""
    def kernel(a, out=None):
        return S.clamp(a, min_val, max_val, out=out)

    if not inplace:
        return record(HardtanhBackward0, kernel(input._data), (input,), save=(input,),
                      min_val=min_val, max_val=max_val)
    input._check_inplace()
    kernel(input._data, out=input._data)
    return record(HardtanhBackward0, input, (input,), save=(input,), min_val=min_val,
                  max_val=max_val)

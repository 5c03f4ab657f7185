"""Differentiable activations with kernels of their own: hardswish, hardsigmoid, SiLU and
hardtanh (ReLU6 is ``hardtanh(x, 0, 6)``, as torch's).

Each forward is one kernel from the elementwise table; the node is named as torch's grad_fn
(``HardswishBackward0``...). The backward is the fused kernel when no graph is being built;
under ``create_graph`` it is the same rule written with Tensor ops, so higher-order gradients
work. The in-place forms (``inplace=True``) keep a copy of the original input for the
backward, as torch's generated in-place nodes do, except hardtanh, whose mask reads the same
off its output.
"""
from ember_tensor import Array
from ember_tensor import activation as A
from ember_tensor import selection as S

from ..autograd import grad_mode
from ..autograd.node import Node, record
from .._tensor import Tensor
from .selection import where

__all__ = ["hardswish", "hardsigmoid", "silu", "hardtanh"]


def _saved_input(node: Node) -> Tensor:
    return node.saved_tensors[0] if node.original is None else Tensor._make(node.original)


def _fused(node: Node, grad: Tensor) -> bool:
    """The kernel backward serves unless a graph of the gradient is being recorded."""
    return not (grad_mode._state.grad_enabled and grad.requires_grad)


class HardswishBackward0(Node):
    def backward(self, grad):
        x = _saved_input(self)
        if _fused(self, grad):
            return (Tensor._make(A.hardswish_backward(grad._data, x._data)),)
        return (where(x <= -3.0, 0.0, where(x >= 3.0, grad, grad * (x / 3.0 + 0.5))),)


class HardsigmoidBackward0(Node):
    def backward(self, grad):
        x = _saved_input(self)
        if _fused(self, grad):
            return (Tensor._make(A.hardsigmoid_backward(grad._data, x._data)),)
        return (where((x > -3.0) & (x < 3.0), grad / 6.0, 0.0),)


class SiluBackward0(Node):
    def backward(self, grad):
        x = _saved_input(self)
        if _fused(self, grad):
            return (Tensor._make(A.silu_backward(grad._data, x._data)),)
        s = x.sigmoid()
        return (grad * s * (1 + x * (1 - s)),)


class HardtanhBackward0(Node):
    def backward(self, grad):
        (x,) = self.saved_tensors  # the input, or the output of the in-place form
        lo, hi = self.min_val, self.max_val
        if _fused(self, grad):
            return (Tensor._make(A.hardtanh_backward(grad._data, x._data, lo, hi)),)
        return (where((x > lo) & (x < hi), grad, 0.0),)


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

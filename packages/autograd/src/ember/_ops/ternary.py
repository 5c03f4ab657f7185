"""Differentiable three-operand elementwise ops: ``lerp``, ``addcmul``, ``addcdiv``.

Forward values (dtype rules, broadcasting, the scalar weight / ``value``) come from
``ember_tensor.ternary``; each backward is torch's formula written with Tensor ops, and the
engine reduces every gradient to its input's broadcast shape.
"""
from ember_tensor import ternary as T

from .._core.node import Node, record
from .._tensor import Tensor
from ._common import check_operand, is_t, out_, require_tensor


class LerpBackward0(Node):  # scalar weight
    def backward(self, g):
        w = self.weight
        return (g * (1 - w) if self.needs_input_grad[0] else None,
                g * w if self.needs_input_grad[1] else None)


class LerpBackward1(Node):  # tensor weight
    def backward(self, g):
        start, end, weight = self.saved_tensors
        needs = self.needs_input_grad
        return (g * (1 - weight) if needs[0] else None,
                g * weight if needs[1] else None,
                g * (end - start) if needs[2] else None)


def lerp(input, end, weight, *, out=None) -> Tensor:
    require_tensor(input, "lerp")
    require_tensor(end, "lerp", "end", 2)
    if is_t(weight):
        res = T.lerp(input._data, end._data, weight._data)
        result = record(LerpBackward1, res, (input, end, weight), save=(input, end, weight))
    else:
        check_operand(weight, "weight")
        res = T.lerp(input._data, end._data, weight)
        result = record(LerpBackward0, res, (input, end), weight=weight)
    return out_(result, out)


class AddcmulBackward0(Node):
    def backward(self, g):
        t1, t2 = self.saved_tensors
        v, needs = self.value, self.needs_input_grad
        return (g if needs[0] else None,
                g * t2 * v if needs[1] else None,
                g * t1 * v if needs[2] else None)


class AddcdivBackward0(Node):
    def backward(self, g):
        t1, t2 = self.saved_tensors
        v, needs = self.value, self.needs_input_grad
        return (g if needs[0] else None,
                g * v / t2 if needs[1] else None,
                -g * v * t1 / (t2 * t2) if needs[2] else None)


def _addc(kernel, node_cls, name, input, tensor1, tensor2, value, out):
    for pos, (arg, x) in enumerate((("input", input), ("tensor1", tensor1),
                                    ("tensor2", tensor2)), start=1):
        require_tensor(x, name, arg, pos)
    res = kernel(input._data, tensor1._data, tensor2._data, value)
    result = record(node_cls, res, (input, tensor1, tensor2), save=(tensor1, tensor2),
                    value=value)
    return out_(result, out)


def addcmul(input, tensor1, tensor2, *, value=1, out=None) -> Tensor:
    return _addc(T.addcmul, AddcmulBackward0, "addcmul", input, tensor1, tensor2, value, out)


def addcdiv(input, tensor1, tensor2, *, value=1, out=None) -> Tensor:
    return _addc(T.addcdiv, AddcdivBackward0, "addcdiv", input, tensor1, tensor2, value, out)


FUNCTIONS = {"lerp": lerp, "addcmul": addcmul, "addcdiv": addcdiv}
TENSOR_METHODS = dict(FUNCTIONS)

"""``torch.normal`` (all four overloads), ``bernoulli`` and ``multinomial``, with the methods
``Tensor.bernoulli`` / ``Tensor.multinomial``.

Samples come from ``ember_tensor._random`` (the seeded stream ``manual_seed`` and
``Generator`` drive). As in torch, a sample records a node whose gradient is zero: the draw
is not a differentiable function of its mean, std or probability.
"""
import numbers

from ember_tensor import _random as R

from .._core.node import Node, record
from .._tensor import Tensor
from ._common import is_t, out_, require_tensor


def _zero_grad_node(name):
    def backward(self, g):
        return tuple(g * 0 if need else None for need in self.needs_input_grad)
    return type(name, (Node,), {"backward": backward})


NormalBackward1 = _zero_grad_node("NormalBackward1")  # (Tensor mean, float std)
NormalBackward2 = _zero_grad_node("NormalBackward2")  # (float mean, Tensor std)
NormalBackward3 = _zero_grad_node("NormalBackward3")  # (Tensor mean, Tensor std)
BernoulliBackward0 = _zero_grad_node("BernoulliBackward0")


def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None,
           device=None, pin_memory=False, requires_grad=False):
    if is_t(mean) or is_t(std):
        res = R.normal(mean._data if is_t(mean) else mean, std._data if is_t(std) else std,
                       generator=generator)
        if is_t(mean) and is_t(std):
            result = record(NormalBackward3, res, (mean, std))
        elif is_t(mean):
            result = record(NormalBackward1, res, (mean,))
        else:
            result = record(NormalBackward2, res, (std,))
        return out_(result, out)
    if size is None or not isinstance(mean, numbers.Real) or not isinstance(std, numbers.Real):
        raise TypeError(
            f"normal() received an invalid combination of arguments - got "
            f"({type(mean).__name__}, {type(std).__name__}), but expected one of: (Tensor mean, "
            "Tensor std), (Tensor mean, float std), (float mean, Tensor std), (float mean, "
            "float std, tuple of ints size)")
    result = Tensor._make(R.normal(mean, std, size, generator=generator, dtype=dtype))
    if requires_grad:
        result.requires_grad_(True)
    return out_(result, out)


def bernoulli(input, p=None, *, generator=None, out=None):
    require_tensor(input, "bernoulli")
    if p is None:
        return out_(record(BernoulliBackward0, R.bernoulli(input._data, generator), (input,)),
                    out)
    res = input._data.clone()  # torch's bernoulli(input, p): input's shape and dtype, p fixed
    return out_(Tensor._make(R.bernoulli_(res, p._data if is_t(p) else p, generator)), out)


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    require_tensor(input, "multinomial")
    return out_(Tensor._make(R.multinomial(input._data, num_samples, replacement, generator)), out)


FUNCTIONS = {"normal": normal, "bernoulli": bernoulli, "multinomial": multinomial}
TENSOR_METHODS = {"bernoulli": bernoulli, "multinomial": multinomial}

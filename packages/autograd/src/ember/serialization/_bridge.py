"""The one place where serialization meets ember's tensor classes."""
import numpy as np

import ember_tensor

from .._tensor import Tensor
from ..nn.parameter import Parameter


def wrap(ndarray, requires_grad=False):
    """An ember tensor over ``ndarray`` (no copy)."""
    tensor = Tensor._make(ember_tensor.Array(ndarray))
    if requires_grad:
        tensor.requires_grad_(True)
    return tensor


def make_parameter(tensor, requires_grad=True):
    return Parameter(tensor, requires_grad=bool(requires_grad))


def is_tensor(obj):
    """True for anything save writes as a tensor: ember tensors, Parameters and raw Arrays."""
    if isinstance(obj, ember_tensor.Array):
        return True
    return isinstance(obj, Tensor)


def is_parameter(obj):
    return isinstance(obj, Parameter)


def ndarray_of(obj):
    """The NumPy array behind a tensor, Parameter or Array (shares memory)."""
    if isinstance(obj, ember_tensor.Array):
        return obj._np
    data = obj._data
    return data._np if isinstance(data, ember_tensor.Array) else np.asarray(data)


def requires_grad_of(obj):
    return bool(getattr(obj, "requires_grad", False))

"""The one place where serialization meets ember's tensor classes.

``ember.nn.Parameter`` is imported lazily: ``ember.nn`` builds on the layers this package is
imported with.
"""
import numpy as np

import ember_tensor

from .._tensor import Tensor


def _parameter_class():
    try:
        from ember.nn import Parameter
    except ImportError:
        return None
    return Parameter


def wrap(ndarray, requires_grad=False):
    """An ember tensor over ``ndarray`` (no copy)."""
    tensor = Tensor._make(ember_tensor.Array(ndarray))
    if requires_grad:
        tensor.requires_grad_(True)
    return tensor


def make_parameter(tensor, requires_grad=True):
    cls = _parameter_class()
    if cls is None:
        raise RuntimeError(
            "this checkpoint stores nn.Parameter objects, but ember.nn.Parameter is not available"
        )
    return cls(tensor, requires_grad=bool(requires_grad))


def is_tensor(obj):
    """True for anything save writes as a tensor: ember tensors, Parameters and raw Arrays."""
    if isinstance(obj, ember_tensor.Array):
        return True
    return isinstance(obj, Tensor)


def is_parameter(obj):
    cls = _parameter_class()
    return cls is not None and isinstance(obj, cls)


def ndarray_of(obj):
    """The NumPy array behind a tensor, Parameter or Array (shares memory)."""
    if isinstance(obj, ember_tensor.Array):
        return obj._np
    data = obj._data
    return data._np if isinstance(data, ember_tensor.Array) else np.asarray(data)


def requires_grad_of(obj):
    return bool(getattr(obj, "requires_grad", False))

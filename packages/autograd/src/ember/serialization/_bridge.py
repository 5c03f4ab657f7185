"""The one place where serialization meets ember's tensor classes.

Imports of ``ember.Tensor`` and ``ember.nn.Parameter`` are lazy: ``ember.serialization`` is
imported while ``ember`` itself is still initialising.
"""
import numpy as np

import ember_tensor


def _tensor_class():
    import ember
    cls = getattr(ember, "Tensor", None)
    if cls is None:
        try:
            from ember._tensor import Tensor as cls
        except ImportError:
            return None
    return cls


def _parameter_class():
    try:
        from ember.nn import Parameter
    except ImportError:
        return None
    return Parameter


def wrap(ndarray, requires_grad=False):
    """An ember tensor over ``ndarray`` (no copy)."""
    array = ember_tensor.Array(ndarray)
    cls = _tensor_class()
    if cls is None:  # ember.Tensor not available yet: hand back the raw Array
        return array
    tensor = cls._make(array)
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
    cls = _tensor_class()
    return cls is not None and isinstance(obj, cls)


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

"""The one place where ember_vision crosses between NumPy arrays and ``ember.Tensor``.

Transforms and datasets do their pixel work in NumPy/PIL and hand tensors to users; going
through here keeps the dependence on ember's internals (``Tensor._make`` over an
``ember_tensor.Array``, as DESIGN.md states the contract) in a single module.
"""
from typing import TYPE_CHECKING, TypeGuard

import numpy as np
import ember_tensor

if TYPE_CHECKING:
    from ember import Tensor


def _ember():
    import ember

    return ember


def is_tensor(x: object) -> TypeGuard["Tensor"]:
    return isinstance(x, _ember().Tensor)


def to_numpy(t):
    """The tensor's values as an ndarray (a view when possible; never tracked by autograd)."""
    data = getattr(t, "_data", None)
    if data is not None and hasattr(data, "_np"):
        return data._np
    return np.asarray(t.detach().numpy())


def from_numpy(a):
    """A tensor that needs no grad, sharing ``a``'s memory."""
    a = np.asarray(a)
    if not a.flags.writeable:
        a = a.copy()
    return _ember().Tensor._make(ember_tensor.Array(a))


def np_dtype(dtype):
    """NumPy dtype for an ember dtype (or anything ember_tensor accepts as one)."""
    return ember_tensor._dtype.as_dtype(dtype).np


def ember_dtype(np_dtype_):
    return ember_tensor._dtype.from_numpy_dtype(np_dtype_)

"""Helpers shared by the layer modules: empty parameters and torch's tuple-argument forms."""
import collections.abc
from itertools import repeat

import ember_tensor

from ..._device import FACTORY
from ..._device import check as _check
from ..._tensor import Tensor


def empty(*shape, dtype=None, device=None):
    """An uninitialised tensor for a layer to fill with its init scheme."""
    _check(device, FACTORY)  # a layer's device= (or the default) must be the CPU
    return Tensor._make(ember_tensor.empty(*shape, dtype=dtype))


def zeros(*shape, dtype=None, device=None):
    _check(device, FACTORY)
    return Tensor._make(ember_tensor.zeros(*shape, dtype=dtype))


def ones(*shape, dtype=None, device=None):
    _check(device, FACTORY)
    return Tensor._make(ember_tensor.ones(*shape, dtype=dtype))


def _ntuple(n):
    def parse(x):
        if isinstance(x, collections.abc.Iterable) and not isinstance(x, str):
            return tuple(x)
        return tuple(repeat(x, n))
    return parse


_single = _ntuple(1)
_pair = _ntuple(2)

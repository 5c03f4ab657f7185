"""``clamp`` (scalar or tensor bounds) and ``where``: ops that pick each element among values."""
import builtins
import math

import numpy as np

from . import _dtype as D
from ._array import Array
from ._elementwise_core import (
    _assign_inplace, broadcast_shapes, _check_operand, copy_, _run, _shape,
)
from .arithmetic import maximum, minimum


def clamp(a, min=None, max=None, out=None, *, _inplace=False):  # noqa: A002 - torch's names
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Array) or isinstance(max, Array):
        mixed = (min is not None and max is not None
                 and not (isinstance(min, Array) and isinstance(max, Array)))
        if mixed and all(not isinstance(v, Array) or v.ndim == 0 for v in (min, max)):
            # torch's argument parser reads a 0-dim tensor as a Number
            return clamp(a, min.item() if isinstance(min, Array) else min,
                         max.item() if isinstance(max, Array) else max, out, _inplace=_inplace)
        if mixed:
            kinds = ", ".join("Tensor" if isinstance(v, Array) else type(v).__name__
                              for v in (a, min, max))
            raise TypeError(
                f"clamp() received an invalid combination of arguments - got ({kinds}), but "
                "expected one of:\n * (Tensor input, Tensor min = None, Tensor max = None, *, "
                "Tensor out = None)\n * (Tensor input, Number min = None, Number max = None, *, "
                "Tensor out = None)\n"
            )
        if D.result_type(a, *(v for v in (min, max) if v is not None)) is D.bool:
            raise NotImplementedError("\"clamp_cpu\" not implemented for 'Bool'")
        res = a
        if min is not None:
            res = maximum(res, min)
        if max is not None:
            res = minimum(res, max)
        if out is None:
            return res
        return copy_(out, res) if not _inplace else _assign_inplace(out, res)
    compute = D.result_type(a, *(v for v in (min, max) if v is not None))
    if compute is D.bool:
        raise RuntimeError("\"clamp_scalar_cpu\" not implemented for 'Bool'")
    if not compute.is_floating_point:
        # integer bounds clip in the integer domain, with C conversion of the bound
        lo = builtins.int(min) if min is not None else 0
        hi = builtins.int(max) if max is not None else 0
    else:
        lo = builtins.float(min) if min is not None else 0.0
        hi = builtins.float(max) if max is not None else 0.0
    if (compute.is_floating_point and ((min is not None and math.isnan(lo))
                                       or (max is not None and math.isnan(hi)))):
        return full_like_nan(a, compute, out)
    params = (lo, hi, 1.0 if min is not None else 0.0, 1.0 if max is not None else 0.0)
    return _run("clamp", compute, compute, (a,), a._np.shape, out, params, _inplace)


def full_like_nan(a, dtype, out=None):
    res = Array(np.full(a._np.shape, np.nan, dtype=dtype.np))
    return res if out is None else copy_(out, res)


def clamp_min(a, min):  # noqa: A002
    return clamp(a, min=min)


def clamp_max(a, max):  # noqa: A002
    return clamp(a, max=max)


clip = clamp


def where(cond, a=None, b=None):
    if a is None and b is None:
        raise NotImplementedError("where(cond) (nonzero) belongs to indexing")
    if not isinstance(cond, Array):
        raise TypeError(
            f"where(): argument 'condition' must be Tensor, not {type(cond).__name__}"
        )
    if cond.dtype is not D.bool:
        raise RuntimeError(
            "where expected condition to be a boolean tensor, but got a tensor with dtype "
            f"{cond.dtype.torch_name}"
        )
    _check_operand(a, "where")
    _check_operand(b, "where")
    compute = D.result_type(a, b)
    shape = broadcast_shapes(cond._np.shape, _shape(a), _shape(b))
    return _run("where", compute, compute, (cond, a, b), shape)

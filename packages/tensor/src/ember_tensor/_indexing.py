"""Indexing and index assignment with torch's rules and torch's errors.

Basic indices (ints, slices, None, Ellipsis) give views; bool masks and integer index arrays
give copies, as in torch. Numbers are checked here before NumPy sees them so that errors read
as torch's.
"""
import builtins

import numpy as np

from ._array import Array, np_getitem


def _convert(index, shape):
    """Turn a torch-style index into a NumPy one, validating as torch does."""
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    dim = 0  # the input dim the next index item consumes
    n_consuming = 0
    for item in index:
        if item is None or item is Ellipsis:
            continue
        if isinstance(item, Array) and item.dtype.name in ("bool", "uint8"):
            n_consuming += max(item.ndim, 1)
        else:
            n_consuming += 1
    if n_consuming > len(shape):
        raise IndexError(
            f"too many indices for tensor of dimension {len(shape)}"
        )
    for item in index:
        if item is None:
            out.append(None)
        elif item is Ellipsis:
            out.append(Ellipsis)
            dim = len(shape) - (n_consuming - dim)
        elif isinstance(item, slice):
            if item.step is not None and item.step <= 0:
                raise ValueError("step must be greater than zero")
            out.append(item)
            dim += 1
        elif isinstance(item, Array):
            arr = item._np
            if arr.dtype == np.bool_ or arr.dtype == np.uint8:
                mask = arr.astype(np.bool_, copy=False)
                for k in range(mask.ndim):
                    if mask.shape[k] != shape[dim + k]:
                        raise IndexError(
                            f"The shape of the mask {list(mask.shape)} at index {k} does not "
                            f"match the shape of the indexed tensor {list(shape)} at index "
                            f"{dim + k}"
                        )
                out.append(mask)
                dim += max(mask.ndim, 1)
            elif arr.dtype.kind in "iu" and arr.ndim == 0:
                # torch reads a 0-d integer tensor as an int: a view, not a gathered copy
                out.append(_int_index(arr.item(), shape, dim))
                dim += 1
            elif arr.dtype.kind in "iu":
                _check_range(arr, shape[dim], dim)
                out.append(arr)
                dim += 1
            else:
                raise IndexError(
                    "tensors used as indices must be long, int, byte or bool tensors"
                )
        elif isinstance(item, (builtins.bool, np.bool_)):
            out.append(builtins.bool(item))
        elif isinstance(item, (builtins.int, np.integer)):
            out.append(_int_index(item, shape, dim))
            dim += 1
        elif isinstance(item, (list, tuple, range)):
            arr = np.asarray(item)
            if arr.dtype == np.bool_:
                out.append(arr)
                dim += arr.ndim
            elif arr.dtype.kind in "iu" or arr.size == 0:
                arr = arr.astype(np.int64)
                _check_range(arr, shape[dim], dim)
                out.append(arr)
                dim += 1
            else:
                raise IndexError(
                    "tensors used as indices must be long, int, byte or bool tensors"
                )
        else:
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                "are valid indices (got " + type(item).__name__ + ")"
            )
    return tuple(out)


def _int_index(item, shape, dim):
    size = shape[dim]
    if not -size <= item < size:
        raise IndexError(f"index {item} is out of bounds for dimension {dim} with size {size}")
    return builtins.int(item)


def _check_range(arr, size, dim):
    if arr.size and (arr.max() >= size or arr.min() < -size):
        bad = arr.max() if arr.max() >= size else arr.min()
        raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size {size}")


def getitem(a, index):
    return Array(np_getitem(a._np, _convert(index, a._np.shape)))


def setitem(a, index, value):
    idx = _convert(index, a._np.shape)
    if isinstance(value, Array):
        value = value._np
    try:
        a._np[idx] = value
    except ValueError as err:
        raise RuntimeError(str(err)) from None

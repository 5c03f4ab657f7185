"""Joining and splitting: ``cat``, ``stack``, ``split``, ``chunk``, ``tensor_split``.

These move memory without computing on it, so they use NumPy's copy routines.
"""
import numpy as np

from . import _dtype as D
from ._array import Array, _wrap_dim


def _arrays(tensors, name):
    if isinstance(tensors, Array):
        raise TypeError(f"{name}(): argument 'tensors' must be tuple of Tensors, not Tensor")
    tensors = list(tensors)
    if not tensors:  # torch's two words for it: a ValueError from cat, a RuntimeError from stack
        if name == "stack":
            raise RuntimeError("stack expects a non-empty TensorList")
        raise ValueError(f"torch.{name}(): expected a non-empty list of Tensors")
    return tensors


def cat(tensors, dim=0):
    tensors = _arrays(tensors, "cat")
    # torch skips legacy empty 1-D tensors of shape (0,)
    real = [t for t in tensors if not (t.ndim == 1 and t.numel() == 0)] or tensors[:1]
    ref = real[0]
    if ref.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = _wrap_dim(dim, ref.ndim)
    for i, t in enumerate(real):
        if t.ndim != ref.ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {ref.ndim} and {t.ndim}"
            )
        for k in range(ref.ndim):
            if k != d and t.shape[k] != ref.shape[k]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size "
                    f"{ref.shape[k]} but got size {t.shape[k]} for tensor number {i} in the list."
                )
    dtype = D.result_type(*real) if len({t.dtype for t in real}) > 1 else ref.dtype
    return Array(np.concatenate([t._np for t in real], axis=d).astype(dtype.np, copy=False))


def stack(tensors, dim=0):
    tensors = _arrays(tensors, "stack")
    ref = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != ref:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(ref)} at entry 0 "
                f"and {list(t.shape)} at entry {i}"
            )
    d = _wrap_dim(dim, len(ref) + 1)
    return cat([t.unsqueeze(d) for t in tensors], d)


def split(a, split_size_or_sections, dim=0):
    d = _wrap_dim(dim, a.ndim)
    n = a.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step < 0:
            raise RuntimeError(
                f"split expects split_size be non-negative, but got split_size={step}")
        if step == 0:
            if n != 0:
                raise RuntimeError(
                    "split_size can only be 0 if dimension size is 0, but got dimension size "
                    f"of {n}"
                )
            return (a,)
        sizes = [min(step, n - s) for s in range(0, n, step)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                f"at dimension {d}), but got split_sizes={sizes}"
            )
    out, start = [], 0
    for s in sizes:
        out.append(a.narrow(d, start, s))
        start += s
    return tuple(out)


def chunk(a, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = _wrap_dim(dim, a.ndim)
    n = a.shape[d]
    step = -(-n // chunks) if n else 1
    return split(a, step, d) if n else (a,)


ARRAY_METHODS = {
    "split": split,
    "chunk": chunk,
}

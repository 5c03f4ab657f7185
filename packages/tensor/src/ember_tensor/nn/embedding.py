"""Embedding lookup (a row gather) and its backward (a row scatter-add)."""
import numpy as np

from ._util import nd, size_str, wrap

_INDEX_TYPES = (np.int64, np.int32)
_TORCH_TYPE_NAMES = {
    np.dtype(np.float32): "torch.FloatTensor", np.dtype(np.float64): "torch.DoubleTensor",
    np.dtype(np.int16): "torch.ShortTensor", np.dtype(np.int8): "torch.CharTensor",
    np.dtype(np.uint8): "torch.ByteTensor", np.dtype(np.bool_): "torch.BoolTensor",
    np.dtype(np.float16): "torch.HalfTensor",
}


def _check_indices(idx, num):
    if idx.dtype not in _INDEX_TYPES:
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got {_TORCH_TYPE_NAMES.get(idx.dtype, str(idx.dtype))} "
            "instead (while checking arguments for embedding)")
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        raise IndexError("index out of range in self")


def embedding(weight, indices, padding_idx=None):
    """``weight[indices]``: shape ``indices.shape + (embedding_dim,)``."""
    w, idx = nd(weight), nd(indices)
    if w.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    _check_indices(idx, w.shape[0])
    return wrap(np.take(w, idx, axis=0))


def embedding_backward(grad_out, indices, num_weights, padding_idx=None):
    """Sum of ``grad_out`` rows into ``(num_weights, dim)``; the padding row gets none."""
    go, idx = nd(grad_out), nd(indices)
    _check_indices(idx, num_weights)
    if go.shape[:-1] != idx.shape:
        raise RuntimeError(
            f"embedding_backward: grad_output {size_str(go.shape)} does not match indices "
            f"{size_str(idx.shape)}")
    D = go.shape[-1]
    gw = np.zeros((num_weights, D), go.dtype)
    flat = idx.reshape(-1)
    rows = go.reshape(-1, D)
    if padding_idx is not None:
        if padding_idx < 0:
            padding_idx += num_weights
        keep = flat != padding_idx
        flat, rows = flat[keep], rows[keep]
    np.add.at(gw, flat, rows)
    return wrap(gw)

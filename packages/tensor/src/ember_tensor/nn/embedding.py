"""Embedding lookup (a row gather) and its backward (a row scatter-add)."""
import numpy as np

from .._kernels import embedding as _k
from ._util import kernel_array, nd, size_str, wrap

_INDEX_TYPES = (np.int64, np.int32)
_TORCH_TYPE_NAMES = {
    np.dtype(np.float32): "torch.FloatTensor", np.dtype(np.float64): "torch.DoubleTensor",
    np.dtype(np.int16): "torch.ShortTensor", np.dtype(np.int8): "torch.CharTensor",
    np.dtype(np.uint8): "torch.ByteTensor", np.dtype(np.bool_): "torch.BoolTensor",
    np.dtype(np.float16): "torch.HalfTensor",
}


def _check_index_dtype(idx):
    if idx.dtype not in _INDEX_TYPES:
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got {_TORCH_TYPE_NAMES.get(idx.dtype, str(idx.dtype))} "
            "instead (while checking arguments for embedding)")


def embedding(weight, indices, padding_idx=None):
    """``weight[indices]``: shape ``indices.shape + (embedding_dim,)``."""
    w, idx = nd(weight), nd(indices)
    if w.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    _check_index_dtype(idx)
    out = np.empty((idx.size, w.shape[1]), w.dtype)
    _k.gather(kernel_array(w), idx, out)
    return wrap(out.reshape(idx.shape + (w.shape[1],)))


def embedding_backward(grad_out, indices, num_weights, padding_idx=None):
    """Sum of ``grad_out`` rows into ``(num_weights, dim)``; the padding row gets none."""
    go, idx = nd(grad_out), nd(indices)
    _check_index_dtype(idx)
    _k.check_indices(idx, num_weights)
    if go.shape[:-1] != idx.shape:
        raise RuntimeError(
            f"embedding_backward: grad_output {size_str(go.shape)} does not match indices "
            f"{size_str(idx.shape)}")
    D = go.shape[-1]
    gw = np.zeros((num_weights, D), go.dtype)
    rows = go.reshape(-1, D)
    if padding_idx is None:
        padding_idx = -1
    elif padding_idx < 0:
        padding_idx += num_weights
    if go.dtype in (np.float32, np.float64):
        _k.scatter_add(kernel_array(rows), idx, gw, padding_idx)
    else:
        # no kernel for other dtypes (torch has no gradients for integer tables)
        flat = idx.reshape(-1)
        keep = flat != padding_idx
        np.add.at(gw, flat[keep], rows[keep])
    return wrap(gw)

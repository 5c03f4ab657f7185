"""Differentiable views and shape ops: view/reshape, permute/transpose, expand, squeeze,
flatten, cat/stack/split, clone, dtype conversion. Views share their base's version counter."""
import numpy as np

from ember_tensor import Array
from ember_tensor import _dtype as D
from ember_tensor import _shape_ops
from ember_tensor._array import _shape_arg, _wrap_dim

from .._tensor import Tensor
from .._device import as_device, check
from .indexing import _embed
from .reduction import sum_to_size
from .._core.node import Node, record


def _is_view(out, inp):
    return np.shares_memory(out._np, inp._data._np) if out._np.size else False


class ViewBackward0(Node):
    def backward(self, g):
        return (g.reshape(self.shape),)


class UnsafeViewBackward0(ViewBackward0):
    pass


def view(input, *shape) -> Tensor:
    if len(shape) == 1 and isinstance(shape[0], D.dtype):
        if shape[0] is input.dtype:
            return input
        raise NotImplementedError("view(dtype) is not supported by Ember")
    res = input._data.view(*shape)
    return record(ViewBackward0, res, (input,), view_of=input, shape=tuple(input.shape))


def reshape(input, *shape) -> Tensor:
    res = input._data.reshape(*shape)
    if _is_view(res, input) or res._np.size == 0:
        return record(ViewBackward0, res, (input,), view_of=input, shape=tuple(input.shape))
    return record(UnsafeViewBackward0, res, (input,), shape=tuple(input.shape))


def view_as(input, other) -> Tensor:
    return view(input, other.shape)


def reshape_as(input, other) -> Tensor:
    return reshape(input, other.shape)


def flatten(input, start_dim=0, end_dim=-1) -> Tensor:
    if input.dim() == 0:
        return reshape(input, 1)
    s, e = _wrap_dim(start_dim, input.dim()), _wrap_dim(end_dim, input.dim())
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    shape = tuple(input.shape)
    n = 1
    for x in shape[s:e + 1]:
        n *= x
    return reshape(input, shape[:s] + (n,) + shape[e + 1:])


def unflatten(input, dim, sizes) -> Tensor:
    res = input._data.unflatten(dim, sizes)
    return record(ViewBackward0, res, (input,), view_of=input, shape=tuple(input.shape))


class PermuteBackward0(Node):
    def backward(self, g):
        inv = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inv[d] = i
        return (g.permute(inv),)


def permute(input, *dims) -> Tensor:
    res = input._data.permute(*dims)
    dims = tuple(_wrap_dim(d, input.dim()) for d in _shape_arg(dims))
    return record(PermuteBackward0, res, (input,), view_of=input, dims=dims)


def movedim(input, source, destination) -> Tensor:
    nd = input.dim()
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    src = [_wrap_dim(s, nd) for s in src]
    dst = [_wrap_dim(d, nd) for d in dst]
    order: list = [None] * nd
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(i for i in range(nd) if i not in src)
    order = [o if o is not None else next(rest) for o in order]
    return permute(input, order)


class TransposeBackward0(Node):
    def backward(self, g):
        return (g.transpose(self.dim0, self.dim1),)


def transpose(input, dim0, dim1) -> Tensor:
    res = input._data.transpose(dim0, dim1)
    nd = max(input.dim(), 1)
    return record(TransposeBackward0, res, (input,), view_of=input,
                  dim0=_wrap_dim(dim0, nd), dim1=_wrap_dim(dim1, nd))


swapaxes = swapdims = transpose


class TBackward0(Node):
    def backward(self, g):
        return (g.t(),)


def t(input) -> Tensor:
    res = input._data.t()
    return record(TBackward0, res, (input,), view_of=input)


def _T_prop(input):
    nd = input.dim()
    if nd == 2:
        return permute(input, (1, 0))
    return permute(input, tuple(reversed(range(nd))))


def _mT(input):
    if input.dim() < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. "
                           f"Got {input.dim()}-D tensor.")
    return transpose(input, -2, -1)


class ExpandBackward0(Node):
    def backward(self, g):
        return (sum_to_size(g, self.shape),)


def expand(input, *sizes) -> Tensor:
    res = input._data.expand(*sizes)
    return record(ExpandBackward0, res, (input,), view_of=input, shape=tuple(input.shape))


def expand_as(input, other) -> Tensor:
    return expand(input, other.shape)


class SqueezeBackward0(Node):
    def backward(self, g):
        return (g.reshape(self.shape),)


class SqueezeBackward1(SqueezeBackward0):
    pass


class SqueezeBackward2(SqueezeBackward0):
    pass


def squeeze(input, dim=None) -> Tensor:
    res = input._data.squeeze(dim)
    if res is input._data:
        res = Array(input._data._np.view())
    cls = SqueezeBackward0 if dim is None else (
        SqueezeBackward2 if isinstance(dim, (tuple, list)) else SqueezeBackward1)
    return record(cls, res, (input,), view_of=input, shape=tuple(input.shape))


class UnsqueezeBackward0(Node):
    def backward(self, g):
        return (g.squeeze(self.dim),)


def unsqueeze(input, dim) -> Tensor:
    res = input._data.unsqueeze(dim)
    return record(UnsqueezeBackward0, res, (input,), view_of=input,
                  dim=_wrap_dim(dim, input.dim() + 1))


class CloneBackward0(Node):
    def backward(self, g):
        return (g,)


def clone(input, *, memory_format=None) -> Tensor:
    return record(CloneBackward0, input._data.clone(), (input,))


def contiguous(input, memory_format=None) -> Tensor:
    if input._data.is_contiguous():
        return input
    return record(CloneBackward0, Array(np.ascontiguousarray(input._data._np)), (input,))


class ToCopyBackward0(Node):
    def backward(self, g):
        return (g.to(self.dtype),)


def to(input, *args, **kwargs) -> Tensor:
    """``to(dtype)``, ``to(device)``, ``to(other)``, ``to(device, dtype)``; copy=False."""
    dtype = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    device = kwargs.pop("device", None)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    for a in args:
        if isinstance(a, (D.dtype, type)) or (isinstance(a, str) and _is_dtype_name(a)):
            dtype = a
        elif isinstance(a, Tensor):
            dtype = a.dtype
        elif a is None or isinstance(a, bool):
            continue
        else:
            device = a
    if device is not None:
        check(device)
    dtype = D.as_dtype(dtype)
    if dtype is None or (dtype is input.dtype and not copy):
        if copy:
            return clone(input)
        return input
    res = Array(input._data._np.astype(dtype.np))
    if not dtype.is_floating_point:
        return Tensor._make(res)
    return record(ToCopyBackward0, res, (input,), dtype=input.dtype)


def _is_dtype_name(s):
    try:
        D.as_dtype(s)
        return True
    except TypeError:
        return False


def _caster(dt):
    def fn(input, memory_format=None) -> Tensor:
        return to(input, dt)
    return fn


def type_as(input, other) -> Tensor:
    return to(input, other.dtype)


def _device_noop(input, *args, **kwargs) -> Tensor:
    return input


def _cuda(input, device=None, non_blocking=False, memory_format=None):
    dev = as_device("cuda" if device is None else device)
    if dev.type != "cuda":
        raise RuntimeError("Invalid device, must be cuda device")
    check(dev)  # raises: torch's CPU build has no CUDA, and neither has Ember


# ---- joining / splitting --------------------------------------------------------------------
class CatBackward0(Node):
    def backward(self, g):
        out, start = [], 0
        for size, need in zip(self.sizes, self.needs_input_grad):
            if size is None:
                out.append(None)
                continue
            piece = g.narrow(self.dim, start, size) if need else None
            start += size
            out.append(piece)
        return tuple(out)


def _tensor_list(tensors, name):
    if isinstance(tensors, Tensor):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                        "not Tensor")
    tensors = list(tensors)
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
    if not tensors and name in ("hstack", "vstack"):  # cat and stack word it themselves
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    return tensors


def cat(tensors, dim=0, *, out=None) -> Tensor:
    tensors = _tensor_list(tensors, "cat")
    res = _shape_ops.cat([t._data for t in tensors], dim)
    ref = next((t for t in tensors if not (t.dim() == 1 and t.numel() == 0)), tensors[0])
    d = _wrap_dim(dim, ref.dim())
    sizes = [None if (t.dim() == 1 and t.numel() == 0 and ref.dim() != 1) else t.shape[d]
             for t in tensors]
    return record(CatBackward0, res, tuple(tensors), dim=d, sizes=sizes)


concat = concatenate = cat


class StackBackward0(Node):
    def backward(self, g):
        return tuple(g.select(self.dim, i) if need else None
                     for i, need in enumerate(self.needs_input_grad))


def stack(tensors, dim=0, *, out=None) -> Tensor:
    tensors = _tensor_list(tensors, "stack")
    res = _shape_ops.stack([t._data for t in tensors], dim)
    d = _wrap_dim(dim, tensors[0].dim() + 1)
    return record(StackBackward0, res, tuple(tensors), dim=d)


def hstack(tensors) -> Tensor:
    tensors = _tensor_list(tensors, "hstack")
    return cat(tensors, 0 if tensors[0].dim() == 1 else 1)


def vstack(tensors) -> Tensor:
    return cat([t if t.dim() >= 2 else t.reshape(1, -1) for t in _tensor_list(tensors, "vstack")],
               0)


class SplitBackward0(Node):
    def backward(self, *grads):
        return (cat(list(grads), self.dim),)


class SplitWithSizesBackward0(SplitBackward0):
    pass


class UnbindBackward0(Node):
    def backward(self, *grads):
        return (stack(list(grads), self.dim),)


def split(input, split_size_or_sections, dim=0) -> tuple[Tensor, ...]:
    d = _wrap_dim(dim, input.dim())
    parts = _shape_ops.split(input._data, split_size_or_sections, d)
    cls = SplitBackward0 if isinstance(split_size_or_sections, int) else SplitWithSizesBackward0
    return record(cls, tuple(parts), (input,), view_of=input, dim=d)


def chunk(input, chunks, dim=0) -> tuple[Tensor, ...]:
    d = _wrap_dim(dim, input.dim())
    parts = _shape_ops.chunk(input._data, chunks, d)
    return record(SplitBackward0, tuple(parts), (input,), view_of=input, dim=d)


def unbind(input, dim=0) -> tuple[Tensor, ...]:
    d = _wrap_dim(dim, input.dim())
    parts = input._data.unbind(d)
    if not parts:
        return ()
    return record(UnbindBackward0, tuple(parts), (input,), view_of=input, dim=d)


class SliceBackward0(Node):
    def backward(self, g):
        return (_embed(g, self.shape, self.index),)


class SelectBackward0(SliceBackward0):
    pass


def narrow(input, dim, start, length) -> Tensor:
    d = _wrap_dim(dim, input.dim())
    size = input.shape[d]
    start = int(start)
    if start < 0:
        start += size
    if not 0 <= start <= size or length < 0 or start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({size}).")
    res = input._data.narrow(d, start, length)
    index = (slice(None),) * d + (slice(start, start + length),)
    return record(SliceBackward0, res, (input,), view_of=input, shape=tuple(input.shape),
                  index=index)


def select(input, dim, index) -> Tensor:
    d = _wrap_dim(dim, input.dim())
    res = input._data.select(d, index)
    index = (slice(None),) * d + (int(index),)
    return record(SelectBackward0, res, (input,), view_of=input, shape=tuple(input.shape),
                  index=index)


class FlipBackward0(Node):
    def backward(self, g):
        return (g.flip(self.dims),)


def flip(input, dims) -> Tensor:
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    dims = tuple(_wrap_dim(d, input.dim()) for d in dims)
    res = Array(np.flip(input._data._np, dims).copy())
    return record(FlipBackward0, res, (input,), dims=dims)


class RepeatBackward0(Node):
    def backward(self, g):
        lead = len(self.repeats) - len(self.shape)
        shape = (1,) * lead + tuple(self.shape)
        split_shape = []
        for r, s in zip(self.repeats, shape):
            split_shape += [r, s]
        g = g.reshape(split_shape)
        g = g.sum(tuple(range(0, len(split_shape), 2)))
        return (g.reshape(self.shape),)


def repeat(input, *sizes) -> Tensor:
    sizes = _shape_arg(sizes)
    if len(sizes) < input.dim():
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions "
            "of tensor"
        )
    v = input._data._np.reshape((1,) * (len(sizes) - input.dim()) + input._data._np.shape)
    res = Array(np.tile(v, sizes))
    return record(RepeatBackward0, res, (input,), repeats=tuple(sizes), shape=tuple(input.shape))


TENSOR_METHODS = {
    "view": view, "reshape": reshape, "view_as": view_as, "reshape_as": reshape_as,
    "flatten": flatten, "unflatten": unflatten, "permute": permute, "movedim": movedim,
    "transpose": transpose, "swapaxes": transpose, "swapdims": transpose, "t": t,
    "T": property(_T_prop), "mT": property(_mT), "expand": expand, "expand_as": expand_as,
    "squeeze": squeeze, "unsqueeze": unsqueeze, "clone": clone, "contiguous": contiguous,
    "to": to, "float": _caster(D.float32), "double": _caster(D.float64),
    "half": _caster(D.float16), "long": _caster(D.int64), "int": _caster(D.int32),
    "short": _caster(D.int16), "bool": _caster(D.bool), "byte": _caster(D.uint8),
    "char": _caster(D.int8), "type_as": type_as, "cpu": _device_noop, "cuda": _cuda,
    "split": split, "chunk": chunk, "unbind": unbind, "narrow": narrow, "select": select,
    "flip": flip, "repeat": repeat,
}
FUNCTIONS = {
    "reshape": reshape, "flatten": flatten, "unflatten": unflatten, "permute": permute,
    "movedim": movedim, "transpose": transpose, "swapaxes": transpose, "swapdims": transpose,
    "t": t, "squeeze": squeeze, "unsqueeze": unsqueeze, "clone": clone, "cat": cat,
    "concat": cat, "concatenate": cat, "stack": stack, "hstack": hstack, "vstack": vstack,
    "split": split, "chunk": chunk, "unbind": unbind, "narrow": narrow, "select": select,
    "flip": flip,
}

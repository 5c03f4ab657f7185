"""``Array``: Ember's n-dimensional array with PyTorch semantics and no autograd.

Memory is owned by a NumPy ndarray (``_np``); an Array is a strided view of it, so
``from_numpy``/``numpy()`` share memory and views (``view``, ``permute``, slicing...) never copy.
Compute goes through the Cython kernels in ``ember_tensor._kernels``; this module only
handles metadata, views, indexing and conversion.
"""
import builtins
import operator

import numpy as np

from . import _dtype as D
from ._generated_array_ops import GeneratedArrayMethods
from ._size import size_of

_BY_NP = D._BY_NP


def _shape_arg(shape):
    """Accept ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(Size)``; return a tuple of ints."""
    if len(shape) == 1 and not isinstance(shape[0], (builtins.int, np.integer)):
        shape = shape[0]
        if isinstance(shape, Array):
            shape = shape.tolist()
    try:
        return tuple(operator.index(s) for s in shape)
    except TypeError:
        raise TypeError(
            f"shape must be a sequence of ints, but got {tuple(type(s).__name__ for s in shape)}"
        ) from None


def _wrap_dim(dim, ndim):
    """Normalise a possibly negative dim the way torch does, with torch's IndexError."""
    dim = operator.index(dim)
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    return dim % n


def np_getitem(a: np.ndarray, index) -> np.ndarray:
    """``a[index]`` for a NumPy-ready index, always as an ndarray.

    Where every dim gets an int, NumPy hands back a scalar: a copy, not an array. torch gives
    a 0-d view there (``t[0]``, ``select``, iteration), so a trailing Ellipsis is added; it
    changes no result's shape, and with it NumPy keeps basic indices a view and returns 0-d
    arrays for advanced ones.
    """
    items = index if type(index) is tuple else (index,)
    if not builtins.any(i is Ellipsis for i in items):
        items += (Ellipsis,)
    return a[items]


def _reshape_no_copy(a, shape):
    try:
        return np.reshape(a, shape, copy=False)
    except TypeError:  # NumPy < 2.1 has no copy=; setting .shape refuses to copy there
        out = a.view()
        out.shape = shape
        return out



def _empty_strides(arr: np.ndarray) -> tuple:
    """torch's strides for a tensor with no elements; NumPy reports zeros there.

    torch lays an empty tensor out as if each 0-sized dim had one element (zeros(2, 0, 4) has
    strides (4, 4, 1)); a zero stride would make in-place ops on it refuse the empty write as
    "one memory location, several elements". Dims NumPy keeps non-zero (slices of a
    non-empty array) keep their own stride.
    """
    strides = []
    step = 1
    for size, stride in zip(reversed(arr.shape), reversed(arr.strides)):
        strides.append(stride // arr.itemsize if stride else step)
        step *= max(size, 1)
    return tuple(reversed(strides))

class Array(GeneratedArrayMethods):
    """A strided n-dimensional array. ``Array(ndarray)`` wraps without copying."""

    __slots__ = ("_np", "__weakref__")

    def __init__(self, data):
        if not isinstance(data, np.ndarray):
            if not isinstance(data, np.generic):
                raise TypeError(f"Array wraps a numpy.ndarray, got {type(data).__name__}")
            # NumPy returns a scalar, not a 0-d array, from arithmetic and reductions on 0-d
            # inputs; such a result is a fresh value, so a 0-d array of it is exactly right.
            data = np.asarray(data)
        if data.dtype not in _BY_NP:
            D.from_numpy_dtype(data.dtype)  # refuse dtypes Ember has no name for
        self._np = data

    # ---- metadata -------------------------------------------------------------------------
    @property
    def shape(self):
        return size_of(self._np.shape)

    def size(self, dim=None):
        if dim is None:
            return size_of(self._np.shape)
        return self._np.shape[_wrap_dim(dim, self._np.ndim)] if self._np.ndim else 1

    @property
    def dtype(self):
        # read on every op: a plain dict lookup, the checked conversion only for a miss
        try:
            return _BY_NP[self._np.dtype]
        except KeyError:
            return D.from_numpy_dtype(self._np.dtype)

    @property
    def ndim(self):
        return self._np.ndim

    def dim(self):
        return self._np.ndim

    def numel(self):
        return self._np.size

    nelement = numel

    def element_size(self):
        return self._np.itemsize

    def stride(self, dim=None):
        item = self._np.itemsize
        if self._np.size == 0:
            strides = _empty_strides(self._np)
        else:
            strides = tuple(s // item for s in self._np.strides)
        if dim is None:
            return strides
        return strides[_wrap_dim(dim, self._np.ndim)]

    def _base(self):
        base = self._np
        while isinstance(base.base, np.ndarray):
            base = base.base
        return base

    def storage_offset(self):
        base = self._base()
        start = self._np.__array_interface__["data"][0] - base.__array_interface__["data"][0]
        return start // self._np.itemsize

    def data_ptr(self):
        return self._np.__array_interface__["data"][0]

    def is_contiguous(self):
        if self._np.flags.c_contiguous:
            return True
        # torch ignores the strides of size-1 dims
        expected = 1
        for size, st in zip(reversed(self._np.shape), reversed(self.stride())):
            if size != 1 and st != expected:
                return False
            expected *= size
        return True

    def is_floating_point(self):
        return self.dtype.is_floating_point

    @property
    def device(self):
        return "cpu"

    # ---- conversion -----------------------------------------------------------------------
    def numpy(self):
        return self._np

    def tolist(self):
        return self._np.tolist()

    def item(self):
        if self._np.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._np.size} elements cannot be converted to Scalar"
            )
        return self._np.reshape(()).item()

    def __len__(self):
        if self._np.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._np.shape[0]

    def __iter__(self):
        if self._np.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (Array(np_getitem(self._np, i)) for i in range(self._np.shape[0]))

    def __float__(self):
        return builtins.float(self.item())  # item() refuses more than one element

    def __int__(self):
        return builtins.int(self.item())

    def __bool__(self):
        if self._np.size != 1:
            raise RuntimeError(
                "Boolean value of Tensor with more than one value is ambiguous"
                if self._np.size > 1 else "Boolean value of Tensor with no values is ambiguous"
            )
        return builtins.bool(self.item())

    def __index__(self):
        if self.dtype.is_floating_point or self._np.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return builtins.int(self.item())

    def to(self, dtype=None, copy=False):
        dtype = D.as_dtype(dtype)
        if dtype is None or (dtype is self.dtype and not copy):
            return self
        return Array(self._np.astype(dtype.np))

    def clone(self):
        return Array(self._np.copy(order="C"))

    def contiguous(self):
        if self.is_contiguous():
            return self
        return Array(np.ascontiguousarray(self._np))

    # ---- views ----------------------------------------------------------------------------
    def _infer_shape(self, shape):
        shape = list(shape)
        n = self._np.size
        neg = [i for i, s in enumerate(shape) if s == -1]
        if len(neg) > 1:
            raise RuntimeError("only one dimension can be inferred")
        for s in shape:
            if s < -1:
                raise RuntimeError(f"invalid shape dimension {s}")
        known = 1
        for s in shape:
            if s != -1:
                known *= s
        if neg:
            if known == 0 or n % known:
                raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {n}")
            shape[neg[0]] = n // known
        elif known != n:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {n}")
        return tuple(shape)

    def view(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (D.dtype,)):
            raise NotImplementedError("view(dtype) is not supported by Ember")
        shape = self._infer_shape(_shape_arg(shape))
        try:
            # copy=False makes NumPy refuse rather than copy: exactly torch's view rule
            out = _reshape_no_copy(self._np, shape)
        except (ValueError, AttributeError):
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one "
                "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
            ) from None
        return Array(out)

    def reshape(self, *shape):
        shape = self._infer_shape(_shape_arg(shape))
        return Array(self._np.reshape(shape))

    def view_as(self, other):
        return self.view(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def permute(self, *dims):
        dims = _shape_arg(dims)
        if len(dims) != self._np.ndim:
            raise RuntimeError(
                "permute(sparse_coo): number of dimensions in the tensor input does not match the "
                f"length of the desired ordering of dimensions i.e. input.dim() = {self._np.ndim} "
                f"is not equal to len(dims) = {len(dims)}"
            )
        dims = tuple(_wrap_dim(d, self._np.ndim) for d in dims)
        if len(set(dims)) != len(dims):
            raise RuntimeError("permute(): duplicate dims are not allowed.")
        return Array(self._np.transpose(dims))

    def transpose(self, dim0, dim1):
        if self._np.ndim == 0:
            _wrap_dim(dim0, 0), _wrap_dim(dim1, 0)
            return self
        a, b = _wrap_dim(dim0, self._np.ndim), _wrap_dim(dim1, self._np.ndim)
        return Array(np.swapaxes(self._np, a, b))

    def t(self):
        if self._np.ndim > 2:
            raise RuntimeError(
                f"t() expects a tensor with <= 2 dimensions, but self is {self._np.ndim}D"
            )
        return Array(self._np.T)

    @property
    def T(self):
        return Array(self._np.transpose(tuple(reversed(range(self._np.ndim)))))

    @property
    def mT(self):
        if self._np.ndim < 2:
            raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. "
                               f"Got {self._np.ndim}-D tensor.")
        return Array(np.swapaxes(self._np, -1, -2))

    def expand(self, *sizes):
        sizes = list(_shape_arg(sizes))
        nd = self._np.ndim
        if len(sizes) < nd:
            raise RuntimeError(
                f"expand({self.dtype.name} {{{list(self._np.shape)}}}, size={sizes}): the number "
                "of sizes provided "
                f"({len(sizes)}) must be greater or equal to the number of dimensions in the "
                f"tensor ({nd})"
            )
        lead = len(sizes) - nd
        for i in range(len(sizes)):
            if i >= lead and sizes[i] == -1:
                sizes[i] = self._np.shape[i - lead]
            elif i < lead and sizes[i] < 0:
                raise RuntimeError(
                    f"The expanded size of the tensor ({sizes[i]}) isn't allowed in a leading, "
                    "non-existing dimension 0"
                )
            if i >= lead:
                own = self._np.shape[i - lead]
                if own != 1 and own != sizes[i]:
                    raise RuntimeError(
                        f"The expanded size of the tensor ({sizes[i]}) must match the existing "
                        f"size ({own}) at non-singleton dimension {i}.  Target sizes: {sizes}.  "
                        f"Tensor sizes: {list(self._np.shape)}"
                    )
        return Array(np.broadcast_to(self._np, tuple(sizes)))

    def expand_as(self, other):
        return self.expand(other.shape)

    def squeeze(self, dim=None):
        if dim is None:
            return Array(self._np.reshape([s for s in self._np.shape if s != 1]))
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        dims = {_wrap_dim(d, self._np.ndim) for d in dims}
        keep = [s for i, s in enumerate(self._np.shape) if not (i in dims and s == 1)]
        return Array(self._np.reshape(keep)) if self._np.ndim else self

    def unsqueeze(self, dim):
        dim = _wrap_dim(dim, self._np.ndim + 1)
        return Array(np.expand_dims(self._np, dim))

    def flatten(self, start_dim=0, end_dim=-1):
        nd = self._np.ndim
        if nd == 0:
            return self.reshape(1)
        s, e = _wrap_dim(start_dim, nd), _wrap_dim(end_dim, nd)
        if s > e:
            raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
        shape = self._np.shape
        n = 1
        for x in shape[s:e + 1]:
            n *= x
        return self.reshape(shape[:s] + (n,) + shape[e + 1:])

    def unflatten(self, dim, sizes):
        dim = _wrap_dim(dim, self._np.ndim)
        shape = self._np.shape
        sizes = list(sizes)
        if -1 in sizes:
            known = 1
            for s in sizes:
                if s != -1:
                    known *= s
            sizes[sizes.index(-1)] = shape[dim] // known if known else 0
        n = 1
        for s in sizes:
            n *= s
        if n != shape[dim]:
            raise RuntimeError(
                f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim "
                f"{dim} ({shape[dim]}) in the input tensor"
            )
        return self.reshape(shape[:dim] + tuple(sizes) + shape[dim + 1:])

    def narrow(self, dim, start, length):
        dim = _wrap_dim(dim, self._np.ndim)
        index = [slice(None)] * self._np.ndim
        index[dim] = slice(start, start + length)
        return Array(self._np[tuple(index)])

    def select(self, dim, index):
        dim = _wrap_dim(dim, self._np.ndim)
        size = self._np.shape[dim]
        if not -size <= index < size:
            raise IndexError(
                f"select(): index {index} out of range for tensor of size "
                f"{list(self._np.shape)} at dimension {dim}"
            )
        idx = (slice(None),) * dim + (builtins.int(index),)
        return Array(np_getitem(self._np, idx))

    def unbind(self, dim=0):
        return tuple(self.select(dim, i) for i in range(self.size(dim)))

    # ---- indexing -------------------------------------------------------------------------
    def __getitem__(self, index):
        from ._indexing import getitem

        return getitem(self, index)

    def __setitem__(self, index, value):
        from ._indexing import setitem

        setitem(self, index, value)

    # ---- printing -------------------------------------------------------------------------
    def __repr__(self):
        from ._printing import format_tensor

        return format_tensor(self)

    def __format__(self, spec):
        if self._np.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __array__(self, dtype=None, copy=None):
        return self._np if dtype is None else self._np.astype(dtype)

    def __reduce__(self):
        return (Array, (self._np,))


def _install_operators():
    """Attach arithmetic dunders and op methods; kept apart so ops can import Array freely."""
    from . import _array_methods

    _array_methods.install(Array)

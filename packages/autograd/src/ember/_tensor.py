"""``ember.Tensor``: an ``ember_tensor.Array`` plus the autograd state torch users expect.

Computation lives in ``ember._ops`` (installed as methods by ``_ops.install``); this module
holds the state (``requires_grad``, ``grad``, ``grad_fn``, the version counter shared with
views), conversions, hooks and ``backward``.
"""
import builtins
import re
import warnings

import numpy as np

import ember_tensor as et
from ember_tensor import Array
from ember_tensor import _dtype as D

from . import _grad_mode as grad_mode
from ._core.tensor_base import _REQUIRES_GRAD_DTYPE, TensorBase  # noqa: F401 - re-exported
from ._device import CPU
from ._generated_tensor_ops import GeneratedTensorMethods
from ._hooks import RemovableHandle, _HookDict

_NONLEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
    "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
    "instead. See github.com/pytorch/pytorch/pull/30531 for more information."
)

def _tensor_new_args(args):
    """torch.Tensor(...) legacy constructor: sizes, a sequence/ndarray, or a tensor."""
    if not args:
        return Array(np.empty((0,), dtype=D.get_default_dtype().np))
    if len(args) == 1:
        x = args[0]
        if isinstance(x, Tensor):
            return x._data
        if isinstance(x, Array):
            return x
        if isinstance(x, (list, tuple)) and not isinstance(x, et.Size):
            return et.tensor(_unwrap_nested(x), dtype=D.get_default_dtype())
        if isinstance(x, np.ndarray):
            return et.tensor(x, dtype=D.get_default_dtype())
        if isinstance(x, et.Size):
            return et.empty(*x)
    if all(isinstance(a, (builtins.int, np.integer)) for a in args):
        return et.empty(*args)
    raise TypeError(
        f"new() received an invalid combination of arguments - got "
        f"({', '.join(type(a).__name__ for a in args)})"
    )


def _unwrap_nested(x):
    if isinstance(x, Tensor):
        return x._data
    if isinstance(x, (list, tuple)):
        return [_unwrap_nested(v) for v in x]
    return x


def _type_name(data):
    """torch's legacy name of a tensor's type and shape, as in its version-counter error."""
    return f"[torch.{data.dtype.torch_name}Tensor [{', '.join(str(s) for s in data.shape)}]]"


def check_inplace(tensor):
    """Raise torch's error before an in-place op mutates a leaf that requires grad."""
    if tensor._requires_grad and tensor.grad_fn is None and grad_mode._state.grad_enabled:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation."
        )


def check_view_inplace(tensor, grad_enabled: bool) -> None:
    """torch's refusals for an in-place op on a view, before anything is written."""
    arr = tensor._data._np
    if 0 in arr.strides and arr.size and any(  # expanded: one memory location, several elements
            stride == 0 and n > 1 for n, stride in zip(arr.shape, arr.strides)):
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers "
            "to a single memory location. Please clone() the tensor before performing "
            "the operation.")
    base = tensor._base
    if base is None or not grad_enabled:
        return
    if base._requires_grad and base.grad_fn is None:
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place "
            "operation.")
    if tensor.__dict__.get("_multi_output_view") and tensor._requires_grad:
        fn = tensor.grad_fn
        name = re.sub(r"Backward\d*$", "", fn.name()) if fn is not None else "a function"
        raise RuntimeError(
            f"Output {tensor._output_nr} of {name} is a view and is being modified inplace. "
            "This view is the output of a function that returns multiple views. Such "
            "functions do not allow the output views to be modified inplace. You should "
            "replace the inplace operation by an out-of-place one.")


class Tensor(TensorBase, GeneratedTensorMethods):
    """A multi-dimensional array that records the operations on it for differentiation.

    Its fields, construction (``_init``/``_make``) and the getters every op reads
    (``requires_grad``, ``grad_fn``, ``is_leaf``, ``shape``, ``dtype``, ...) are compiled in
    ``ember._core.tensor_base.TensorBase``; the rest is here, in Python.
    """

    __module__ = "ember"
    # Rare, so not a field: a class-level None the instance __dict__ shadows once registered.
    _post_accumulate_grad_hooks = None

    def __init__(self, *args, **kwargs):
        if kwargs:
            bad = next(iter(kwargs))
            raise TypeError(
                f"new() received an invalid combination of arguments - got an unexpected "
                f"keyword argument '{bad}'"
            )
        self._init(_tensor_new_args(args))

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    @property
    def grad(self):
        if self.grad_fn is not None and not self._retains_grad:
            warnings.warn(_NONLEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad expected to be a Tensor or None but got grad of type "
                    f"{type(value).__name__}"
                )
            if tuple(value.shape) != tuple(self.shape):
                raise RuntimeError("assigned grad has data of a different size")
            if value.dtype is not self.dtype:
                raise RuntimeError("assigned grad has data of a different type")
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    def retain_grad(self):
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        self._retains_grad = True
        self.grad_fn._add_retain_grad(self._output_nr, self)

    def register_hook(self, hook):
        """``hook(grad)`` runs when the gradient of this tensor is computed; it may return a
        replacement gradient. Returns a handle with ``remove()``."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn._add_tensor_hook(self._output_nr, hook)
        if self._hooks is None:
            self._hooks = _HookDict()
        handle = RemovableHandle(self._hooks)
        self._hooks[handle.id] = hook
        return handle

    def register_post_accumulate_grad_hook(self, hook):
        """``hook(tensor)`` runs after this leaf's gradient has been accumulated into
        ``.grad`` during backward (data-parallel training starts communication there).
        Returns a handle with ``remove()``."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors")
        if self._post_accumulate_grad_hooks is None:
            self._post_accumulate_grad_hooks = _HookDict()
        handle = RemovableHandle(self._post_accumulate_grad_hooks)
        self._post_accumulate_grad_hooks[handle.id] = hook
        return handle

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        if inputs is not None and isinstance(inputs, Tensor):
            inputs = (inputs,)
        # the one upward call of the bottom class: ember.autograd is above this module (it
        # builds on Tensor), so it is looked up when backward runs, after ember is imported.
        # The absolute form resolves in C; `from . import autograd` runs importlib's Python
        # _handle_fromlist, ~0.4 us a call on the tiny-autograd benchmark's ~50 us backward.
        import ember.autograd as autograd

        autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self):
        t = Tensor._make(self._data)
        t._version_counter = self._version_counter
        return t

    def detach_(self):
        if self.grad_fn is not None and self._data is not None:
            pass
        self.grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self):
        return self.detach()

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, not {type(value).__name__}")
        self._data = value._data

    def is_inference(self):
        return self._inference

    # ---- metadata -------------------------------------------------------------------------
    def size(self, dim=None):
        return self._data.size(dim)

    ndimension = TensorBase.dim
    nelement = TensorBase.numel

    @property
    def device(self):
        return CPU

    @property
    def is_cuda(self):
        return False

    @property
    def layout(self):
        return "torch.strided"


    def stride(self, dim=None):
        return self._data.stride(dim)

    def storage_offset(self):
        return self._data.storage_offset()

    def is_contiguous(self, memory_format=None):
        return self._data.is_contiguous()

    def element_size(self):
        return self._data._np.itemsize

    @property
    def itemsize(self):
        return self._data._np.itemsize

    @property
    def nbytes(self):
        return self._data._np.nbytes

    def data_ptr(self):
        return self._data.data_ptr()

    def is_floating_point(self):
        return self._data.dtype.is_floating_point

    def is_complex(self):
        return False

    def get_device(self):
        return -1

    def type(self, dtype=None):
        if dtype is None:
            return f"torch.{self._data.dtype.torch_name}Tensor"
        return self.to(dtype)

    # ---- conversion -----------------------------------------------------------------------
    def item(self):
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def numpy(self, force=False):
        if self._requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        return self._data._np

    def _scalar(self):
        if self._data._np.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self._data._np.reshape(()).item()

    def __float__(self):
        return builtins.float(self._scalar())

    def __int__(self):
        return builtins.int(self._scalar())

    def __bool__(self):
        return self._data.__bool__()

    def __index__(self):
        return self._data.__index__()

    def __complex__(self):
        return complex(self._scalar())

    def __len__(self):
        if self._data._np.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data._np.shape[0]

    def __iter__(self):
        if self._data._np.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __hash__(self):
        return id(self)

    def __array__(self, dtype=None, copy=None):
        arr = self._data._np
        return arr if dtype is None else arr.astype(dtype)

    def __format__(self, spec):
        # as torch: a plain 0-d Tensor formats its number, even for f"{t}" ("2.5", not the
        # repr); anything else formats as object does (str(t), or TypeError for a spec)
        if self._data._np.ndim == 0 and type(self) is Tensor:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __reduce_ex__(self, protocol):
        return (_rebuild, (np.array(self._data._np), self._requires_grad))

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the "
                "deepcopy protocol at the moment.  If you were attempting to deepcopy a "
                "module, this may be because of a torch.nn.utils.weight_norm usage, see "
                "https://github.com/pytorch/pytorch/pull/103001"
            )
        if id(self) in memo:
            return memo[id(self)]
        new = type(self).__new__(type(self))
        Tensor._init(new, self._data.clone(), self._requires_grad)
        for k, v in getattr(self, "__dict__", {}).items():
            import copy

            setattr(new, k, copy.deepcopy(v, memo))
        if self._grad is not None:
            new._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = new
        return new

    # ---- printing -------------------------------------------------------------------------
    def _repr_suffixes(self):
        if self.grad_fn is not None:
            return [f"grad_fn=<{self.grad_fn.name()}>"]
        if self._requires_grad:
            return ["requires_grad=True"]
        return []

    def __repr__(self, *, tensor_contents=None):
        return _format(self._data, self._repr_suffixes())

    __str__ = __repr__

    # ---- in-place helpers used by ops -----------------------------------------------------
    def _check_inplace(self):
        check_inplace(self)
        check_view_inplace(self, grad_mode._state.grad_enabled)
        if self._inference and not grad_mode._state.inference:
            raise RuntimeError(
                "Inplace update to inference tensor outside InferenceMode is not allowed.You "
                "can make a clone to get a normal tensor before doing inplace update.See "
                "https://github.com/pytorch/rfcs/pull/17 for more details."
            )


def _format(array, suffixes):
    try:
        from ember_tensor._printing import format_tensor
    except ImportError:  # printing not available yet: a plain fallback
        body = np.array2string(array._np, separator=", ")
        extra = "".join(", " + s for s in suffixes)
        return f"tensor({body}{extra})"
    return format_tensor(array, suffixes)


def _rebuild(ndarray, requires_grad):
    t = Tensor._make(Array(ndarray))
    t._requires_grad = requires_grad
    return t


def is_tensor(obj):
    return isinstance(obj, Tensor)

"""Tensor factories (``tensor``, ``zeros``, ``rand``, ...) with torch's keyword arguments
(``dtype=``, ``device=``, ``requires_grad=``), built on ember_tensor's Array factories."""
import operator
from typing import Callable

import numpy as np

import ember_tensor as et
from ember_tensor import Array
from ember_tensor import _dtype as D

from ._device import FACTORY, LIKE, TENSOR, default_is_set
from ._device import check as check_device
from ._tensor import _REQUIRES_GRAD_DTYPE, Tensor


def _finish(array, requires_grad, device=None, op=FACTORY):
    check_device(device, op)
    t = Tensor._make(array)
    if requires_grad:
        if not array.dtype.is_floating_point:
            raise RuntimeError(_REQUIRES_GRAD_DTYPE)
        t._requires_grad = True
    return t


_PLAIN_SCALARS = frozenset((bool, int, float))


def _flat_plain(data):
    """True for a list/tuple of Python bools/ints/floats only (the usual literal)."""
    return (type(data) is list or type(data) is tuple) and _PLAIN_SCALARS.issuperset(
        map(type, data))


def _unwrap(data):
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, (list, tuple)):
        if _flat_plain(data):  # numbers only: nothing to unwrap
            return data
        return [_unwrap_element(x) for x in data]
    return data


def _unwrap_element(x):
    """A tensor inside a list is one number to torch, as ``x.item()`` sees it (keeping its
    dtype): ``tensor([t1, t2])`` of multi-element tensors raises, where stacking them would
    let code written on Ember break on torch."""
    if not isinstance(x, Tensor):
        return _unwrap(x)
    if x.numel() != 1:
        raise ValueError("only one element tensors can be converted to Python scalars")
    if x.requires_grad:
        import warnings

        warnings.warn("Converting a tensor with requires_grad=True to a scalar may lead to "
                      "unexpected behavior.\nConsider using tensor.detach() first.",
                      UserWarning, stacklevel=4)
    return Array(x._data._np.reshape(()))


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    if (dtype is None and device is None and (type(data) is list or type(data) is tuple)
            and not default_is_set()):
        fast = _flat_float_tensor(data, requires_grad)
        if fast is not None:
            return fast
    if isinstance(data, Tensor):
        import warnings

        warnings.warn(
            "To copy construct from a tensor, it is recommended to use "
            "sourceTensor.detach().clone() or sourceTensor.detach().clone().requires_grad_(True), "
            "rather than torch.tensor(sourceTensor).", UserWarning, stacklevel=2)
    data = _unwrap(data)
    array = et.tensor(data, dtype=dtype)
    if array._np.ndim and _is_scalar_data(data):  # a scalar makes a 0-d tensor
        array = Array(array._np.reshape(()))
    return _finish(array, requires_grad, device, TENSOR)


def _flat_float_tensor(data, requires_grad):
    """``tensor([2., 3.])``, the most common literal, without the general inference; None
    sends anything else (nesting, ints only, overflow) down the general path and its errors."""
    kinds = set(map(type, data))
    if float not in kinds or not kinds <= _PLAIN_SCALARS:
        return None
    try:
        arr = np.array(data, dtype=D.get_default_dtype().np)
    except (OverflowError, ValueError, TypeError):
        return None
    array = _new(Array)
    array._np = arr
    return Tensor._make(array, requires_grad)


_new = object.__new__


def _is_scalar_data(data):
    if isinstance(data, Array):
        return data._np.ndim == 0
    if isinstance(data, (list, tuple)):
        return False
    return np.ndim(data) == 0


def as_tensor(data, dtype=None, device=None) -> Tensor:
    if isinstance(data, Tensor):
        check_device(device, TENSOR)
        dtype = D.as_dtype(dtype)
        return data if dtype in (None, data.dtype) else data.to(dtype)
    return _finish(et.as_tensor(_unwrap(data), dtype=dtype), False, device, TENSOR)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False) -> Tensor:
    if copy:
        t = tensor(obj, dtype=dtype, device=device)
    else:
        t = as_tensor(obj, dtype=dtype, device=device)
    if requires_grad:
        t.requires_grad_()
    return t


def from_numpy(ndarray) -> Tensor:
    return Tensor._make(et.from_numpy(ndarray))


_NO_SIZE = object()


def _size_args(name, args, size, bare):
    """The shape arguments of ``zeros(2, 3)``, ``zeros((2, 3))`` or ``zeros(size=(2, 3))``,
    refused with the TypeError torch's argument parser gives (``bare``: no keywords given)."""
    if size is _NO_SIZE:
        if args:
            return args
        if bare and name in ("rand", "randn"):  # torch's overloads: no argument to name
            raise TypeError(f"{name}() received an invalid combination of arguments - got ()")
        raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
    if args:
        if name in ("rand", "randn"):
            got = ", ".join(type(a).__name__ for a in args)
            raise TypeError(f"{name}() received an invalid combination of arguments - got "
                            f"({got}, size={type(size).__name__})")
        raise TypeError(f"{name}() got multiple values for argument 'size'")
    try:
        if not isinstance(size, (tuple, list)):
            raise TypeError
        return (tuple(operator.index(s) for s in size),)
    except TypeError:
        raise TypeError(f"{name}(): argument 'size' must be tuple of ints, not "
                        f"{type(size).__name__}") from None


def _sized(factory: Callable[..., Array]) -> Callable[..., Tensor]:
    name = factory.__name__

    def fn(*args, size=_NO_SIZE, out=None, dtype=None, layout=None, device=None,
           requires_grad=False, pin_memory=False, memory_format=None, generator=None) -> Tensor:
        kwargs = {"dtype": dtype}
        if generator is not None:
            kwargs["generator"] = generator
        bare = (out is None and dtype is None and layout is None and device is None
                and not requires_grad and generator is None)
        array = factory(*_size_args(name, args, size, bare), **kwargs)
        return _finish(array, requires_grad, device)
    fn.__name__ = fn.__qualname__ = name
    return fn


zeros = _sized(et.zeros)
ones = _sized(et.ones)
empty = _sized(et.empty)
rand = _sized(et.rand)
randn = _sized(et.randn)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False) -> Tensor:
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _finish(et.full(size, fill_value, dtype=dtype), requires_grad, device)


def _like(factory: Callable[..., Array]) -> Callable[..., Tensor]:
    def fn(input, *, dtype=None, layout=None, device=None, requires_grad=False,
           memory_format=None) -> Tensor:
        check_device(device, LIKE, default=False)  # the input's device, not the default
        return _finish(factory(input._data, dtype=dtype), requires_grad, "cpu")
    fn.__name__ = factory.__name__
    return fn


zeros_like = _like(et.zeros_like)
ones_like = _like(et.ones_like)
empty_like = _like(et.empty_like)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    check_device(device, LIKE, default=False)
    return _finish(et.full_like(input._data, fill_value, dtype=dtype), requires_grad, "cpu")


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    check_device(device, LIKE, default=False)
    return rand(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad,
                device="cpu")


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    check_device(device, LIKE, default=False)
    return randn(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad,
                 device="cpu")


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False) -> Tensor:
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    return _finish(et.randint(low, high, size, generator=generator, dtype=dtype), requires_grad,
                   device)


def randint_like(input, low=0, high=None, *, dtype=None, device=None,
                 requires_grad=False) -> Tensor:
    check_device(device, LIKE, default=False)
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype, device="cpu")


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(et.randperm(n, generator=generator, dtype=dtype), requires_grad, device)


def arange(start, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    return _finish(et.arange(*vals, dtype=dtype), requires_grad, device)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    return _finish(et.linspace(start, end, steps, dtype=dtype), requires_grad, device)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None,
        requires_grad=False) -> Tensor:
    return _finish(et.eye(n, m, dtype=dtype), requires_grad, device)


def _own(device):
    """new_* put the result on self's device (the CPU), never on the default device."""
    return "cpu" if device is None else device


def _new_factory(factory):
    def method(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        return factory(*size, dtype=dtype or self.dtype, device=_own(device),
                       requires_grad=requires_grad)
    return method


def _new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return full(size, fill_value, dtype=dtype or self.dtype, device=_own(device),
                requires_grad=requires_grad)


def _new_tensor(self, data, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return tensor(data.detach() if isinstance(data, Tensor) else data,
                  dtype=dtype or self.dtype, device=_own(device), requires_grad=requires_grad)


def _inplace_random(kernel_fn):
    def method(self, *args, generator=None, **kwargs):
        self._check_inplace()
        args = [getattr(a, "_data", a) for a in args]  # bernoulli_(p) takes a tensor p too
        kernel_fn(self._data, *args, generator=generator, **kwargs)
        self._version_counter[0] += 1
        return self
    return method


def _random_method(self, from_=0, to=None, *, generator=None):
    self._check_inplace()
    if to is None:
        from_, to = 0, from_
    self._data._np[...] = et.randint(from_, to, tuple(self.shape), generator=generator)._np
    self._version_counter[0] += 1
    return self


TENSOR_METHODS = {
    "new_zeros": _new_factory(zeros), "new_ones": _new_factory(ones),
    "new_empty": _new_factory(empty), "new_full": _new_full, "new_tensor": _new_tensor,
    "uniform_": _inplace_random(et.uniform_), "normal_": _inplace_random(et.normal_),
    "bernoulli_": _inplace_random(et.bernoulli_), "random_": _random_method,
}
np  # noqa: B018 - numpy kept for users of this module's namespace
Array  # noqa: B018

"""Types of the compiled TensorBase (tensor_base.pyx): the fields and properties every
ember.Tensor has in C. tests/packaging/test_type_stubs.py checks it names them all."""
from typing import Any

from ember_tensor import Array, Size, dtype as _dtype

_REQUIRES_GRAD_DTYPE: str


class TensorBase:
    _data: Array
    _requires_grad: bool
    _grad: Any
    grad_fn: Any
    _version_counter: list[int]
    _output_nr: int
    _hooks: Any
    _accumulator: Any
    _retains_grad: bool
    _inference: bool
    _base: Any
    _views: Any

    def _init(self, data: Any, requires_grad: bool = ...) -> None: ...
    @classmethod
    def _make(cls, array: Array, requires_grad: bool = ...) -> Any: ...
    @property
    def requires_grad(self) -> bool: ...
    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None: ...
    @property
    def is_leaf(self) -> bool: ...
    @property
    def _version(self) -> int: ...
    @property
    def output_nr(self) -> int: ...
    @property
    def retains_grad(self) -> bool: ...
    @property
    def shape(self) -> Size: ...
    @property
    def dtype(self) -> _dtype: ...
    @property
    def ndim(self) -> int: ...
    def dim(self) -> int: ...
    def numel(self) -> int: ...

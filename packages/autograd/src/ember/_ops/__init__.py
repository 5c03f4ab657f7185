"""Differentiable ops: each computes on Arrays and calls ``_core.node.record``.

Every module exports ``TENSOR_METHODS`` (method name -> function taking the tensor first)
and ``FUNCTIONS`` (names for the top-level ``ember`` namespace). ``install`` attaches the
methods to the class ``Tensor`` inherits its generated methods from (their stubs are there
too: ``tools/generate_ops.py`` writes them from these tables); the functions reach ``ember``
through ``ember._namespace``, which the same script writes as plain imports. The ops the
elementwise table declares whole (``generated``) need neither: ``Tensor`` inherits their
methods, and ``ember`` imports their functions.
"""
import importlib

from .. import _creation
from .._generated_tensor_ops import GeneratedTensorMethods

_MODULES: tuple[str, ...] = ("elementwise", "reduction", "shape", "indexing", "linalg",
                             "softmax_forms", "linalg_extra", "einsum", "random_sampling")
_MODULES += ("sorting", "scatter", "counting", "diagonal")


def attached_methods() -> dict:
    """Every ``TENSOR_METHODS`` entry (and the factories' ``new_*``/random in-place methods)."""
    methods: dict = {}
    for name in _MODULES:
        methods.update(importlib.import_module(f"ember._ops.{name}").TENSOR_METHODS)
    methods.update(_creation.TENSOR_METHODS)
    return methods


def install(cls: type) -> None:
    """Attach the methods to ``cls``'s generated base, where its stub declares them; ``cls``
    itself defines none of them (asserted: the base would not override it)."""
    assert GeneratedTensorMethods in cls.__mro__
    for method, fn in attached_methods().items():
        assert method not in vars(cls), method
        setattr(GeneratedTensorMethods, method, fn)

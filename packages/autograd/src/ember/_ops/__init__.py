"""Differentiable ops: each computes on Arrays and calls ``autograd.node.record``.

Every module exports ``TENSOR_METHODS`` (method name -> function taking the tensor first)
and ``FUNCTIONS`` (names for the top-level ``ember`` namespace); ``install`` attaches the
methods to ``Tensor``. The ops the elementwise table declares whole (``generated``) need
neither: ``Tensor`` inherits their methods, and ``ember`` imports their functions.
"""
import importlib

_MODULES = ("elementwise", "reduction", "shape", "indexing", "linalg", "softmax_forms",
            "linalg_extra", "einsum", "random_sampling")
_MODULES += ("sorting", "scatter", "counting", "diagonal")


def install(cls):
    for name in _MODULES:
        module = importlib.import_module(f"ember._ops.{name}")
        for method, fn in module.TENSOR_METHODS.items():
            setattr(cls, method, fn)


def functions():
    out = {}
    for name in _MODULES:
        module = importlib.import_module(f"ember._ops.{name}")
        out.update(module.FUNCTIONS)
    from .generated import FUNCTIONS as generated  # the table's ops: out= written in
    from .out_forms import wrap

    return {**wrap(out), **generated}

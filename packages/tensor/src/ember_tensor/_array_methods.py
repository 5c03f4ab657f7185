"""Gives ``Array`` its op methods and operators.

Each ops module exports ``ARRAY_METHODS`` (method name -> function taking the array first);
this module attaches them all, so ops modules never edit ``_array.py`` and can import
``Array`` without a cycle.
"""
import importlib

_OPS_MODULES = (
    "ember_tensor._shape_ops",
    "ember_tensor.elementwise",
    "ember_tensor.reduction",
    "ember_tensor.linalg",
    "ember_tensor.sorting", "ember_tensor.scatter", "ember_tensor.counting",
    "ember_tensor.diagonal",
)


def install(cls):
    for name in _OPS_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name != name:  # a real import error inside the module: surface it
                raise
            continue
        for method, fn in getattr(module, "ARRAY_METHODS", {}).items():
            setattr(cls, method, fn)

"""Gives ``Array`` its op methods and operators.

Each ops module exports ``ARRAY_METHODS`` (method name -> function taking the array first);
this module attaches them all to the class ``Array`` inherits its generated methods from
(whose stub, written by ``tools/generate_ops.py`` from these tables, declares them), so ops
modules never edit ``_array.py`` and can import ``Array`` without a cycle.
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


def attached_methods() -> dict:
    """Every ``ARRAY_METHODS`` entry of the ops modules."""
    methods: dict = {}
    for name in _OPS_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name != name:  # a real import error inside the module: surface it
                raise
            continue
        methods.update(getattr(module, "ARRAY_METHODS", {}))
    return methods


def install(cls: type) -> None:
    """Attach the methods to ``cls``'s generated base; ``cls`` defines none of them itself
    (asserted: the base would not override it)."""
    from ._generated_array_ops import GeneratedArrayMethods

    assert GeneratedArrayMethods in cls.__mro__
    for method, fn in attached_methods().items():
        assert method not in vars(cls), method
        setattr(GeneratedArrayMethods, method, fn)

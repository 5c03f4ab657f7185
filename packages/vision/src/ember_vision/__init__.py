"""ember_vision: torchvision's models, weights, transforms and datasets for Ember.

``import ember_vision as torchvision`` gives ``torchvision.models``, ``.transforms``,
``.datasets``, ``.io``, ``.utils`` (loaded on first use, so ``import ember_vision`` stays
cheap).
"""
import importlib

__version__ = "0.1.0"

_SUBMODULES = ("models", "transforms", "datasets", "hub", "io", "utils", "ops")


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_SUBMODULES))

"""``ember.nn``: layers, their functional forms, initialisers and utilities (torch.nn's API)."""
from . import functional, init, utils
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _modules_all
from .parameter import Parameter
from . import parallel  # noqa: E402  (after modules: DistributedDataParallel is one)

__all__ = ["Parameter", "functional", "init", "utils"] + list(_modules_all)

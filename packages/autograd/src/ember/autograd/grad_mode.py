"""``torch.autograd.grad_mode``: the grad modes, defined in ``ember._grad_mode``.

They live below ``ember.autograd`` because ``ember.Tensor`` (which this package builds on)
reads the thread-local flags whenever a tensor is made.
"""
from .._grad_mode import (  # noqa: F401 - re-exported
    __all__, _set_enabled, _state, enable_grad, inference_mode, is_grad_enabled,
    is_inference_mode_enabled, no_grad, set_grad_enabled,
)

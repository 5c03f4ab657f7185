"""``BatchNorm1d`` / ``BatchNorm2d``: batch statistics in training, running ones in eval.

The repr follows the tutorial's text (``BatchNorm2d(64, eps=1e-05, momentum=0.1,
affine=True, track_running_stats=True)``): recent torch also prints ``bias=True``; Ember
prints ``bias=`` only when there is no bias, the one case where it tells the reader something.
"""
import numpy as np
from ember_tensor import Array

from ..._tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ._util import empty, ones, zeros
from .module import Module, registry_reads

__all__ = ["BatchNorm1d", "BatchNorm2d"]


def _long_scalar(value=0):
    # built from a 0-d ndarray directly: the count is a 0-d int64 tensor, as in torch
    return Tensor._make(Array(np.array(value, dtype=np.int64)))


class _NormBase(Module):
    # version 2 added num_batches_tracked; older checkpoints lack it
    _version = 2

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(empty(num_features, dtype=dtype, device=device))
            if bias:
                self.bias = Parameter(empty(num_features, dtype=dtype, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var", ones(num_features, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked", _long_scalar(0))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input_dim(self, input):
        raise NotImplementedError

    def extra_repr(self):
        bias = "" if self.bias is not None else "bias=False, "
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, {bias}track_running_stats={self.track_running_stats}")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        version = local_metadata.get("version", None)
        if (version is None or version < 2) and self.track_running_stats:
            key = prefix + "num_batches_tracked"
            if key not in state_dict:
                state_dict[key] = (self.num_batches_tracked
                                   if self.num_batches_tracked is not None else _long_scalar(0))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)


_PARAMS = ("weight", "bias")
_BUFFERS = frozenset(("running_mean", "running_var", "num_batches_tracked"))
_NAMES = frozenset(_PARAMS) | _BUFFERS


def _registered(module):
    """``(weight, bias, running_mean, running_var, num_batches_tracked)`` as attribute reads
    would give them, from the registries, when those reads would reach ``Module.__getattr__``
    (each read there first fails the normal lookup, ~0.5 us, five a BatchNorm a step); else
    None, and the caller reads the attributes (in its order, for the same errors)."""
    d = module.__dict__
    if registry_reads(type(module), _NAMES) and _NAMES.isdisjoint(d):
        p, b = d["_parameters"], d["_buffers"]
        if _BUFFERS.isdisjoint(p):  # __getattr__ looks in _parameters first
            try:
                return (p["weight"], p["bias"], b["running_mean"], b["running_var"],
                        b["num_batches_tracked"])
            except KeyError:  # one was deleted: the attribute reads say what remains
                pass
    return None


class _BatchNorm(_NormBase):
    def forward(self, input):
        self._check_input_dim(input)
        regs = _registered(self)
        momentum = self.momentum
        factor = 0.0 if momentum is None else momentum
        running_mean, running_var = (
            (self.running_mean, self.running_var) if regs is None else regs[2:4])
        training = self.training
        if training and self.track_running_stats:
            nbt = self.num_batches_tracked if regs is None else regs[4]
            if nbt is not None:
                count = nbt._data._np
                count[()] = count.item() + 1  # a Python int: no NumPy scalar op (0.6 us)
                nbt._version_counter[0] += 1
                if momentum is None:  # cumulative moving average
                    factor = 1.0 / float(nbt._data._np)
        bn_training = training or (running_mean is None and running_var is None)
        use_buffers = not training or self.track_running_stats
        weight, bias = (self.weight, self.bias) if regs is None else regs[:2]
        return F.batch_norm(input, running_mean if use_buffers else None,
                            running_var if use_buffers else None, weight, bias,
                            bn_training, factor, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over (N, C) or (N, C, L) input."""

    def _check_input_dim(self, input):
        if input.dim() != 2 and input.dim() != 3:
            raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over (N, C, H, W) input."""

    def _check_input_dim(self, input):
        if input.dim() != 4:
            raise ValueError(f"expected 4D input (got {input.dim()}D input)")

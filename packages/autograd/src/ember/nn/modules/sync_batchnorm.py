"""``SyncBatchNorm``: batch normalisation whose statistics cover the global batch, all ranks.

In training under an initialised process group of more than one rank, each rank computes
its per-channel count, mean and sum of squared deviations, one ``all_gather`` combines them
(Chan's parallel formula, in float64) into the global mean and variance, and the running
statistics are updated from those (unbiased variance over the global count) exactly as
BatchNorm on the whole batch would. Backward all-reduces the two per-channel sums the input
gradient needs (sum of dy, sum of dy * (x - mean)); the weight and bias gradients stay
local, as in torch, and DistributedDataParallel averages them with the others. Outside that
case (eval, one rank, no process group) it is plain batch normalisation.

Unlike torch, which accepts only GPU tensors here, Ember's SyncBatchNorm runs on the CPU:
the CPU is the only device Ember has.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np
from ember_tensor import Array

from ... import distributed as dist
from ..._tensor import Tensor
from ...autograd.function import Function
from .batchnorm import _BatchNorm

__all__ = ["SyncBatchNorm"]


def _channels_last(a: np.ndarray) -> np.ndarray:
    """(N, C, *) as (M, C): every value of channel c in column c."""
    return np.moveaxis(a, 1, -1).reshape(-1, a.shape[1])


def _per_channel(v: np.ndarray, ndim: int) -> np.ndarray:
    """A (C,) vector shaped to broadcast against (N, C, *)."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def _tensor(a: np.ndarray) -> Tensor:
    return Tensor._make(Array(np.ascontiguousarray(a)))


def _global_stats(x: np.ndarray, world_size: int, group: Any) -> tuple:
    """(count, mean, biased var) per channel over every rank's ``x``, all float64."""
    c = x.shape[1]
    flat = _channels_last(x).astype(np.float64)
    n = flat.shape[0]
    mean = flat.mean(axis=0) if n else np.zeros(c)
    m2 = ((flat - mean) ** 2).sum(axis=0)
    mine = np.concatenate([[float(n)], mean, m2])
    gathered = [_tensor(np.zeros_like(mine)) for _ in range(world_size)]
    dist.all_gather(gathered, _tensor(mine), group=group)
    count, g_mean, g_m2 = 0.0, np.zeros(c), np.zeros(c)
    for t in gathered:  # Chan et al.'s pairwise combination of (count, mean, M2)
        row = t._data._np
        nb, mb, m2b = row[0], row[1:c + 1], row[c + 1:]
        if nb == 0:
            continue
        total = count + nb
        delta = mb - g_mean
        g_mean = g_mean + delta * (nb / total)
        g_m2 = g_m2 + m2b + delta ** 2 * (count * nb / total)
        count = total
    if count == 0:
        raise ValueError("SyncBatchNorm: the input of every rank is empty")
    return count, g_mean, g_m2 / count


class _Functions:
    # a namespace, so that the node is called SyncBatchNormBackward, as torch's is
    class SyncBatchNorm(Function):
        @staticmethod
        def forward(ctx: Any, input: Tensor, weight: Optional[Tensor], bias: Optional[Tensor],
                    running_mean: Optional[Tensor], running_var: Optional[Tensor], eps: float,
                    momentum: float, group: Any, world_size: int) -> Tensor:
            x = input._data._np
            count, mean, var = _global_stats(x, world_size, group)
            if count <= 1:
                raise ValueError("Expected more than 1 value per channel when training, "
                                 f"got input size {list(x.shape)}")
            invstd = 1.0 / np.sqrt(var + eps)
            if running_mean is not None:
                rm = running_mean._data._np
                rm[...] = (1 - momentum) * rm + momentum * mean
                running_mean._version_counter[0] += 1
            if running_var is not None:
                rv = running_var._data._np
                rv[...] = (1 - momentum) * rv + momentum * var * (count / (count - 1))
                running_var._version_counter[0] += 1
            scale = invstd if weight is None else invstd * weight._data._np
            shift = -mean * scale + (0.0 if bias is None else bias._data._np)
            y = x * _per_channel(scale, x.ndim) + _per_channel(shift, x.ndim)
            ctx.save_for_backward(input, weight)
            ctx.mean, ctx.invstd, ctx.count = mean, invstd, count
            ctx.group = group
            return _tensor(y.astype(x.dtype, copy=False))

        @staticmethod
        def backward(ctx: Any, grad_output: Tensor) -> tuple:
            input, weight = ctx.saved_tensors
            x, dy = input._data._np, grad_output._data._np
            nd = x.ndim
            xmu = _channels_last(x).astype(np.float64) - ctx.mean
            dyf = _channels_last(dy).astype(np.float64)
            sums = np.concatenate([dyf.sum(axis=0), (dyf * xmu).sum(axis=0)])
            c = x.shape[1]
            need_x, need_w, need_b = ctx.needs_input_grad[:3]
            grad_w = _tensor((sums[c:] * ctx.invstd).astype(x.dtype)) if need_w else None
            grad_b = _tensor(sums[:c].astype(x.dtype)) if need_b else None
            grad_x = None
            if need_x:
                total = _tensor(sums)
                dist.all_reduce(total, group=ctx.group)  # the global sums, as every rank
                g = total._data._np / ctx.count
                mean_dy, mean_dy_xmu = g[:c], g[c:]
                w = 1.0 if weight is None else weight._data._np.astype(np.float64)
                k = _per_channel(ctx.invstd * ctx.invstd * mean_dy_xmu, nd)
                dx = ((dy - _per_channel(mean_dy, nd) - (x - _per_channel(ctx.mean, nd)) * k)
                      * _per_channel(ctx.invstd * w, nd))
                grad_x = _tensor(dx.astype(x.dtype))
            return grad_x, grad_w, grad_b, None, None, None, None, None, None


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation over (N, C, *) input, statistics synchronised across ranks."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: Optional[float] = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 process_group: Any = None, device: Any = None, dtype: Any = None) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats,
                         device=device, dtype=dtype)
        self.process_group = process_group

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def _check_non_zero_input_channels(self, input: Tensor) -> None:
        if input.size(1) == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")

    def _world_size(self) -> int:
        """Ranks to synchronise with: 1 (plain batch norm) in eval, without running
        statistics in eval, or without an initialised process group."""
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        if bn_training and self.training and dist.is_available() and dist.is_initialized():
            return dist.get_world_size(self.process_group)
        return 1

    def _count_batch(self) -> float:
        """Counts this training batch; the running statistics' update factor."""
        nbt = self.num_batches_tracked
        if not (self.track_running_stats and nbt is not None):
            return 0.0 if self.momentum is None else self.momentum
        nbt._data._np[...] += 1
        nbt._version_counter[0] += 1
        return 1.0 / float(nbt._data._np) if self.momentum is None else self.momentum

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        self._check_non_zero_input_channels(input)
        world_size = self._world_size()
        if world_size <= 1:
            return super().forward(input)
        factor = self._count_batch()
        stats = (self.running_mean, self.running_var) if self.track_running_stats else (None,
                                                                                      None)
        return _Functions.SyncBatchNorm.apply(input, self.weight, self.bias, *stats, self.eps,
                                              factor, self.process_group, world_size)

    @classmethod
    def convert_sync_batchnorm(cls, module: Any, process_group: Any = None) -> Any:
        """``module`` with every BatchNorm*D replaced by a SyncBatchNorm sharing its
        parameters and buffers (``module`` itself, converted in place, unless it is a
        BatchNorm)."""
        out = module
        if isinstance(module, _BatchNorm):  # SyncBatchNorm too, as torch
            out = cls(module.num_features, module.eps, module.momentum, module.affine,
                      module.track_running_stats, process_group)
            if module.affine:
                out.weight = module.weight
                out.bias = module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
            if hasattr(module, "qconfig"):
                out.qconfig = module.qconfig
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out

"""``DistributedDataParallel``: one model replica per MPI rank, gradients averaged.

At construction rank 0's parameters and buffers are broadcast, so every replica starts equal.
During backward each parameter's post-accumulate-grad hook marks it ready; once all
parameters of a bucket (about ``bucket_cap_mb`` of gradients, in reverse registration order,
the order backward tends to finish them) are ready, the bucket's gradients are copied into
one flat buffer, divided by the world size and summed with a non-blocking all-reduce, while
backward goes on computing earlier layers. The hook of the last bucket waits for all of them
and writes the averages back into ``.grad``, so backward returns with synchronised gradients.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator, Optional

import zlib

import numpy as np

from ... import distributed as dist
from ...distributed import _c10d
from ... import _grad_mode as grad_mode
from ..._core._backward_steps import _graph
from ..._tensor import Tensor
from ..modules.module import Module

__all__ = ["DistributedDataParallel"]

_UNUSED = ("Expected to have finished reduction in the prior iteration before starting a new "
           "one. This error indicates that your module has parameters that were not used in "
           "producing loss. You can enable unused parameter detection by passing the keyword "
           "argument `find_unused_parameters=True` to `torch.nn.parallel."
           "DistributedDataParallel`, and by making sure all `forward` function outputs "
           "participate in calculating loss.")


class _Bucket:
    """Parameters whose gradients travel together in one all-reduce."""

    def __init__(self, params: list) -> None:
        self.params = params
        sizes = [p._data._np.size for p in params]
        self.offsets = np.cumsum([0] + sizes)
        self.flat = np.empty(int(self.offsets[-1]), dtype=params[0]._data._np.dtype)
        self.pending = len(params)
        self.work: Optional[dist.Work] = None


class DistributedDataParallel(Module):
    """Wraps ``module`` for data-parallel training over the default process group."""

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None,
                 dim: int = 0, broadcast_buffers: bool = True, init_sync: bool = True,
                 process_group: Any = None, bucket_cap_mb: Optional[float] = None,
                 find_unused_parameters: bool = False, check_reduction: bool = False,
                 gradient_as_bucket_view: bool = False, static_graph: bool = False) -> None:
        super().__init__()
        self.module = module
        self.device_ids = device_ids
        self.output_device = output_device
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self.process_group = process_group
        self.world_size: int = dist.get_world_size(process_group)
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb)
                                    * 1024 * 1024)
        _verify_same_model(module, process_group)
        if init_sync:
            _broadcast_coalesced(list(self._states()), process_group)
        params = [p for _, p in module.named_parameters() if p.requires_grad]
        self._buckets = self._make_buckets(params)
        self._bucket_of = {id(p): b for b in self._buckets for p in b.params}
        self._syncing = False  # this backward reduces (set by forward)
        self._in_flight: list[_Bucket] = []
        self._handles = [p.register_post_accumulate_grad_hook(self._grad_ready)
                         for p in params]

    def _states(self) -> Iterator[Any]:
        yield from (p for _, p in self.module.named_parameters())
        yield from (b for _, b in self.module.named_buffers())

    def _make_buckets(self, params: list) -> list[_Bucket]:
        """Reverse registration order (backward reaches the last layers first), split by
        dtype and by the byte cap; a parameter larger than the cap gets a bucket alone."""
        buckets: list[_Bucket] = []
        current: list = []
        size = 0
        for p in reversed(params):
            nbytes = p._data._np.nbytes
            if current and (size + nbytes > self.bucket_bytes_cap
                            or p._data._np.dtype != current[0]._data._np.dtype):
                buckets.append(_Bucket(current))
                current, size = [], 0
            current.append(p)
            size += nbytes
        if current:
            buckets.append(_Bucket(current))
        return buckets

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Backward passes of forwards run inside accumulate gradients locally; the first
        backward after it reduces the accumulated sums."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        if self._syncing and any(b.pending != len(b.params) for b in self._buckets):
            raise RuntimeError(_UNUSED)
        if self.broadcast_buffers and self.world_size > 1:
            _broadcast_coalesced([b for _, b in self.module.named_buffers()],
                                 self.process_group)
        out = self.module(*inputs, **kwargs)
        self._syncing = self.require_backward_grad_sync and grad_mode.is_grad_enabled()
        if self._syncing:
            self._reset()
            if self.find_unused_parameters:
                self._mark_unused(out)
        return out

    def _reset(self) -> None:
        for b in self._buckets:
            b.pending = len(b.params)
            b.work = None
        self._in_flight = []

    def _mark_unused(self, out: Any) -> None:
        """Parameters the output's graph does not reach will get no gradient: count them
        ready now (they contribute zeros), or their buckets would never be reduced."""
        roots = [t.grad_fn for t in _tensors(out) if t.grad_fn is not None]
        deps, _ = _graph(roots, False)
        reached = {id(node.variable) for node in list(deps) + roots
                   if getattr(node, "variable", None) is not None}
        for b in self._buckets:
            for p in b.params:
                if id(p) not in reached:
                    self._grad_ready(p)

    def _grad_ready(self, p: Any) -> None:
        if not self._syncing:
            return
        bucket = self._bucket_of[id(p)]
        bucket.pending -= 1
        for b in self._in_flight:  # let MPI progress the earlier buckets
            assert b.work is not None  # every bucket in flight was launched
            b.work.is_completed()
        if bucket.pending == 0:
            self._launch(bucket)
            if all(b.pending == 0 for b in self._buckets):
                self._finish()

    def _launch(self, bucket: _Bucket) -> None:
        for i, p in enumerate(bucket.params):
            view = bucket.flat[bucket.offsets[i]:bucket.offsets[i + 1]]
            if p.grad is None:
                view[...] = 0
            else:
                view[...] = p.grad._data._np.reshape(-1)
        # divide first, as torch does: the sum of quotients cannot overflow where the
        # quotient of the sum could
        np.divide(bucket.flat, self.world_size, out=bucket.flat, casting="unsafe")
        flat = Tensor._make(_array(bucket.flat))
        # every rank's buckets have the same sizes (the model was checked at construction):
        # no per-bucket fingerprint exchange, which would stall the overlap
        g = _c10d._group(self.process_group)
        bucket.work = _c10d._all_reduce_unchecked(flat, dist.ReduceOp.SUM, g,
                                                  _c10d._mpi_op(dist.ReduceOp.SUM), True)
        self._in_flight.append(bucket)

    def _finish(self) -> None:
        for bucket in self._in_flight:
            assert bucket.work is not None  # every bucket in flight was launched
            bucket.work.wait()
            for i, p in enumerate(bucket.params):
                avg = bucket.flat[bucket.offsets[i]:bucket.offsets[i + 1]]
                if p.grad is None:
                    if not avg.any():
                        continue  # unused on every rank: stays None
                    p.grad = Tensor._make(_array(avg.reshape(p._data._np.shape).copy()))
                else:
                    p.grad._data._np[...] = avg.reshape(p._data._np.shape)
        self._in_flight = []
        self._syncing = False

    def extra_repr(self) -> str:
        return ""


def _verify_same_model(module: Module, process_group: Any) -> None:
    """Every rank must wrap the same architecture: the number, shapes and dtypes of the
    parameters are compared once, so that buckets can be all-reduced without checks."""
    g = _c10d._group(process_group)
    params = list(module.parameters())
    shapes = repr([(tuple(p.shape), str(p.dtype)) for p in params]).encode()
    mine = np.array([len(params), zlib.crc32(shapes)], dtype=np.int64)
    everyone = np.empty((g.size, 2), dtype=np.int64)
    g.comm.Allgather(mine, everyone)
    for r in range(g.size):
        if everyone[r][0] != mine[0]:
            raise RuntimeError(f"DDP expects same model across all ranks, but Rank {g.rank} "
                               f"has {mine[0]} params, while rank {r} has inconsistent "
                               f"{everyone[r][0]} params.")
        if everyone[r][1] != mine[1]:
            raise RuntimeError(f"DDP expects same model across all ranks, but the shapes or "
                               f"dtypes of Rank {g.rank}'s parameters differ from rank {r}'s.")


def _broadcast_coalesced(tensors: list, process_group: Any) -> None:
    """Rank 0's values of ``tensors`` on every rank: one broadcast per dtype, of all of them
    packed into one flat buffer (a ResNet's 60 BatchNorm buffers are two broadcasts)."""
    by_dtype: dict = {}
    for t in tensors:
        if t is not None:
            by_dtype.setdefault(t._data._np.dtype, []).append(t)
    for dtype, group in by_dtype.items():
        flat = np.concatenate([t._data._np.reshape(-1) for t in group]).astype(dtype)
        dist.broadcast(Tensor._make(_array(flat)), 0, group=process_group)
        start = 0
        for t in group:
            n = t._data._np.size
            t._data._np[...] = flat[start:start + n].reshape(t._data._np.shape)
            t._version_counter[0] += 1
            start += n


def _array(a: np.ndarray) -> Any:
    from ember_tensor import Array
    return Array(a)


def _tensors(out: Any) -> Iterator[Any]:
    if isinstance(out, Tensor):
        yield out
    elif isinstance(out, (list, tuple)):
        for o in out:
            yield from _tensors(o)
    elif isinstance(out, dict):
        for o in out.values():
            yield from _tensors(o)

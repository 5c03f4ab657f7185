"""The default process group and the tensor collectives, over MPI (mpi4py).

Ember has one backend, ``"mpi"``: rank and world size come from the MPI launcher
(``mpiexec -n 2 python train.py``), not from ``RANK``/``WORLD_SIZE`` variables. Every
collective passes the NumPy buffer under the tensor to mpi4py's buffer (uppercase) methods,
so a contiguous tensor is sent and received in place without a copy; a non-contiguous one is
copied into a contiguous buffer and the result copied back when the operation completes.
"""
from __future__ import annotations

import enum
from typing import Any, Callable, Optional, Sequence

import numpy as np

from . import _faults
from .._tensor import Tensor

__all__ = [
    "ReduceOp", "Work", "all_gather", "all_gather_object", "all_reduce",
    "broadcast_object_list", "barrier", "broadcast",
    "destroy_process_group", "gather", "get_backend", "get_rank", "get_world_size",
    "init_process_group", "is_initialized", "reduce", "scatter",
]

_NOT_INIT = ("Default process group has not been initialized, please make sure to call "
             "init_process_group.")
# torch's words when a backend is not compiled into the build
_NOT_BUILT = {
    "nccl": "Distributed package doesn't have NCCL built in",
    "gloo": "Distributed package doesn't have Gloo built in",
    "ucc": "Distributed package doesn't have UCC built in",
    "xccl": "Distributed package doesn't have XCCL built in",
}


def _mpi() -> Any:
    """mpi4py's MPI module, imported on first use: ``import ember`` must not need mpi4py,
    and importing mpi4py initialises MPI, which a program that never goes parallel should
    not pay for."""
    from mpi4py import MPI
    return MPI


class RedOpType(enum.Enum):
    """The reduction operations, numbered as torch's ``ReduceOp.RedOpType``."""
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7


class ReduceOp:
    """``ReduceOp.SUM`` ... as torch spells them (members of ``ReduceOp.RedOpType``)."""
    RedOpType = RedOpType
    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR


class _Group:
    def __init__(self, comm: Any, backend: str) -> None:
        self.comm = comm
        self.backend = backend
        self.rank: int = comm.Get_rank()
        self.size: int = comm.Get_size()


_default: Optional[_Group] = None


def is_initialized() -> bool:
    """True between ``init_process_group`` and ``destroy_process_group``."""
    return _default is not None


def init_process_group(backend: Optional[str] = None, init_method: Optional[str] = None,
                       timeout: Any = None, world_size: int = -1, rank: int = -1,
                       store: Any = None, group_name: str = "", pg_options: Any = None,
                       device_id: Any = None) -> None:
    """Join the default process group. ``backend`` ``None`` or ``"mpi"``: MPI_COMM_WORLD,
    whose rank and size the launcher sets (``world_size``/``rank``, when given, must agree).
    """
    global _default
    if _default is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = "mpi" if backend is None else str(backend).lower()
    if name in _NOT_BUILT:
        raise RuntimeError(_NOT_BUILT[name])
    if name != "mpi":
        raise AssertionError(f"Unknown backend type {backend}")
    try:
        MPI = _mpi()
    except ImportError:
        raise RuntimeError(
            "Distributed package doesn't have MPI built in. Ember's MPI backend needs "
            "mpi4py (pip install mpi4py mpich)") from None
    comm = MPI.COMM_WORLD.Dup()  # our own communicator: user MPI traffic cannot interleave
    group = _Group(comm, "mpi")
    if world_size not in (-1, None) and world_size != group.size:
        comm.Free()
        raise ValueError(f"world_size={world_size} but the MPI launcher started {group.size} "
                         "processes")
    if rank not in (-1, None) and rank != group.rank:
        comm.Free()
        raise ValueError(f"rank={rank} but MPI gave this process rank {group.rank}")
    _default = group
    _faults.install_abort_on_exception(MPI.COMM_WORLD, group.rank, group.size)


def destroy_process_group(group: Any = None) -> None:
    """Leave the default group (MPI itself stays initialised, as mpi4py finalises it at
    exit)."""
    global _default
    if _default is None:
        raise AssertionError("Process group cannot be None")
    _default.comm.Free()
    _default = None
    _faults.remove_abort_on_exception()


def _group(group: Any = None) -> _Group:
    if group is not None and group is not _default:
        raise ValueError("Ember supports only the default process group (group=None)")
    if _default is None:
        raise ValueError(_NOT_INIT)
    return _default


def get_rank(group: Any = None) -> int:
    return _group(group).rank


def get_world_size(group: Any = None) -> int:
    return _group(group).size


def get_backend(group: Any = None) -> str:
    return _group(group).backend


class Work:
    """What a collective with ``async_op=True`` returns: ``wait()`` blocks until it is done
    (and copies results into non-contiguous or gathered outputs), ``is_completed()`` polls."""

    def __init__(self, request: Any, finish: Optional[Callable[[], None]] = None) -> None:
        self._request = request
        self._finish = finish
        self._done = False

    def _complete(self) -> None:
        self._done = True
        self._request = None
        if self._finish is not None:
            finish, self._finish = self._finish, None
            finish()

    def wait(self, timeout: Any = None) -> bool:
        if not self._done:
            if self._request is not None:
                self._request.Wait()
            self._complete()
        return True

    def is_completed(self) -> bool:
        if not self._done and (self._request is None or self._request.Test()):
            self._complete()
        return self._done

    def is_success(self) -> bool:
        return self.is_completed()


def _call(comm: Any, name: str, async_op: bool, *args: Any, **kwargs: Any) -> Any:
    """MPI's nonblocking collective (``I`` + name, a request) for ``async_op``, else its
    blocking one (request None): libraries run blocking collectives with their best
    algorithms, nonblocking ones sometimes far slower (Open MPI's Iallreduce of 1-4 MiB
    took ~50x its Allreduce here; benchmarks/RESULTS.md)."""
    if async_op:
        return getattr(comm, "I" + name[0].lower() + name[1:])(*args, **kwargs)
    getattr(comm, name)(*args, **kwargs)
    return None


def _run(request: Any, finish: Optional[Callable[[], None]], async_op: bool) -> Optional[Work]:
    work = Work(request, finish)
    if async_op:
        return work
    work.wait()
    return None


def _check_tensor(t: Any, name: str = "tensor") -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type "
                        f"torch.Tensor\n             but got {type(t)} instead.")


def _check_list(ts: Any, name: str) -> None:
    if not isinstance(ts, list) or not all(isinstance(t, Tensor) for t in ts):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type "
                        "List[torch.Tensor]\n             but got "
                        f"{type(ts)} instead.")


def _rooted(tensor: Any, group: Any, root: int, group_root: Optional[int],
            what: str) -> tuple[_Group, int]:
    """Checks shared by the collectives with a root rank; returns the group and the root."""
    _check_tensor(tensor)
    g = _group(group)
    root = root if group_root is None else group_root
    if not 0 <= root < g.size:
        raise RuntimeError(f"ProcessGroupMPI::{what}: invalid root rank: {root}")
    return g, root


def _check_root_list(g: _Group, ts: Optional[list], name: str, role: str, what: str,
                     kind: str) -> None:
    """The root rank's list of gather/scatter: given, tensors, one per rank."""
    if ts is None:
        raise ValueError(f"Argument ``{name}`` must be specified on {role} rank.")
    _check_list(ts, name)
    if len(ts) != g.size:
        raise RuntimeError(f"ProcessGroupMPI::{what}: Incorrect {kind} list size {len(ts)}. "
                           f"{kind.capitalize()} list size should be {g.size}, same as size "
                           "of the process group.")


def _check_same_as(tensor: Any, ts: list, what: str) -> None:
    """The list of gather/all_gather/scatter holds tensors of ``tensor``'s size and type."""
    for t in ts:
        if t.shape != tensor.shape or t.dtype != tensor.dtype:
            raise RuntimeError(f"ProcessGroupMPI::{what}: Tensors are not equal in size or "
                               f"data type (got {list(t.shape)} {t.dtype}, expected "
                               f"{list(tensor.shape)} {tensor.dtype})")


def _bump(t: Any) -> None:
    t._version_counter[0] += 1  # written in place, as torch's collectives count it


def _buffer(t: Any) -> tuple[np.ndarray, Optional[Callable[[], None]]]:
    """The tensor's own ndarray when MPI can use it directly (C-contiguous), else a
    contiguous copy and the function that writes it back."""
    arr = t._data._np
    if arr.flags.c_contiguous and arr.flags.writeable:
        return arr, None
    tmp = np.ascontiguousarray(arr)

    def back() -> None:
        arr[...] = tmp
    return tmp, back


_REDUCIBLE = "bBhHiIlLqQfd"  # kinds MPI reduces natively; others go through a float copy


def _mpi_op(op: Any) -> Any:
    MPI = _mpi()
    table = {RedOpType.SUM: MPI.SUM, RedOpType.AVG: MPI.SUM, RedOpType.PRODUCT: MPI.PROD,
             RedOpType.MIN: MPI.MIN, RedOpType.MAX: MPI.MAX, RedOpType.BAND: MPI.BAND,
             RedOpType.BOR: MPI.BOR, RedOpType.BXOR: MPI.BXOR}
    if op not in table:
        raise ValueError(f"Unsupported ReduceOp: {op}")
    return table[op]


def _reducible(t: Any, op: Any) -> tuple[np.ndarray, Callable[[], None]]:
    """A buffer MPI can reduce in place, and what to do once the reduction is done
    (average, cast back, copy back). bool and float16 reduce through a wider copy."""
    arr = t._data._np
    g = _default
    if arr.dtype.char in _REDUCIBLE:
        buf, back = _buffer(t)
    else:
        wide = np.float32 if arr.dtype == np.float16 else np.int64
        buf = arr.astype(wide)

        def back() -> None:
            arr[...] = buf.astype(arr.dtype) if arr.dtype != np.bool_ else buf != 0

    def finish() -> None:
        if op is RedOpType.AVG and g is not None:
            if np.issubdtype(buf.dtype, np.floating):
                np.divide(buf, g.size, out=buf)
            else:
                np.floor_divide(buf, g.size, out=buf)
        if back is not None:
            back()
        _bump(t)
    return buf, finish


def all_reduce(tensor: Any, op: Any = ReduceOp.SUM, group: Any = None,
               async_op: bool = False) -> Optional[Work]:
    """Reduce ``tensor`` across all ranks; every rank gets the result in ``tensor``."""
    _check_tensor(tensor)
    g = _group(group)
    mop = _mpi_op(op)
    _faults.check_same_collective(g.comm, "ALLREDUCE", op.value, tensor)
    return _all_reduce_unchecked(tensor, op, g, mop, async_op)


def _all_reduce_unchecked(tensor: Any, op: Any, g: _Group, mop: Any,
                          async_op: bool) -> Optional[Work]:
    """all_reduce without the fingerprint exchange, for callers that have made sure every
    rank passes the same shape (DistributedDataParallel's buckets)."""
    buf, finish = _reducible(tensor, op)
    req = _call(g.comm, "Allreduce", async_op, _mpi().IN_PLACE, buf, op=mop)
    return _run(req, finish, async_op)


def reduce(tensor: Any, dst: int = 0, op: Any = ReduceOp.SUM, group: Any = None,
           async_op: bool = False, group_dst: Optional[int] = None) -> Optional[Work]:
    """Reduce ``tensor`` across all ranks into ``tensor`` on rank ``dst`` (others keep
    theirs)."""
    g, dst = _rooted(tensor, group, dst, group_dst, "reduce")
    mop = _mpi_op(op)
    _faults.check_same_collective(g.comm, "REDUCE", dst * 16 + op.value, tensor)
    MPI = _mpi()
    if g.rank == dst:
        buf, finish = _reducible(tensor, op)
        req = _call(g.comm, "Reduce", async_op, MPI.IN_PLACE, buf, op=mop, root=dst)
    else:
        arr = tensor._data._np
        send = np.ascontiguousarray(arr if arr.dtype.char in _REDUCIBLE
                                    else arr.astype(np.float32 if arr.dtype == np.float16
                                                    else np.int64))
        req = _call(g.comm, "Reduce", async_op, send, None, op=mop, root=dst)
        finish = None
    return _run(req, finish, async_op)


def broadcast(tensor: Any, src: int = 0, group: Any = None, async_op: bool = False,
              group_src: Optional[int] = None) -> Optional[Work]:
    """Copy ``tensor`` of rank ``src`` into ``tensor`` on every rank."""
    g, src = _rooted(tensor, group, src, group_src, "broadcast")
    _faults.check_same_collective(g.comm, "BROADCAST", src, tensor)
    buf, back = _buffer(tensor)
    req = _call(g.comm, "Bcast", async_op, _raw(buf), root=src)

    def finish() -> None:
        if back is not None:
            back()
        _bump(tensor)
    return _run(req, finish, async_op)


def _raw(arr: np.ndarray) -> Any:
    """Bytes view for transfers that do not compute (any dtype, float16 and bool too)."""
    return [arr.reshape(-1).view(np.uint8), _mpi().BYTE]


def all_gather(tensor_list: list, tensor: Any, group: Any = None,
               async_op: bool = False) -> Optional[Work]:
    """Every rank's ``tensor`` into ``tensor_list[r]`` on every rank."""
    _check_list(tensor_list, "tensor_list")
    _check_tensor(tensor)
    g = _group(group)
    if len(tensor_list) != g.size:
        raise RuntimeError("ProcessGroupMPI::allgather: invalid output tensor list "
                           f"(expected length {g.size}, got {len(tensor_list)})")
    _check_same_as(tensor, tensor_list, "allgather")
    _faults.check_same_collective(g.comm, "ALLGATHER", 0, tensor)
    send = np.ascontiguousarray(tensor._data._np)
    recv = np.empty((g.size,) + send.shape, dtype=send.dtype)
    req = _call(g.comm, "Allgather", async_op, _raw(send), _raw(recv))

    def finish() -> None:
        for r, out in enumerate(tensor_list):
            out._data._np[...] = recv[r]
            _bump(out)
    return _run(req, finish, async_op)


def gather(tensor: Any, gather_list: Optional[list] = None, dst: int = 0, group: Any = None,
           async_op: bool = False, group_dst: Optional[int] = None) -> Optional[Work]:
    """Every rank's ``tensor`` into ``gather_list[r]`` on rank ``dst``."""
    g, dst = _rooted(tensor, group, dst, group_dst, "gather")
    if g.rank != dst and gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination "
                         "ranks.")
    if g.rank == dst:
        _check_root_list(g, gather_list, "gather_list", "destination", "gather", "output")
        assert gather_list is not None  # _check_root_list refused a missing list
        _check_same_as(tensor, gather_list, "gather")
    _faults.check_same_collective(g.comm, "GATHER", dst, tensor)
    send = np.ascontiguousarray(tensor._data._np)
    if g.rank == dst:
        recv = np.empty((g.size,) + send.shape, dtype=send.dtype)
        req = _call(g.comm, "Gather", async_op, _raw(send), _raw(recv), root=dst)

        def finish() -> None:
            for r, out in enumerate(gather_list or ()):  # never None here: checked above
                out._data._np[...] = recv[r]
                _bump(out)
        return _run(req, finish, async_op)
    req = _call(g.comm, "Gather", async_op, _raw(send), None, root=dst)
    return _run(req, None, async_op)


def scatter(tensor: Any, scatter_list: Optional[list] = None, src: int = 0,
            group: Any = None, async_op: bool = False,
            group_src: Optional[int] = None) -> Optional[Work]:
    """``scatter_list[r]`` of rank ``src`` into ``tensor`` on rank ``r``."""
    g, src = _rooted(tensor, group, src, group_src, "scatter")
    if g.rank == src:
        _check_root_list(g, scatter_list, "scatter_list", "source", "scatter", "input")
        assert scatter_list is not None  # _check_root_list refused a missing list
        _check_same_as(tensor, scatter_list, "scatter")
    elif scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source "
                         "ranks.")
    _faults.check_same_collective(g.comm, "SCATTER", src, tensor)
    buf, back = _buffer(tensor)
    send: Any = None
    if g.rank == src:
        send = _raw(np.ascontiguousarray(
            np.stack([t._data._np for t in scatter_list or ()]).astype(buf.dtype, copy=False)))
    req = _call(g.comm, "Scatter", async_op, send, _raw(buf), root=src)

    def finish() -> None:
        if back is not None:
            back()
        _bump(tensor)
    return _run(req, finish, async_op)


def barrier(group: Any = None, async_op: bool = False,
            device_ids: Optional[Sequence[int]] = None) -> Optional[Work]:
    """Block until every rank has reached this call."""
    g = _group(group)
    _faults.check_same_collective(g.comm, "BARRIER", 0, None)
    return _run(_call(g.comm, "Barrier", async_op), None, async_op)


def broadcast_object_list(object_list: list, src: int = 0, group: Any = None,
                          device: Any = None, group_src: Optional[int] = None) -> None:
    """Rank ``src``'s picklable objects into ``object_list`` on every rank (in place; the
    lists must have the same length everywhere)."""
    g = _group(group)
    src = src if group_src is None else group_src
    _faults.check_same_collective(g.comm, "BROADCAST_OBJECT", src * 65536 + len(object_list),
                                  None)
    object_list[:] = g.comm.bcast(list(object_list) if g.rank == src else None, root=src)


def all_gather_object(object_list: list, obj: Any, group: Any = None) -> None:
    """Every rank's picklable ``obj`` into ``object_list[r]`` on every rank."""
    g = _group(group)
    if len(object_list) != g.size:
        raise RuntimeError(f"all_gather_object: object_list must have {g.size} entries, one "
                           f"per rank, got {len(object_list)}")
    _faults.check_same_collective(g.comm, "ALLGATHER_OBJECT", 0, None)
    object_list[:] = g.comm.allgather(obj)

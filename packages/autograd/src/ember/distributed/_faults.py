"""What keeps a distributed job from hanging: mismatch checks and abort-on-exception.

MPI itself trusts every rank to call the same collective on buffers of the same size; when
they do not, it hangs, truncates or reduces garbage. So before each collective, every rank
sends the others a small fingerprint (which collective, its root or operation, the
tensor's dtype and shape) in one all-gather; a difference is a RuntimeError on every rank,
naming what each rank was running. (DistributedDataParallel's buckets skip it: it checks
the model's shapes once, at construction.)

An exception that nobody catches on one rank would leave the others waiting in their next
collective forever: ``init_process_group`` installs a ``sys.excepthook`` that prints the
traceback as usual, then calls ``MPI_Abort`` on the whole job, so the launcher ends every
rank promptly and the failing rank's message is on stderr.
"""
from __future__ import annotations

import sys
from typing import Any, Optional

import numpy as np

KINDS = ("BARRIER", "ALLREDUCE", "BROADCAST", "ALLGATHER", "REDUCE", "GATHER", "SCATTER",
         "BROADCAST_OBJECT", "ALLGATHER_OBJECT")
_DIMS = 8  # shape dimensions carried by a fingerprint; more are folded into the last
_DTYPES = "?bBhHiIlLqQefdFD"  # numpy type characters, by code


def _fingerprint(kind: str, arg: int, tensor: Any) -> np.ndarray:
    """[kind, root or op, dtype code, ndim, dims...] as int64."""
    fp = np.full(4 + _DIMS, -1, dtype=np.int64)
    fp[0], fp[1] = KINDS.index(kind), arg
    if tensor is not None:
        arr = tensor._data._np
        shape = list(arr.shape)
        if len(shape) > _DIMS:
            shape = shape[:_DIMS - 1] + [int(np.prod(shape[_DIMS - 1:]))]
        fp[2] = _DTYPES.find(arr.dtype.char)
        fp[3] = arr.ndim
        fp[4:4 + len(shape)] = shape
    return fp


def _describe(fp: np.ndarray) -> str:
    kind = KINDS[int(fp[0])]
    if int(fp[3]) < 0:  # no tensor: barrier, object collectives
        return f"CollectiveFingerPrint(OpType={kind})"
    ndim = int(fp[3])
    shape = [int(d) for d in fp[4:4 + min(ndim, _DIMS)]]
    code = int(fp[2])
    dtype = np.dtype(_DTYPES[code]).name if 0 <= code < len(_DTYPES) else "unknown"
    return f"CollectiveFingerPrint(OpType={kind}, TensorShape={shape}, TensorDtypes={dtype})"


def check_same_collective(comm: Any, kind: str, arg: int, tensor: Any) -> None:
    """Raises RuntimeError on every rank unless all ranks run the same collective (kind,
    root or op, dtype, shape). Costs one small all-gather."""
    mine = _fingerprint(kind, arg, tensor)
    everyone = np.empty((comm.Get_size(), mine.size), dtype=np.int64)
    comm.Allgather(mine, everyone)
    if (everyone == everyone[0]).all():
        return
    bad = next(r for r in range(len(everyone)) if (everyone[r] != everyone[0]).any())
    if int(everyone[0][1]) != int(everyone[bad][1]) and everyone[0][0] == everyone[bad][0]:
        what = " (a different root rank or reduction operation)"
    else:
        what = ""
    raise RuntimeError(
        "Detected mismatch between collectives on ranks. Rank 0 is running collective: "
        f"{_describe(everyone[0])}, but Rank {bad} is running collective: "
        f"{_describe(everyone[bad])}{what}.")


_previous_hook: Optional[Any] = None


def install_abort_on_exception(comm_world: Any, rank: int, size: int) -> None:
    """An uncaught exception prints its traceback, then aborts every rank of the job."""
    global _previous_hook
    if _previous_hook is not None or size < 2:
        return
    previous = sys.excepthook

    def hook(etype: Any, value: Any, tb: Any) -> None:
        previous(etype, value, tb)
        sys.stderr.write(f"ember.distributed: rank {rank} of {size} raised {etype.__name__}; "
                         "aborting every rank (MPI_Abort) so that none waits forever\n")
        sys.stdout.flush()
        sys.stderr.flush()
        comm_world.Abort(1)

    _previous_hook = previous
    sys.excepthook = hook


def remove_abort_on_exception() -> None:
    global _previous_hook
    if _previous_hook is not None:
        sys.excepthook = _previous_hook
        _previous_hook = None

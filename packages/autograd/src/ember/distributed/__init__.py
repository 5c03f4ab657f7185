"""``ember.distributed``: torch.distributed's process group and collectives over MPI.

Run a script under an MPI launcher (``mpiexec -n 4 python train.py``) and call
``init_process_group("mpi")``. mpi4py is optional: without it ``is_available()`` is False and
``init_process_group`` raises, but ``import ember`` works.
"""
from ._c10d import (
    ReduceOp, Work, all_gather, all_gather_object, all_reduce, barrier, broadcast,
    broadcast_object_list, destroy_process_group,
    gather, get_backend, get_rank, get_world_size, init_process_group, is_initialized,
    reduce, scatter,
)

__all__ = [
    "ReduceOp", "Work", "all_gather", "all_gather_object", "all_reduce", "barrier",
    "broadcast", "broadcast_object_list", "destroy_process_group", "gather", "get_backend",
    "get_rank", "get_world_size", "init_process_group", "is_available", "is_initialized",
    "is_mpi_available", "reduce", "scatter",
]


def _has_mpi4py() -> bool:
    # find_spec, not import: importing mpi4py starts MPI, which a check must not do
    import importlib.util
    return importlib.util.find_spec("mpi4py") is not None


def is_available() -> bool:
    """True when the MPI backend can be used (mpi4py is installed)."""
    return _has_mpi4py()


def is_mpi_available() -> bool:
    return _has_mpi4py()


def is_nccl_available() -> bool:
    return False


def is_gloo_available() -> bool:
    return False

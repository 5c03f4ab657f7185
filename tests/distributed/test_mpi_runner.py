"""Launches the two-rank checks under ``mpiexec -n 2`` when mpi4py and an MPI launcher are
installed; skips otherwise: mpi_two_ranks.py (collectives, DDP, SyncBatchNorm), and
mpi_faults.py (a raising rank ends the job; mismatched collectives are errors)."""
import os
import pathlib
import shutil
import subprocess
import sys
import time

import pytest

import ember.distributed as dist

HERE = pathlib.Path(__file__).resolve().parent


def _mpiexec():
    beside = pathlib.Path(sys.executable).parent / "mpiexec"  # mpich's wheel puts it here
    return str(beside) if beside.exists() else shutil.which("mpiexec")


needs_mpiexec = pytest.mark.skipif(not dist.is_available() or _mpiexec() is None,
                                   reason="needs mpi4py and mpiexec")


def launch(args, timeout, ranks=2):
    """``mpiexec -n ranks python args...`` from the repository root, one thread per rank
    (Open MPI as root needs --allow-run-as-root: it refuses root otherwise)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    extra = ["--allow-run-as-root"] if _is_open_mpi() and os.geteuid() == 0 else []
    cmd = [_mpiexec(), *extra, "-n", str(ranks), sys.executable, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=HERE.parent.parent)


def _is_open_mpi():
    out = subprocess.run([_mpiexec(), "--version"], capture_output=True, text=True)
    return "Open MPI" in out.stdout + out.stderr or "OpenRTE" in out.stdout + out.stderr


@needs_mpiexec
def test_two_ranks():
    out = launch(["-m", "pytest", str(HERE / "mpi_two_ranks.py"), "-q", "-p",
                  "no:cacheprovider", "-o", "addopts=--import-mode=importlib"], timeout=180)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert out.stdout.count(" passed") == 2, out.stdout[-2000:]  # one summary per rank


@needs_mpiexec
def test_a_raising_rank_ends_the_job_with_its_message():
    """Rank 1 raises while rank 0 waits in all_reduce: without the abort the job would
    hang until the timeout."""
    t0 = time.perf_counter()
    out = launch([str(HERE / "mpi_faults.py"), "raise"], timeout=60)
    assert time.perf_counter() - t0 < 30
    assert out.returncode != 0
    assert "ValueError: rank 1 failed on purpose" in out.stderr, out.stderr[-2000:]
    assert "rank 1 of 2 raised ValueError; aborting every rank" in out.stderr
    assert "rank 0 was not stopped" not in out.stdout


@needs_mpiexec
def test_mismatched_collectives_are_errors_on_every_rank():
    out = launch([str(HERE / "mpi_faults.py"), "mismatch"], timeout=60)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert sorted(line[:9] for line in out.stdout.splitlines()) == ["rank 0 ok", "rank 1 ok"]

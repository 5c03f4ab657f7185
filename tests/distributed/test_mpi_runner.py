"""Launches the two-rank checks (mpi_two_ranks.py) under ``mpiexec -n 2`` when mpi4py and
an MPI launcher are installed; skips otherwise."""
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

import ember.distributed as dist

HERE = pathlib.Path(__file__).resolve().parent


def _mpiexec():
    beside = pathlib.Path(sys.executable).parent / "mpiexec"  # mpich's wheel puts it here
    return str(beside) if beside.exists() else shutil.which("mpiexec")


@pytest.mark.skipif(not dist.is_available() or _mpiexec() is None,
                    reason="needs mpi4py and mpiexec")
def test_two_ranks():
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    cmd = [_mpiexec(), "-n", "2", sys.executable, "-m", "pytest",
           str(HERE / "mpi_two_ranks.py"), "-q", "-p", "no:cacheprovider",
           "-o", "addopts=--import-mode=importlib"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env,
                         cwd=HERE.parent.parent)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert out.stdout.count(" passed") == 2, out.stdout[-2000:]  # one summary per rank

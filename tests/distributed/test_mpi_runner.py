"""Launches the two-rank checks under ``mpiexec -n 2`` when mpi4py and an MPI launcher are
installed; skips otherwise: mpi_two_ranks.py (collectives, DDP, SyncBatchNorm),
mpi_ddp_vs_torch.py (DDP against torch's, from a golden), and
mpi_faults.py (a raising rank ends the job; mismatched collectives are errors)."""
import os
import pathlib
import shutil
import subprocess
import sys
import re
import time

import numpy as np
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


def run_on_two_ranks(name: str, timeout: float) -> str:
    """Runs the pytest file ``name`` (beside this one) on 2 ranks; its output once it
    passed on both."""
    out = launch(["-m", "pytest", str(HERE / name), "-q", "-p", "no:cacheprovider", "-o",
                  "addopts=--import-mode=importlib"], timeout=timeout)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert out.stdout.count(" passed") == 2, out.stdout[-2000:]  # one summary per rank
    return out.stdout


@needs_mpiexec
def test_two_ranks():
    run_on_two_ranks("mpi_two_ranks.py", timeout=180)


@needs_mpiexec
def test_two_ranks_train_as_torchs_ddp():
    """mpi_ddp_vs_torch.py: ember's DDP against torch's (golden/ddp_torch.npz)."""
    assert run_on_two_ranks("mpi_ddp_vs_torch.py", timeout=120).count("6 passed") == 2


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
    # the ranks share one stdout pipe, so their lines can interleave: look for each, not lines
    assert sorted(re.findall(r"rank \d ok", out.stdout)) == ["rank 0 ok", "rank 1 ok"], out.stdout


FINETUNE = ["-m", "ember_vision", "finetune", "--weights", "none", "--no-progress",
            "--max-samples", "150"]


def _metrics(out_dir):
    import json

    return json.loads((out_dir / "metrics.json").read_text())


@needs_mpiexec
def test_finetune_frozen_backbone_on_two_ranks_equals_one_process(tmp_path):
    """The two ranks each extract the features of half the images; rank 0 trains fc on all
    of them: the same run as one process (up to float rounding), printed and written once."""
    pytest.importorskip("ember_vision")
    from ember_vision.finetune import finetune

    args = ["--freeze-backbone", "--epochs", "3", "--seed", "1"]
    out = launch(FINETUNE + args + ["--out", str(tmp_path / "two")], timeout=120)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert out.stdout.count("epoch 3/3:") == 1 and "2 MPI ranks" in out.stdout
    one = finetune(weights="none", freeze_backbone=True, epochs=3, seed=1, max_samples=150,
                   out=str(tmp_path / "one"), progress=False, log=lambda *a: None)
    two = _metrics(tmp_path / "two")
    assert [r["val_acc"] for r in two["history"]] == [r["val_acc"] for r in one["history"]]
    np.testing.assert_allclose([r["train_loss"] for r in two["history"]],
                               [r["train_loss"] for r in one["history"]], rtol=1e-5)
    assert {p.name for p in (tmp_path / "two").iterdir()} >= {"model.pth", "metrics.json"}


@needs_mpiexec
def test_finetune_whole_network_on_two_ranks(tmp_path):
    """Each rank trains a DDP replica on its shard; the validation accuracy in metrics.json
    is the reduced one: that of the saved model on the whole validation split."""
    pytest.importorskip("ember_vision")
    import ember
    from ember import nn
    from ember_vision._training_data import load_dataset, split_indices
    from ember_vision.finetune import _evaluate_sums
    from ember_vision.models import resnet18

    out = launch(FINETUNE + ["--train-all", "--epochs", "1", "--out", str(tmp_path)],
                 timeout=120)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert out.stdout.count("epoch 1/1:") == 1  # rank 0 alone reports
    m = _metrics(tmp_path)
    model = resnet18(num_classes=10)
    model.load_state_dict(ember.load(str(tmp_path / "model.pth")))  # plain ResNet-18 keys
    dataset, _ = load_dataset(None, m["image_size"])
    _, val = split_indices(dataset.targets, 0.2, 0, 150)
    cfg = {"batch_size": 64}
    loss_sum, correct = _evaluate_sums(model, dataset, val, cfg, nn.CrossEntropyLoss(), False)
    assert m["num_val"] == len(val)
    assert m["history"][0]["val_acc"] == correct / len(val)
    np.testing.assert_allclose(m["history"][0]["val_loss"], loss_sum / len(val), rtol=1e-4)


@needs_mpiexec
def test_finetune_usage_error_on_two_ranks_is_said_once(tmp_path):
    out = launch(FINETUNE + ["--data", str(tmp_path / "missing")], timeout=60)
    assert out.returncode == 2, out.stderr[-2000:]
    assert out.stderr.count("ember-vision: error: data folder not found") == 1, out.stderr

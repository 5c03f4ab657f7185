"""Write tests/distributed/golden/ddp_torch.npz: torch's DistributedDataParallel trained on
2 CPU processes (gloo backend), so that ember's DDP on 2 MPI ranks
(tests/distributed/mpi_ddp_vs_torch.py) is checked against torch's numbers, not only
against itself.

    python tools/make_golden_ddp.py

The cases (models, data, hyper-parameters, training loop) are in
tests/distributed/ddp_cases.py, shared with the test. The golden holds the data, each case's
initial parameters (rank 0's; rank 1 starts from other random ones, which DDP must replace),
each rank's loss at every step and the final state: the parameters (equal on both ranks)
and each rank's BatchNorm buffers, each state as one float32 vector in state-dict order.

torch 2.13 refuses SyncBatchNorm on CPU tensors, under DDP or not; the ``sync_bn`` case's
golden is therefore one torch process training plain BatchNorm on the whole batch (what
SyncBatchNorm on 2 ranks x half the batch computes). Every DDP run is made twice, with
torch's default 25 MB bucket and with buckets of about one parameter, which must agree.
"""
import importlib.util
import os
import pathlib
import socket
import sys
import tempfile

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "distributed" / "golden" / "ddp_torch.npz"
_spec = importlib.util.spec_from_file_location(
    "ddp_cases", ROOT / "tests" / "distributed" / "ddp_cases.py")
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)

TINY_BUCKET_MB = 0.0001  # about 100 bytes: a bucket per parameter or two


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank_main(rank: int, port: int, runs: list, tmp: str) -> None:
    """One gloo rank: every (case, bucket cap) run in ``runs``, results saved to ``tmp``."""
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    x, y = cases.data()
    for case, cap, init in runs:
        torch.manual_seed(100 + rank)  # rank 1 starts elsewhere: DDP broadcasts rank 0's
        model = cases.build(torch, case)
        if rank == 0:
            model.load_state_dict({k: torch.from_numpy(v) for k, v in init.items()})
        ddp = torch.nn.parallel.DistributedDataParallel(model, bucket_cap_mb=cap)
        losses = cases.train(torch, ddp, [cases.half(b, rank) for b in x],
                             [cases.half(b, rank) for b in y])
        final = cases.state(ddp)
        np.savez(os.path.join(tmp, f"{case}-{cap}-{rank}.npz"),
                 loss=np.array(losses, dtype=np.float64)[:, 0], **final)
    dist.destroy_process_group()


def main() -> None:
    torch.set_num_threads(1)
    x, y = cases.data()
    inits = {}
    for case in cases.CASES:
        torch.manual_seed(0)
        inits[case] = cases.state(cases.build(torch, case))
    arrays = {"x": x, "y": y}
    for case, init in inits.items():
        arrays[f"{case}/init"] = cases.flatten(init, list(init))

    ddp_cases = [c for c in cases.CASES if c != "sync_bn"]
    runs = [(c, cap, inits[c]) for c in ddp_cases for cap in (25, TINY_BUCKET_MB)]
    with tempfile.TemporaryDirectory() as tmp:
        mp.spawn(_rank_main, args=(_free_port(), runs, tmp), nprocs=2)
        for case in ddp_cases:
            results = {(cap, r): dict(np.load(os.path.join(tmp, f"{case}-{cap}-{r}.npz")))
                       for cap in (25, TINY_BUCKET_MB) for r in (0, 1)}
            _store(arrays, case, [results[25, 0], results[25, 1]])
            for r in (0, 1):  # torch's own result does not depend on the buckets
                for k, v in results[25, r].items():
                    np.testing.assert_allclose(results[TINY_BUCKET_MB, r][k], v, rtol=1e-6,
                                               atol=1e-7, err_msg=f"{case} {k}")

    torch.manual_seed(0)
    whole = cases.build(torch, "sync_bn")
    whole.load_state_dict({k: torch.from_numpy(v) for k, v in inits["sync_bn"].items()})
    losses = np.array(cases.train(torch, whole, x, y, whole=True))  # (steps, 2 halves)
    final = cases.state(whole)
    _store(arrays, "sync_bn", [dict(final, loss=losses[:, r]) for r in (0, 1)])

    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {len(arrays)} arrays ({OUT.stat().st_size} bytes) to {OUT}")


def _store(arrays: dict, case: str, per_rank: list) -> None:
    """The per-rank losses (steps x ranks); the parameters once (asserted equal on both
    ranks, as DDP promises) and the buffers (BatchNorm statistics) per rank."""
    arrays[f"{case}/loss"] = np.stack([p.pop("loss") for p in per_rank], axis=1)
    params, buffers = cases.split_state(cases.build(torch, case))
    for k in params:
        np.testing.assert_array_equal(per_rank[1][k], per_rank[0][k], err_msg=f"{case} {k}")
    arrays[f"{case}/params"] = cases.flatten(per_rank[0], params)
    arrays[f"{case}/buffers"] = np.stack([cases.flatten(p, buffers) for p in per_rank])


if __name__ == "__main__":
    sys.exit(main())

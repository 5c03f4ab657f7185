"""Data-parallel benchmarks (issue 17): ``python benchmarks/distributed.py``.

1. The 16x3x224x224 ResNet-18 training step (SGD momentum, as e2e case 5b) three ways:
   one process with 2 threads (batch 16), two MPI ranks with 1 thread each under
   DistributedDataParallel (batch 8 each, the same global batch), and, for the scaling
   model in DESIGN.md, one process with 1 thread on batch 8 (one rank's compute alone).
2. All-reduce of float32 buffers of 1 KB .. 64 MB between two ranks: ember.distributed's
   ``all_reduce`` (which first exchanges a small fingerprint to catch mismatched calls)
   against mpi4py's raw ``Allreduce`` (``IN_PLACE``) on the same buffer.

Each part runs in fresh processes launched from here (``mpiexec`` beside this Python, as
MPICH's wheel installs it). Medians of repeated runs; the machine is shared, so repeat the
run before trusting a small difference.
"""
import argparse
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
SIZES = [1 << k for k in range(10, 27, 2)]  # 1 KiB .. 64 MiB


def _mpiexec():
    beside = pathlib.Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def _launcher():
    """mpiexec -n 2; Open MPI refuses to run as root without --allow-run-as-root (MPICH
    does not ask), so that flag is passed, visibly, only there."""
    exe = _mpiexec()
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    as_root = "Open MPI" in version and os.geteuid() == 0
    return [exe] + (["--allow-run-as-root"] if as_root else []) + ["-n", "2"]


def _median_step(step, repeat):
    step()  # warm-up: first-touch allocations, Winograd transforms
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def worker_step(batch, repeat, ddp):
    """Times the training step in this process (a DDP replica when ``ddp``); prints JSON
    (on rank 0 under MPI: the slowest rank's median, since a step ends for all together)."""
    import ember
    from ember_vision.models import resnet18

    rank = 0
    if ddp:
        import ember.distributed as dist

        dist.init_process_group("mpi")
        rank = dist.get_rank()
    ember.manual_seed(0)
    model = resnet18()
    net = ember.nn.parallel.DistributedDataParallel(model) if ddp else model
    rng = np.random.default_rng(rank)
    x = ember.from_numpy(rng.random((batch, 3, 224, 224), dtype=np.float32))
    y = ember.from_numpy(rng.random((batch, 1000), dtype=np.float32))
    opt = ember.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)

    def step():
        opt.zero_grad()
        (net(x) - y).sum().backward()
        opt.step()

    seconds = _median_step(step, repeat)
    if ddp:
        t = ember.tensor([seconds], dtype=ember.float64)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        seconds = t.item()
        dist.destroy_process_group()
    if rank == 0:
        print(json.dumps({"seconds": seconds, "threads": ember.get_num_threads()}))


def worker_allreduce(repeat):
    """Both ranks time each buffer size through ember and through mpi4py; rank 0 prints."""
    import ember
    import ember.distributed as dist
    from mpi4py import MPI

    dist.init_process_group("mpi")
    comm = MPI.COMM_WORLD
    rows = []
    for size in SIZES:
        t = ember.ones(size // 4)
        buf = t.numpy()  # the same memory: ember's all_reduce is zero-copy on it
        n = repeat if size <= (1 << 20) else max(10, repeat // 5)

        def through_ember(t=t):
            dist.all_reduce(t)

        def raw_mpi(buf=buf):
            comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)

        def raw_mpi_nonblocking(buf=buf):
            comm.Iallreduce(MPI.IN_PLACE, buf, op=MPI.SUM).Wait()

        row = {"bytes": size}
        for name, fn in (("ember", through_ember), ("mpi4py", raw_mpi),
                         ("mpi4py_i", raw_mpi_nonblocking)):
            comm.Barrier()
            fn()
            times = []
            for _ in range(n):
                comm.Barrier()
                t0 = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t0)
            row[name] = comm.allreduce(statistics.median(times), op=MPI.MAX)
            row[name + "_min"] = comm.allreduce(min(times), op=MPI.MAX)
        rows.append(row)
    dist.destroy_process_group()
    if comm.Get_rank() == 0:
        print(json.dumps(rows))


# ResNet-18's gradients in DistributedDataParallel's 25 MiB buckets, in the order backward
# fills them: fc + most of layer4 (ready after about the first 15% of backward), then the
# rest (ready only when backward ends). 46.76 MB in all.
BUCKETS_MB = (21.47, 25.29)
FIRST_READY = 0.15  # fraction of backward done when the first bucket can start


def ring_seconds(megabytes, n, gbit, latency):
    """Ring all-reduce: 2(N-1) steps, each moving 1/N of the buffer and paying latency."""
    return 2 * (n - 1) / n * megabytes * 1e6 / (gbit * 1e9 / 8) + 2 * (n - 1) * latency


def step_seconds(compute, n, gbit, latency=30e-6):
    """One data-parallel step on ``n`` machines: compute (backward is ~2/3 of it), the last
    bucket's all-reduce exposed, the first one hidden behind the rest of backward as far
    as it fits."""
    if n == 1:
        return compute
    backward_left = (1 - FIRST_READY) * compute * 2 / 3
    first, last = (ring_seconds(mb, n, gbit, latency) for mb in BUCKETS_MB)
    return compute + last + max(0.0, first - backward_left)


def scaling_table(per_images, batch=8, global_batch=256):
    """Markdown: for each compute time per image (seconds, one machine), weak scaling
    (``batch`` images per machine: efficiency) and strong scaling (``global_batch`` split
    over the machines: speedup), for several link speeds and machine counts."""
    head = "| link | N |"
    for c in per_images:
        head += f" {c:g} s/image: weak efficiency | strong speedup |"
    lines = [head, "|---|---:|" + "---:|---:|" * len(per_images)]
    for gbit in (1, 10, 25, 100):
        for n in (2, 8, 32, 128):
            row = f"| {gbit} Gbit/s | {n} |"
            for c in per_images:
                weak = c * batch / step_seconds(c * batch, n, gbit)
                strong = c * global_batch / step_seconds(c * global_batch / n, n, gbit)
                row += f" {weak:.0%} | {strong:.1f}x |"
            lines.append(row)
    lines.append("")
    for c in per_images:
        for gbit in (1, 10, 25, 100):
            half = next((n for n in range(2, global_batch + 1)
                         if c * global_batch / step_seconds(c * global_batch / n, n, gbit)
                         < n / 2), None)
            lines.append(f"- {c:g} s/image, {gbit} Gbit/s: strong scaling of a "
                         f"{global_batch}-image batch falls to 50% efficiency at "
                         + (f"N = {half}" if half else f"no N <= {global_batch}"))
    return "\n".join(lines)


def _run(cmd, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fmt_bytes(n):
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n >> 10} KiB"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--worker", choices=["step", "allreduce"])
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--ddp", action="store_true")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--part", choices=["all", "step", "allreduce"], default="all")
    p.add_argument("--scaling-model", type=float, nargs="+", metavar="SECONDS_PER_IMAGE",
                   help="print DESIGN.md's scaling table for these training compute times "
                   "per image on one machine, and exit")
    a = p.parse_args()
    if a.scaling_model:
        return print(scaling_table(a.scaling_model))
    if a.worker == "step":
        return worker_step(a.batch, a.repeat, a.ddp)
    if a.worker == "allreduce":
        return worker_allreduce(a.repeat)
    me = [sys.executable, str(pathlib.Path(__file__).resolve())]
    mpi = _launcher()
    if a.part in ("all", "step"):
        print("| ResNet-18 training step, global batch 16x3x224x224 | median |")
        print("|---|---|")
        cases = [
            ("1 rank x 2 threads, batch 16", me + ["--worker", "step", "--batch", "16"], 2),
            ("2 ranks x 1 thread, DDP, batch 8 each",
             mpi + me + ["--worker", "step", "--batch", "8", "--ddp"], 1),
            ("1 rank x 1 thread, batch 8 (one rank's compute)",
             me + ["--worker", "step", "--batch", "8"], 1),
        ]
        for name, cmd, threads in cases:
            r = _run(cmd + ["--repeat", str(a.repeat)], threads)
            print(f"| {name} | {r['seconds']:.3f} s |", flush=True)
    if a.part in ("all", "allreduce"):
        print()
        print("| all-reduce, 2 ranks, float32, median (fastest) | ember.distributed | "
              "mpi4py Allreduce | mpi4py Iallreduce + Wait | ember bus bandwidth | "
              "mpi4py bus bandwidth |")
        print("|---|---|---|---|---|---|")
        rows = _run(mpi + me + ["--worker", "allreduce", "--repeat", "50"], 1)
        for r in rows:
            # bus bandwidth: the bytes each rank moves in a ring, 2 (N-1)/N x size, per second
            bus = [r["bytes"] / r[k] / 1e9 for k in ("ember", "mpi4py")]
            ms = [f"{r[k] * 1e3:.3f} ({r[k + '_min'] * 1e3:.3f}) ms"
                  for k in ("ember", "mpi4py", "mpi4py_i")]
            print(f"| {_fmt_bytes(r['bytes'])} | {' | '.join(ms)} | "
                  f"{bus[0]:.2f} GB/s | {bus[1]:.2f} GB/s |",
                  flush=True)


if __name__ == "__main__":
    main()

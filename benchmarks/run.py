"""Run Ember's benchmarks against torch in the same process and print Ember / torch ratios.

    python benchmarks/run.py                 # op-level and end-to-end suites
    python benchmarks/run.py --suite ops     # one suite (ops | e2e)
    python benchmarks/run.py --results       # also rewrite benchmarks/RESULTS.md

Op-level cases come from the ``cases()`` of every ``benchmarks/ops_*.py``; end-to-end cases
from ``benchmarks/e2e.py``. A ratio below 1.0 means Ember is faster.
"""
import argparse
import datetime
import importlib.util
import os
import pathlib
import platform
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tools"))

from timing import compare, fmt_time  # noqa: E402


def _load(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _machine():
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import numpy
    import torch

    return (f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, "
            f"NumPy {numpy.__version__}, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads)")


def run_ops(rows):
    for path in sorted(HERE.glob("ops_*.py")):
        module = _load(path)
        for case in module.cases():
            e, t = compare(case["ember"], case["torch"], repeat=case.get("repeat", 7),
                           budget=case.get("budget", 3.0))
            extra = ""
            if case.get("flops"):
                gf_e, gf_t = case["flops"] / e / 1e9, case["flops"] / t / 1e9
                extra = f"{gf_e:.1f} GFLOP/s (torch {gf_t:.1f})"
            rows.append(("ops", case["name"], e, t, extra))
            _print_row(rows[-1])
        if hasattr(module, "sgemm_gflops"):
            rows.append(("ops", "NumPy sgemm peak", None, None,
                         f"{module.sgemm_gflops():.1f} GFLOP/s"))
            _print_row(rows[-1])


def run_e2e(rows, quick=False):
    module = _load(HERE / "e2e.py")
    for row in module.run(quick=quick):
        rows.append(("e2e",) + tuple(row))
        _print_row(rows[-1])


def _fmt(name, value):
    """Seconds, except for memory rows, whose values are bytes."""
    return f"{value / 2**20:.0f} MiB" if "RSS" in name else fmt_time(value)


def _print_row(row):
    suite, name, e, t, extra = row
    if e is None:
        print(f"{suite:4} {name:58} {'':>10} {'':>10} {'':>7}  {extra}", flush=True)
        return
    print(f"{suite:4} {name:58} {_fmt(name, e):>10} {_fmt(name, t):>10} {e / t:7.2f}  {extra}",
          flush=True)


def write_results(rows, command):
    lines = [
        "# Benchmark results",
        "",
        f"Latest run: {datetime.date.today().isoformat()}, on {_machine()}.",
        "",
        f"Reproduce: `{command}` (or `tox -e bench`). Ratio = Ember time / torch time, "
        "medians of alternating runs in one process; below 1.0 Ember is faster.",
        "",
        "| suite | case | Ember | torch | ratio | notes |",
        "|---|---|---:|---:|---:|---|",
    ]
    for suite, name, e, t, extra in rows:
        if e is None:
            lines.append(f"| {suite} | {name} | | | | {extra} |")
        else:
            lines.append(f"| {suite} | {name} | {_fmt(name, e)} | {_fmt(name, t)} | "
                         f"{e / t:.2f} | {extra} |")
    # the hand-written analysis below the marker survives a rewrite of the table
    path = HERE / "RESULTS.md"
    marker = "<!-- analysis -->"
    old = path.read_text() if path.exists() else ""
    tail = old[old.index(marker):] if marker in old else marker + "\n"
    path.write_text("\n".join(lines) + "\n\n" + tail)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=["ops", "e2e", "all"], default="all")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="fewer, smaller e2e cases")
    parser.add_argument("--results", action="store_true", help="rewrite benchmarks/RESULTS.md")
    args = parser.parse_args(argv)

    import ember_tensor
    import torch

    torch.set_num_threads(args.threads)
    ember_tensor.set_num_threads(args.threads)
    print(_machine())
    print(f"{'':4} {'case':58} {'Ember':>10} {'torch':>10} {'ratio':>7}")
    rows = []
    if args.suite in ("ops", "all"):
        run_ops(rows)
    if args.suite in ("e2e", "all"):
        run_e2e(rows, quick=args.quick)
    if args.results:
        write_results(rows, "python benchmarks/run.py " + " ".join(sys.argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

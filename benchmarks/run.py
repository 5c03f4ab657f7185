"""Run Ember's benchmarks against torch and print Ember / torch ratios, fairly.

    python benchmarks/run.py                 # op-level and end-to-end suites
    python benchmarks/run.py --suite ops     # one suite (ops | e2e)
    python benchmarks/run.py --rounds 5      # more alternating rounds (default 3)
    python benchmarks/run.py --results       # also rewrite benchmarks/RESULTS.md

Each framework runs alone, in a fresh process of its own that imports only it (a worker:
``run.py --worker ember|torch``), with its own default environment: nothing Ember sets (it
sets ``OMP_WAIT_POLICY=PASSIVE`` for its process) reaches torch, and ``EMBER_*`` variables
reach only Ember. ``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE`` are removed from both, as users
do not have them, unless ``--keep-openblas-env``. The two workers alternate round by round;
a case's time is the best of its rounds' medians. Op-level cases come from the
``cases(lib)`` of every ``benchmarks/ops_*.py``; end-to-end cases from ``benchmarks/e2e.py``.
A ratio below 1.0 means Ember is faster.
"""
import argparse
import datetime
import importlib.util
import json
import os
import pathlib
import platform
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tools"))

from timing import blas_info, cpu_name, fmt_time, median_time  # noqa: E402

LIBS = ("ember", "torch")


def _load(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- the worker: one framework, every case, medians as JSON ---------------------------------
# what a worker of each framework must never have imported: the case files take their
# framework's modules from frameworks.py by ``lib``, and this check proves nothing else came in
OTHERS = {"ember": ("torch", "torchvision"), "torch": ("ember", "ember_tensor", "ember_vision")}


def check_alone(lib, modules=None):
    """Raise when the worker for ``lib`` has imported the other framework."""
    modules = sys.modules if modules is None else modules
    leaked = sorted(name for name in OTHERS[lib] if name in modules)
    if leaked:
        raise RuntimeError(f"the {lib} worker imported {', '.join(leaked)}: each framework "
                           "must run alone in its own process")


# Calls an ops case makes by default (the budget still caps slow cases). A call of tens of
# microseconds falls into separate groups on a shared 2-core host (the other team thread on
# the other core, on the same core, or asleep), and the median of 7 jumped between them.
OPS_REPEAT = 51


def _set_threads(lib, n):
    module = __import__("ember_tensor" if lib == "ember" else "torch")
    old = module.get_num_threads()
    module.set_num_threads(n)
    return lambda: module.set_num_threads(old)


def worker(lib, suite, threads, quick):
    _set_threads(lib, threads)
    module = __import__(lib)
    times, extra = {}, {}
    if suite in ("ops", "all"):
        for path in sorted(HERE.glob("ops_*.py")):
            ops = _load(path)
            for case in ops.cases(lib):
                times[case["name"]] = median_time(case["fn"], case.get("repeat", OPS_REPEAT),
                                                  budget=case.get("budget", 3.0))
                extra[case["name"]] = {"flops": case.get("flops")}
            if lib == "ember" and hasattr(ops, "sgemm_gflops"):
                extra["NumPy sgemm peak"] = {"gflops": ops.sgemm_gflops()}
    if suite in ("e2e", "all"):
        for case in _load(HERE / "e2e.py").cases(lib, quick=quick):
            restore = _set_threads(lib, case["threads"]) if "threads" in case else None
            try:
                times[case["name"]] = median_time(case["make"](), case["repeat"],
                                                  budget=case["budget"])
            finally:
                if restore:
                    restore()
            extra[case["name"]] = {"note": case.get("note", "")}
    if lib == "ember":
        import ember_tensor
        detail = f"kernels {ember_tensor.cpu_level()}; BLAS (NumPy's) {blas_info()}"
    else:
        # torch links its BLAS and oneDNN statically, where threadpoolctl cannot see them
        detail = (f"MKL {module.backends.mkl.is_available()}, "
                  f"oneDNN {module.backends.mkldnn.is_available()}, "
                  f"CPU capability {module.backends.cpu.get_cpu_capability()}")
    info = f"{lib} {module.__version__} ({threads} threads); {detail}"
    check_alone(lib)
    print(json.dumps({"info": info, "times": times, "extra": extra}))


# ---- the driver: workers in turn, rounds alternating ----------------------------------------
def env_for(lib, keep_openblas=False):
    """``lib``'s own default environment: the caller's, less the other framework's switches."""
    env = dict(os.environ)
    if not keep_openblas:
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)
    if lib != "ember":
        for name in [k for k in env if k.startswith("EMBER_")]:
            del env[name]
    return env


def _machine():
    import numpy

    return f"{cpu_name()}; Python {platform.python_version()}, NumPy {numpy.__version__}"


def measure(args):
    """(rows, infos): best-of-rounds medians per case and framework, workers alternating."""
    best, extra, infos = {}, {}, {}
    for r in range(args.rounds):
        for lib in LIBS:
            cmd = [sys.executable, __file__, "--worker", lib, "--suite", args.suite,
                   "--threads", str(args.threads)] + (["--quick"] if args.quick else [])
            proc = subprocess.run(cmd, env=env_for(lib, args.keep_openblas_env),
                                  capture_output=True, text=True)
            if proc.returncode:
                raise RuntimeError(f"{lib} worker failed:\n{proc.stderr[-3000:]}")
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            infos[lib] = result["info"]
            extra.update(result["extra"])
            for case, t in result["times"].items():
                best.setdefault(case, {})[lib] = min(t, best.get(case, {}).get(lib, 1e300))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    rows = []
    for case, times in best.items():
        e, t = times["ember"], times["torch"]
        info = extra.get(case, {})
        note = info.get("note", "")
        if info.get("flops"):
            note = (f"{info['flops'] / e / 1e9:.1f} GFLOP/s "
                    f"(torch {info['flops'] / t / 1e9:.1f})")
        rows.append(("e2e" if "note" in info else "ops", case, e, t, note))
    if "NumPy sgemm peak" in extra:
        rows.append(("ops", "NumPy sgemm peak", None, None,
                     f"{extra['NumPy sgemm peak']['gflops']:.1f} GFLOP/s"))
    if args.suite in ("e2e", "all") and not args.quick:
        e2e = _load(HERE / "e2e.py")
        e_rss, t_rss = e2e.peak_rss(lambda lib: env_for(lib, args.keep_openblas_env))
        rows.append(("e2e", "6 peak RSS of case 5b (fresh process), ratio of bytes", e_rss,
                     t_rss, f"{e_rss / 2**20:.0f} MiB vs {t_rss / 2**20:.0f} MiB; "
                     "target <= 0.75"))
    return rows, infos


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


def write_results(rows, infos, command):
    lines = [
        "# Benchmark results",
        "",
        f"Latest run: {datetime.date.today().isoformat()}, on {_machine()}.",
        "",
        *[f"- {infos[lib]}" for lib in LIBS],
        "",
        f"Reproduce: `{command}` (or `tox -e bench`). Ratio = Ember time / torch time; each "
        "framework alone in its own process with its own environment, the processes "
        "alternating round by round, best of the rounds' medians; below 1.0 Ember is faster.",
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
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="fewer, smaller e2e cases")
    parser.add_argument("--keep-openblas-env", action="store_true",
                        help="leave OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE as they are")
    parser.add_argument("--results", action="store_true", help="rewrite benchmarks/RESULTS.md")
    parser.add_argument("--worker", choices=LIBS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.suite, args.threads, args.quick)
        return 0
    print(_machine())
    rows, infos = measure(args)
    for lib in LIBS:
        print(infos[lib])
    print(f"{'':4} {'case':58} {'Ember':>10} {'torch':>10} {'ratio':>7}")
    for row in rows:
        _print_row(row)
    if args.results:
        write_results(rows, infos, "python benchmarks/run.py " + " ".join(sys.argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

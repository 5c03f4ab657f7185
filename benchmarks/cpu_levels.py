"""Portable build against native build: each kernel level's speed on the hot kernels.

    python benchmarks/cpu_levels.py [--native-python PATH] [--rounds N] [--results]

ember-tensor's default build carries baseline, AVX2 and AVX-512 copies of its kernels and
picks one at import; ``EMBER_NATIVE=1`` builds one ``-march=native`` copy instead. This
script times the same cases under each level this CPU runs (``EMBER_CPU``, this Python's
install) and, given ``--native-python`` (the Python of an environment holding an
``EMBER_NATIVE=1`` build), under the native build. Every configuration runs alone in a
fresh process, the configurations alternate round by round, and a case's time is the best
of its rounds' medians. Ratios are level / native (below 1.0: the portable copy is faster).
``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE`` are removed from the workers' environment, as
users do not have them, unless ``--keep-openblas-env``.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from timing import blas_info, cpu_name, median_time  # noqa: E402
MARK_START, MARK_END = "<!-- cpu-levels:start -->", "<!-- cpu-levels:end -->"


# ---- the worker: one configuration, every case, medians as JSON -----------------------------
def _cases():
    import ember_tensor as et
    from ember_tensor import elementwise as E
    from ember_tensor import optim_update, reduction as R
    from ember_tensor.nn import (batch_norm, batch_norm_backward, conv2d, conv2d_backward,
                                 max_pool2d_with_indices)
    from ember_tensor.nn.softmax import softmax

    rng = np.random.default_rng(0)

    def arr(*shape, scale=1.0):
        return et.from_numpy((rng.standard_normal(shape, dtype=np.float32) * scale).copy())

    v, m = arr(1_000_000), arr(1000, 1000)
    v10, w = arr(10_000_000), arr(1_000_000)
    cases = [
        ("exp 1e6 f32", lambda: E.exp(v), 15),
        ("tanh 1e6 f32", lambda: E.tanh(v), 15),
        ("sigmoid 1e6 f32", lambda: E.sigmoid(v), 15),
        ("add 1e6 f32", lambda: E.add(v, w), 15),
        ("relu 1e6 f32", lambda: E.relu(v), 15),
        ("sum 1e7 f32", lambda: R.sum(v10), 15),
        ("sum dim=1 1000x1000 f32", lambda: R.sum(m, 1), 15),
        ("var dim=0 1000x1000 f32", lambda: R.var(m, 0), 15),
        ("softmax dim=1 1000x1000 f32", lambda: softmax(m, 1), 15),
    ]
    x1, w1, g1 = arr(16, 64, 56, 56), arr(64, 64, 3, 3, scale=0.05), arr(16, 64, 56, 56)
    w2 = arr(128, 64, 3, 3, scale=0.05)
    cases += [
        ("conv2d 3x3 (Winograd) N=16 64x56x56", lambda: conv2d(x1, w1, None, 1, 1), 5),
        ("conv2d 3x3 s2 (im2col) N=16 64x56x56", lambda: conv2d(x1, w2, None, 2, 1), 5),
        ("conv2d backward 3x3 N=16 64x56x56",
         lambda: conv2d_backward(g1, x1, w1, 1, 1, 1, 1, (True, True, False)), 5),
    ]
    xp = arr(16, 64, 112, 112)
    gamma = et.from_numpy(rng.random(64, dtype=np.float32) + 0.5)
    beta, rm = arr(64), et.from_numpy(np.zeros(64, np.float32))
    rv = et.from_numpy(np.ones(64, np.float32))

    def bn_train():
        _, mean, invstd = batch_norm(x1, gamma, beta, rm, rv, True, 0.1, 1e-5)
        batch_norm_backward(g1, x1, gamma, mean, invstd, True)

    n = 11_689_512  # ResNet-18's parameters
    p, g, s1, s2 = arr(n, scale=0.1), arr(n, scale=0.01), arr(n), arr(n, scale=0.0)
    s2 = E.abs(s2)
    cases += [
        ("max_pool2d 3x3/2 16x64x112x112", lambda: max_pool2d_with_indices(xp, 3, 2, 1), 9),
        ("batch_norm train fwd+bwd 16x64x56x56", bn_train, 9),
        ("adam step, 11.7M params", lambda: optim_update.adam_(
            p, g, s1, s2, None, step=3, lr=1e-3), 9),
    ]
    return cases


def _resnet_step(batch=8, size=224):
    import ember
    from ember_vision.models import resnet18

    ember.manual_seed(0)
    model = resnet18()
    opt = ember.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    x = ember.randn(batch, 3, size, size)
    y = ember.randint(0, 1000, (batch,))

    def step():
        opt.zero_grad()
        ember.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return (f"ResNet-18 training step {batch}x3x{size}x{size}", step, 3)


def worker():
    import ember_tensor

    cases = _cases()
    try:
        cases.append(_resnet_step())
    except ImportError:  # an environment without ember / ember_vision: kernels only
        pass
    out = {"level": ember_tensor.cpu_level(), "blas": blas_info(), "times": {}}
    for name, fn, repeat in cases:
        out["times"][name] = median_time(fn, repeat)
    print(json.dumps(out))


# ---- the driver: configurations in turn, rounds alternating ---------------------------------
def _configs(native_python):
    env = {k: v for k, v in os.environ.items() if k != "EMBER_CPU"}
    probe = subprocess.run([sys.executable, "-c", "import ember_tensor as e;"
                            "print(*e.supported_cpu_levels())"], env=env, check=True,
                           capture_output=True, text=True).stdout.split()
    configs = []
    if native_python:
        configs.append(("native", native_python, None))
    for level in reversed(probe):
        configs.append((level, sys.executable, level))
    return configs


def run(native_python, rounds, keep_openblas):
    base = {k: v for k, v in os.environ.items() if k != "EMBER_CPU"}
    if not keep_openblas:
        base.pop("OPENBLAS_CORETYPE", None)
        base.pop("OPENBLAS_L2_SIZE", None)
    configs = _configs(native_python)
    best, info = {}, {}
    for r in range(rounds):
        for name, python, level in configs:
            env = dict(base, **({"EMBER_CPU": level} if level else {}))
            proc = subprocess.run([python, __file__, "--worker"], env=env, check=True,
                                  capture_output=True, text=True)
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            info[name] = (result["level"], result["blas"])
            for case, t in result["times"].items():
                best.setdefault(case, {})
                best[case][name] = min(t, best[case].get(name, float("inf")))
        print(f"round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
    return [c[0] for c in configs], best, info


def _fmt(seconds):
    return f"{seconds * 1e3:.3f} ms" if seconds < 1 else f"{seconds:.3f} s"


def table(names, best, info):
    ref = "native" if "native" in names else names[0]
    others = [n for n in names if n != ref]
    lines = [f"| case | {ref} | " + " | ".join(f"{n} | {n} / {ref}" for n in others) + " |",
             "|---|---:|" + "---:|---:|" * len(others)]
    for case, times in best.items():
        row = [case, _fmt(times[ref])]
        for n in others:
            row += [_fmt(times[n]), f"{times[n] / times[ref]:.2f}"]
        lines.append("| " + " | ".join(row) + " |")
    header = [f"Machine: {cpu_name()}; NumPy {np.__version__}; "
              f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}."]
    for n in names:
        header.append(f"- `{n}`: kernels loaded as `{info[n][0]}`; BLAS {info[n][1]}")
    return "\n".join(header + [""] + lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--native-python", help="Python of an env with an EMBER_NATIVE=1 build")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--keep-openblas-env", action="store_true")
    ap.add_argument("--results", action="store_true",
                    help="also rewrite the CPU-levels section of benchmarks/RESULTS.md")
    args = ap.parse_args()
    if args.worker:
        worker()
        return
    names, best, info = run(args.native_python, args.rounds, args.keep_openblas_env)
    text = table(names, best, info)
    print(text)
    if args.results:
        path = HERE / "RESULTS.md"
        doc = path.read_text()
        block = f"{MARK_START}\n{text}\n{MARK_END}"
        if MARK_START in doc:
            doc = doc[:doc.index(MARK_START)] + block + doc[doc.index(MARK_END) + len(MARK_END):]
        else:
            title = "## Portable build: each CPU level against the native build"
            doc = f"{doc.rstrip()}\n\n{title}\n\n{block}\n"
        path.write_text(doc)


if __name__ == "__main__":
    main()

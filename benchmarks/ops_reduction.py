"""Reduction and GEMM cases for ``benchmarks/run.py``: one framework's calls on fixed data.

Both sides go through what a user calls, ``lib.sum`` / ``lib.max`` / ``lib.var`` /
``lib.matmul`` on the framework's Tensors (no gradient wanted), so Ember's Tensor wrapping
and dispatch are timed as well as its kernels."""
import numpy as np


def _ops(lib):
    mod = __import__(lib)
    return mod.from_numpy, mod.sum, mod.max, mod.var, mod.matmul


def cases(lib):
    wrap, total, largest, var, matmul = _ops(lib)
    rng = np.random.default_rng(0)
    out = []
    for n, label in ((1_000_000, "1e6"), (10_000_000, "1e7")):
        x = wrap(rng.standard_normal(n, dtype=np.float32))
        out.append({"name": f"sum {label} f32", "fn": lambda x=x: total(x), "flops": float(n)})
    m = wrap(rng.standard_normal((1000, 1000), dtype=np.float32))
    out.append({"name": "sum dim=0 1000x1000 f32", "fn": lambda: total(m, 0), "flops": 1e6})
    out.append({"name": "sum dim=1 1000x1000 f32", "fn": lambda: total(m, 1), "flops": 1e6})
    out.append({"name": "max dim=1 1000x1000 f32", "fn": lambda: largest(m, 1), "flops": 1e6})
    out.append({"name": "var dim=0 1000x1000 f32", "fn": lambda: var(m, 0), "flops": 2e6})
    for n in (64, 512, 2048):
        a = wrap(rng.standard_normal((n, n), dtype=np.float32))
        b = wrap(rng.standard_normal((n, n), dtype=np.float32))
        out.append({"name": f"matmul {n} f32", "fn": lambda a=a, b=b: matmul(a, b),
                    "flops": 2.0 * n ** 3, "budget": 6.0 if n == 2048 else 3.0})
    return out

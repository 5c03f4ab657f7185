"""Reduction and GEMM cases for ``benchmarks/run.py``: one framework's calls on fixed data."""
import numpy as np


def _ops(lib):
    if lib == "ember":
        from ember_tensor import from_numpy
        from ember_tensor import linalg as L
        from ember_tensor import reduction as R
        return from_numpy, R.sum, R.max, R.var, L.matmul
    import torch
    return torch.from_numpy, torch.sum, torch.max, torch.var, torch.matmul


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

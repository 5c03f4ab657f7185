"""Reduction and GEMM cases for ``benchmarks/run.py``: Ember and torch on the same data."""
import numpy as np


def cases():
    import torch

    from ember_tensor import linalg as L
    from ember_tensor import reduction as R
    from ember_tensor._array import Array

    rng = np.random.default_rng(0)
    out = []
    for n, label in ((1_000_000, "1e6"), (10_000_000, "1e7")):
        x = rng.standard_normal(n, dtype=np.float32)
        ex, tx = Array(x), torch.from_numpy(x)
        out.append({"name": f"sum {label} f32", "ember": lambda ex=ex: R.sum(ex),
                    "torch": lambda tx=tx: torch.sum(tx), "flops": float(n)})
    m = rng.standard_normal((1000, 1000), dtype=np.float32)
    em, tm = Array(m), torch.from_numpy(m)
    out.append({"name": "sum dim=0 1000x1000 f32", "ember": lambda: R.sum(em, 0),
                "torch": lambda: torch.sum(tm, 0), "flops": 1e6})
    out.append({"name": "sum dim=1 1000x1000 f32", "ember": lambda: R.sum(em, 1),
                "torch": lambda: torch.sum(tm, 1), "flops": 1e6})
    out.append({"name": "max dim=1 1000x1000 f32", "ember": lambda: R.max(em, 1),
                "torch": lambda: torch.max(tm, 1), "flops": 1e6})
    out.append({"name": "var dim=0 1000x1000 f32", "ember": lambda: R.var(em, 0),
                "torch": lambda: torch.var(tm, 0), "flops": 2e6})
    for n in (64, 512, 2048):
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        ea, eb, ta, tb = Array(a), Array(b), torch.from_numpy(a), torch.from_numpy(b)
        out.append({"name": f"matmul {n} f32", "ember": lambda ea=ea, eb=eb: L.matmul(ea, eb),
                    "torch": lambda ta=ta, tb=tb: torch.matmul(ta, tb),
                    "flops": 2.0 * n ** 3, "budget": 6.0 if n == 2048 else 3.0})
    return out

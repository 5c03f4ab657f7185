"""Elementwise op cases for ``benchmarks/run.py``: Ember and torch on the same float32 data."""
import numpy as np


def cases():
    import torch

    import ember_tensor as et
    from ember_tensor import elementwise as E

    rng = np.random.default_rng(0)
    out = []
    for n, label in ((1_000, "1e3"), (1_000_000, "1e6"), (10_000_000, "1e7")):
        a = rng.standard_normal(n, dtype=np.float32)
        b = rng.standard_normal(n, dtype=np.float32)
        ea, eb = et.from_numpy(a), et.from_numpy(b)
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        out.append({"name": f"add {label} f32", "ember": lambda ea=ea, eb=eb: E.add(ea, eb),
                    "torch": lambda ta=ta, tb=tb: torch.add(ta, tb), "flops": float(n)})
        if n == 1_000_000:
            out.append({"name": f"relu {label} f32", "ember": lambda ea=ea: E.relu(ea),
                        "torch": lambda ta=ta: torch.relu(ta), "flops": float(n)})
            out.append({"name": f"mul scalar {label} f32", "ember": lambda ea=ea: E.mul(ea, 2.0),
                        "torch": lambda ta=ta: torch.mul(ta, 2.0), "flops": float(n)})
    x = rng.standard_normal((1000, 1000), dtype=np.float32)
    row = rng.standard_normal((1000,), dtype=np.float32)
    col = rng.standard_normal((1000, 1), dtype=np.float32)
    ex, er, ec = et.from_numpy(x), et.from_numpy(row), et.from_numpy(col)
    tx, tr, tc = torch.from_numpy(x), torch.from_numpy(row), torch.from_numpy(col)
    out.append({"name": "mul broadcast row 1000x1000 f32", "ember": lambda: E.mul(ex, er),
                "torch": lambda: torch.mul(tx, tr), "flops": 1e6})
    out.append({"name": "mul broadcast col 1000x1000 f32", "ember": lambda: E.mul(ex, ec),
                "torch": lambda: torch.mul(tx, tc), "flops": 1e6})
    ext, txt = et.from_numpy(x.T), torch.from_numpy(x.T)
    out.append({"name": "add transposed+contig 1000x1000 f32", "ember": lambda: E.add(ext, ex),
                "torch": lambda: torch.add(txt, tx), "flops": 1e6})
    return out

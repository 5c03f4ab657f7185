"""Elementwise op cases for ``benchmarks/run.py``: one framework's calls on fixed float32 data.

Both sides go through what a user calls, ``lib.add`` / ``lib.relu`` / ``lib.mul`` on the
framework's Tensors (no gradient wanted), so Ember's Tensor wrapping and dispatch are timed as
well as its kernels."""
import numpy as np


def _ops(lib):
    mod = __import__(lib)
    return mod.from_numpy, mod.add, mod.relu, mod.mul


def cases(lib):
    wrap, add, relu, mul = _ops(lib)
    rng = np.random.default_rng(0)
    out = []
    for n, label in ((1_000, "1e3"), (1_000_000, "1e6"), (10_000_000, "1e7")):
        a = wrap(rng.standard_normal(n, dtype=np.float32))
        b = wrap(rng.standard_normal(n, dtype=np.float32))
        out.append({"name": f"add {label} f32", "fn": lambda a=a, b=b: add(a, b),
                    "flops": float(n)})
        if n == 1_000_000:
            out.append({"name": f"relu {label} f32", "fn": lambda a=a: relu(a),
                        "flops": float(n)})
            out.append({"name": f"mul scalar {label} f32", "fn": lambda a=a: mul(a, 2.0),
                        "flops": float(n)})
    x = rng.standard_normal((1000, 1000), dtype=np.float32)
    row = wrap(rng.standard_normal((1000,), dtype=np.float32))
    col = wrap(rng.standard_normal((1000, 1), dtype=np.float32))
    wx, wxt = wrap(x), wrap(x.T)
    out.append({"name": "mul broadcast row 1000x1000 f32", "fn": lambda: mul(wx, row),
                "flops": 1e6})
    out.append({"name": "mul broadcast col 1000x1000 f32", "fn": lambda: mul(wx, col),
                "flops": 1e6})
    out.append({"name": "add transposed+contig 1000x1000 f32", "fn": lambda: add(wxt, wx),
                "flops": 1e6})
    return out

"""Write tests/tensor/golden/reduction.json: torch's results for reductions.

Each case names a reduction, its keyword arguments and input (nested list + dtype), and
stores torch's output (values, dtype, shape; a list of them for (values, indices) results) or
its error (type and message). ``tests/tensor/test_reduction.py`` replays them without torch.
Run: ``python tools/make_golden_reduction.py`` (needs torch).
"""
import json
import math
import pathlib
import warnings

import torch

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "tensor" / "golden" / "reduction.json"


def _inputs():
    g = torch.Generator().manual_seed(7)
    nan, inf = math.nan, math.inf
    yield "f32_3x4", torch.randn(3, 4, generator=g)
    yield "f64_2x3x4", torch.randn(2, 3, 4, generator=g, dtype=torch.float64)
    yield "f32_scalar", torch.tensor(2.5)
    yield "f32_empty_0x3", torch.zeros(0, 3)
    yield "f32_nan", torch.tensor([[1.0, nan, 3.0], [inf, -inf, 0.5]])
    yield "f32_ties", torch.tensor([[2.0, 5.0, 5.0, 1.0], [1.0, 1.0, 0.0, 0.0]])
    yield "i64_2x3", torch.tensor([[3, -1, 4], [1, 5, -9]])
    yield "i32_4", torch.tensor([7, 0, -2, 7], dtype=torch.int32)
    yield "u8_3", torch.tensor([200, 100, 0], dtype=torch.uint8)
    yield "bool_2x2", torch.tensor([[True, False], [True, True]])
    yield "f32_big_mag", torch.tensor([1e30, 1e30, -1e30, 3.0])


def _calls():
    for dim in (None, 0, -1, (0, 1)):
        kw = {} if dim is None else {"dim": dim}
        yield "sum", kw
        yield "sum", dict(kw, keepdim=True) if kw else {}
        yield "mean", kw
        yield "amax", kw
        yield "amin", dict(kw, keepdim=True) if kw else {}
        yield "var", kw
        yield "std", dict(kw, correction=0)
        yield "all", kw if not isinstance(dim, tuple) else {}
        yield "any", kw if not isinstance(dim, tuple) else {}
        yield "norm", kw
    for dim in (0, 1, -1, 3):
        yield "max", {"dim": dim}
        yield "min", {"dim": dim, "keepdim": True}
        yield "argmax", {"dim": dim}
        yield "argmin", {"dim": dim, "keepdim": True}
        yield "logsumexp", {"dim": dim}
        yield "cumsum", {"dim": dim}
        yield "prod", {"dim": dim}
    yield "max", {}
    yield "min", {}
    yield "argmax", {}
    yield "argmin", {}
    yield "prod", {}
    yield "sum", {"dtype": "float64"}
    yield "mean", {"dtype": "float64"}
    yield "var", {"correction": 2}
    yield "norm", {"p": 1}
    yield "norm", {"p": float("inf")}
    yield "norm", {"p": 0}
    yield "norm", {"p": 3, "dim": 0}


def _encode(t):
    return {"data": t.tolist(), "dtype": str(t.dtype).replace("torch.", ""),
            "shape": list(t.shape)}


def main():
    cases = []
    for in_name, t in _inputs():
        for op, kw in _calls():
            targs = {k: (getattr(torch, v) if k == "dtype" else v) for k, v in kw.items()}
            case = {"input_name": in_name, "input": _encode(t), "op": op, "kwargs": kw}
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    out = getattr(torch, op)(t, **targs)
            except Exception as err:  # noqa: BLE001 - the error is the expected result
                case["error"] = {"type": type(err).__name__, "message": str(err).split("\n")[0]}
            else:
                case["result"] = ([_encode(o) for o in out] if isinstance(out, tuple)
                                  else _encode(out))
            cases.append(case)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(cases) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()

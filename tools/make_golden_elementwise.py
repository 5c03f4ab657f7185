"""Record torch's answers for Ember's elementwise ops into tests/tensor/golden/.

    python tools/make_golden_elementwise.py

Writes ``elementwise_values.json`` (values and dtypes of each op on fixed inputs of every
dtype, and the errors torch raises) and ``elementwise_promotion.json`` (result dtypes of
mixed-dtype and tensor/scalar operations). Each case is an expression over ``a``/``b``/``c`` that
reads the same in both libraries; the test evaluates it with Ember's functions.
"""
import json
import math
import pathlib

import torch
import torch.nn.functional as F

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "tensor" / "golden"

DTYPES = ["float32", "float64", "int64", "int32", "int16", "int8", "uint8", "bool"]
INF = math.inf
VALUES = {
    "float": [-2.5, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 2.5, 3.0, math.nan, INF, -INF],
    "float_b": [2.0, -3.0, 0.5, 1.5, -0.5, 4.0, 0.0, -2.5, 3.0, 1.0, 2.0, INF],
    "int": [-7, -3, -1, 0, 1, 2, 3, 7, 100, -100, 5, 9],
    "int_b": [2, -2, 3, 1, -1, 5, 2, 3, 7, 3, -4, 4],  # no zeros: integer division traps
    "uint8": [0, 1, 2, 3, 7, 100, 200, 255, 5, 9, 10, 12],
    "uint8_b": [1, 2, 3, 4, 5, 7, 9, 2, 3, 100, 1, 2],
    "bool": [True, False, True, True, False, False, True, False, True, False, True, False],
    "bool_b": [True, True, False, True, False, True, False, False, True, True, False, False],
}


def values_for(dtype, which=""):
    if dtype.startswith("float"):
        kind = "float"
    elif dtype == "uint8" or dtype == "bool":
        kind = dtype
    else:
        kind = "int"
    return VALUES[kind + which]


BINARY = [
    "add(a, b)", "sub(a, b)", "mul(a, b)", "div(a, b)", "a + b", "a - b", "a * b", "a / b",
    "div(a, b, rounding_mode='floor')", "div(a, b, rounding_mode='trunc')", "a // b", "a % b",
    "remainder(a, b)", "floor_divide(a, b)", "true_divide(a, b)", "maximum(a, b)",
    "minimum(a, b)", "eq(a, b)", "ne(a, b)", "lt(a, b)", "le(a, b)", "gt(a, b)", "ge(a, b)",
    "a == b", "a != b", "a < b", "a <= b", "a > b", "a >= b", "logical_and(a, b)",
    "logical_or(a, b)", "logical_xor(a, b)", "a & b", "a | b", "a ^ b", "add(a, b, alpha=2)",
    "sub(a, b, alpha=2)", "pow(a, b)", "a ** 2", "a ** 0.5", "a ** -1", "2 ** a", "a + 1",
    "a + 1.5", "a * 2.5", "1 - a", "3 / a", "a > 1", "a == 0", "where(a > 0, a, b)",
    "clamp(a, -1, 2)", "clamp(a, min=0)", "clamp(a, max=1.5)", "clamp(a, b, c)",
]
UNARY = [
    "neg(a)", "-a", "abs(a)", "sign(a)", "square(a)", "exp(a)", "log(a)", "log1p(a)",
    "expm1(a)", "log2(a)", "sqrt(a)", "rsqrt(a)", "reciprocal(a)", "sin(a)", "cos(a)",
    "tanh(a)", "sigmoid(a)", "erf(a)", "floor(a)", "ceil(a)", "round(a)", "trunc(a)", "relu(a)",
    "leaky_relu(a, 0.1)", "gelu(a)", "gelu(a, approximate='tanh')", "isnan(a)", "isinf(a)",
    "isfinite(a)", "nan_to_num(a)", "nan_to_num(a, nan=1.0, posinf=2.0, neginf=-2.0)",
    "logical_not(a)", "~a", "bitwise_not(a)", "a.float()", "a.long()", "a.bool()", "a.int()",
]
ERRORS = [
    ("a.add_(b)", {"a": ("float32", [1.0, 2.0]), "b": ("float32", [[1.0, 2.0]] * 3)}),
    ("a.add_(b)", {"a": ("int64", [1, 2]), "b": ("float32", [1.0, 2.0])}),
    ("a.mul_(1.5)", {"a": ("int64", [1, 2])}),
    ("a.expand(3, 2).add_(1)", {"a": ("float32", [1.0, 2.0])}),
    ("a + b", {"a": ("float32", [1.0, 2.0]), "b": ("float32", [1.0, 2.0, 3.0])}),
    ("a - b", {"a": ("bool", [True]), "b": ("bool", [False])}),
    ("a - b", {"a": ("bool", [True]), "b": ("int64", [1])}),
    ("-a", {"a": ("bool", [True])}),
    ("a ** -1", {"a": ("int64", [1, 2])}),
    ("a // b", {"a": ("int64", [1, 2]), "b": ("int64", [1, 0])}),
    ("a % b", {"a": ("int32", [1, 2]), "b": ("int32", [0, 1])}),
    ("div(a, b, rounding_mode='up')", {"a": ("float32", [1.0]), "b": ("float32", [1.0])}),
    ("a & b", {"a": ("float32", [1.0]), "b": ("float32", [1.0])}),
    ("~a", {"a": ("float32", [1.0])}),
    ("where(a, b, b)", {"a": ("int64", [1, 0]), "b": ("float32", [1.0, 2.0])}),
    ("clamp(a)", {"a": ("float32", [1.0])}),
    ("relu(a)", {"a": ("bool", [True])}),
    ("abs(a)", {"a": ("bool", [True])}),
    ("add(a, b, alpha=0.5)", {"a": ("int64", [1]), "b": ("int64", [1])}),
    ("a.copy_(b)", {"a": ("float32", [1.0, 2.0]), "b": ("float32", [1.0, 2.0, 3.0])}),
    ("add(a, b, out=c)", {"a": ("float32", [1.0]), "b": ("float32", [1.0]),
                          "c": ("int64", [0])}),
]


def torch_namespace():
    ns = {name: getattr(torch, name) for name in (
        "add sub mul div remainder floor_divide true_divide maximum minimum eq ne lt le gt ge "
        "logical_and logical_or logical_xor logical_not bitwise_not pow where clamp neg abs sign "
        "square exp log log1p expm1 log2 sqrt rsqrt reciprocal sin cos tanh sigmoid erf floor "
        "ceil round trunc relu isnan isinf isfinite nan_to_num"
    ).split()}
    ns["leaky_relu"] = F.leaky_relu
    ns["gelu"] = F.gelu
    return ns


def make(dtype, values, shape=(3, 4)):
    t = torch.tensor(values, dtype=getattr(torch, dtype))
    return t.reshape(shape) if t.numel() == 12 else t


def run(expr, env):
    ns = torch_namespace()
    ns.update(env)
    try:
        r = eval(expr, ns)  # noqa: S307 - our own fixed expressions
    except Exception as err:  # noqa: BLE001 - recording whatever torch raises
        return {"error": [type(err).__name__, str(err).split("\n")[0]]}
    if isinstance(r, bool):
        return {"python": r}
    return {"dtype": str(r.dtype).replace("torch.", ""), "shape": list(r.shape),
            "values": r.flatten().tolist()}


def value_cases():
    cases = []
    for dt in DTYPES:
        env = {"a": make(dt, values_for(dt)), "b": make(dt, values_for(dt, "_b")),
               "c": make(dt, values_for(dt, "_b")[::-1])}
        inputs = {k: [dt, values_for(dt, s)] for k, s in (("a", ""), ("b", "_b"))}
        inputs["c"] = [dt, values_for(dt, "_b")[::-1]]
        for expr in BINARY + UNARY:
            cases.append({"expr": expr, "inputs": inputs, "torch": run(expr, env)})
    for expr, spec in ERRORS:
        env = {k: torch.tensor(v, dtype=getattr(torch, d)) for k, (d, v) in spec.items()}
        cases.append({"expr": expr, "inputs": {k: list(v) for k, v in spec.items()},
                      "torch": run(expr, env)})
    return cases


def promotion_cases():
    """Result dtypes over dtype pairs, 0-dim tensors and Python scalars."""
    cases = []
    scalars = {"int": 2, "float": 2.5, "bool": True}
    for da in DTYPES:
        for db in DTYPES:
            for shape_b in ([2], []):
                a = torch.ones(2, dtype=getattr(torch, da))
                b = torch.ones(shape_b, dtype=getattr(torch, db))
                for op in ("add", "mul", "div", "maximum", "eq", "where"):
                    if op == "where":
                        r = torch.where(a > 0, a, b)
                    else:
                        try:
                            r = getattr(torch, op)(a, b)
                        except RuntimeError:
                            continue
                    cases.append({"op": op, "a": [da, [2]], "b": [db, shape_b],
                                  "dtype": str(r.dtype).replace("torch.", "")})
        for kind, s in scalars.items():
            a = torch.ones(2, dtype=getattr(torch, da))
            for op in ("add", "mul", "div"):
                try:
                    r = getattr(torch, op)(a, s)
                except RuntimeError:
                    continue
                cases.append({"op": op, "a": [da, [2]], "b": ["scalar", kind],
                              "dtype": str(r.dtype).replace("torch.", "")})
        a = torch.ones(2, dtype=getattr(torch, da))
        for op in ("exp", "sqrt", "sigmoid", "neg", "abs", "floor", "relu", "square"):
            try:
                r = getattr(torch, op)(a)
            except (RuntimeError, NotImplementedError):
                continue
            cases.append({"op": op, "a": [da, [2]], "b": None,
                          "dtype": str(r.dtype).replace("torch.", "")})
    return cases


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "elementwise_values.json").write_text(json.dumps(value_cases()))
    (OUT / "elementwise_promotion.json").write_text(json.dumps(promotion_cases(), indent=0))
    print("wrote", OUT / "elementwise_values.json", OUT / "elementwise_promotion.json")


if __name__ == "__main__":
    main()

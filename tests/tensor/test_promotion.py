"""Result dtypes of elementwise ops follow torch's promotion (golden from torch 2.x)."""
import json
import pathlib

import numpy as np
import pytest

import ember_tensor as et
from ember_tensor import _dtype as D
from ember_tensor import elementwise as E

GOLDEN = pathlib.Path(__file__).parent / "golden" / "elementwise_promotion.json"
CASES = json.loads(GOLDEN.read_text())
SCALARS = {"int": 2, "float": 2.5, "bool": True}


def operand(spec):
    dtype, shape = spec
    if dtype == "scalar":
        return SCALARS[shape]
    return et.from_numpy(np.ones(shape, dtype=np.dtype(dtype)))


def run(case):
    a = operand(case["a"])
    if case["b"] is None:
        return getattr(E, case["op"])(a)
    b = operand(case["b"])
    if case["op"] == "where":
        return E.where(E.gt(a, 0), a, b)
    return getattr(E, case["op"])(a, b)


@pytest.mark.parametrize(
    "case", CASES,
    ids=[f"{c['op']}-{c['a'][0]}-{c['b'][0] + str(c['b'][1]) if c['b'] else ''}" for c in CASES])
def test_result_dtype_matches_torch(case):
    assert run(case).dtype.name == case["dtype"]


def test_result_type_agrees_with_ops():
    """``_dtype.result_type`` (what autograd will call) agrees with what the kernels produce."""
    for case in CASES:
        if case["op"] != "add" or case["b"][0] == "scalar":
            continue
        a, b = operand(case["a"]), operand(case["b"])
        assert D.result_type(a, b).name == case["dtype"]


@pytest.mark.parametrize("src,dst,ok", [
    ("float32", "int64", False), ("float64", "float32", True), ("int64", "float32", True),
    ("int64", "bool", False), ("bool", "uint8", True), ("uint8", "int8", True),
])
def test_can_cast(src, dst, ok):
    assert E.can_cast(D.as_dtype(src), D.as_dtype(dst)) is ok

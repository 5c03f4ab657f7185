"""format_tensor against torch's repr, from golden cases made by tools/make_golden_printing.py."""
import json
import math
import pathlib

import numpy as np
import pytest

import ember_tensor as et
from ember_tensor import _printing
from ember_tensor._array import Array

GOLDEN = pathlib.Path(__file__).parent / "golden" / "printing.json"
CASES = json.loads(GOLDEN.read_text())


@pytest.fixture(autouse=True)
def _restore_options():
    yield
    _printing.set_printoptions(profile="default")
    et.set_default_dtype(et.float32)


def _build(case):
    dtype = getattr(et, case["dtype"]).np
    arr = np.array(case["data"], dtype=dtype).reshape(case["shape"])
    return Array(arr)


def test_golden_has_enough_cases():
    assert len(CASES) >= 60
    assert len({c["name"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_repr_matches_torch(case):
    opts = dict(case["opts"])
    default = opts.pop("default_dtype", None)
    if default:
        et.set_default_dtype(getattr(et, default))
    _printing.set_printoptions(**opts)
    assert _printing.format_tensor(_build(case), suffixes=case["suffixes"]) == case["repr"]


@pytest.mark.parametrize("text, expected", [
    ([36.0, 81.0], "tensor([36., 81.])"),
    ([81.0, 144.0], "tensor([ 81., 144.])"),
    ([-12.0, -8.0], "tensor([-12.,  -8.])"),
    ([True, True], "tensor([True, True])"),
])
def test_mission_lines(text, expected):
    dtype = np.bool_ if isinstance(text[0], bool) else np.float32
    assert repr(Array(np.array(text, dtype=dtype))) == expected


def test_mission_scalar():
    assert repr(Array(np.array(-505.1766, dtype=np.float32))) == "tensor(-505.1766)"
    assert (_printing.format_tensor(Array(np.array(-505.1766, dtype=np.float32)),
                                    suffixes=("grad_fn=<SumBackward0>",))
            == "tensor(-505.1766, grad_fn=<SumBackward0>)")


def test_printoptions_roundtrip():
    before = _printing.get_printoptions()
    assert before == {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80,
                      "sci_mode": None}
    _printing.set_printoptions(precision=2, sci_mode=True)
    assert _printing.get_printoptions()["precision"] == 2
    assert _printing.get_printoptions()["sci_mode"] is True
    _printing.set_printoptions(precision=3)  # sci_mode resets to None, as torch's does
    assert _printing.get_printoptions()["sci_mode"] is None
    _printing.set_printoptions(**before)
    assert _printing.get_printoptions() == before


def test_printoptions_context_manager_restores():
    x = Array(np.array([1.23456], dtype=np.float32))
    with _printing.printoptions(precision=1):
        assert repr(x) == "tensor([1.2])"
    assert repr(x) == "tensor([1.2346])"


def test_full_profile_disables_summary():
    _printing.set_printoptions(profile="full")
    assert _printing.get_printoptions()["threshold"] == math.inf
    text = repr(Array(np.arange(1200)))
    assert "..." not in text and text.count(",") == 1199


def test_unknown_profile_rejected():
    with pytest.raises(ValueError):
        _printing.set_printoptions(profile="nope")


def test_noncontiguous_view_prints_its_values():
    base = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert repr(Array(base.T[1:3])) == "tensor([[1., 5., 9.],\n        [2., 6., 10.]])".replace(
        "[1., 5., 9.]", "[ 1.,  5.,  9.]").replace("[2., 6., 10.]", "[ 2.,  6., 10.]")


def test_huge_tensor_prints_fast_and_summarised():
    x = Array(np.ones((1000, 1000), dtype=np.float32))
    text = repr(x)
    assert text.count("\n") == 6 and "..." in text

"""The kernel properties' oracles checked against live torch: dtype promotion (incl. 0-d
tensors), error types for bad shapes, dims and indices, and random conv2d/max_pool2d calls."""
import importlib.util
import pathlib

import numpy as np
import pytest

torch = pytest.importorskip("torch")
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import ember  # noqa: E402
import ember.nn.functional as F  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "reliability_kernel_fuzz", pathlib.Path(__file__).with_name("test_kernel_fuzz.py"))
_kernel_fuzz = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_kernel_fuzz)
result_dtype = _kernel_fuzz.result_dtype

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)
DTYPES = ["float32", "float64", "int32", "int64"]


@SETTINGS
@given(a=st.sampled_from(DTYPES), b=st.sampled_from(DTYPES), a_0d=st.booleans(),
       b_0d=st.booleans(), op=st.sampled_from(["add", "mul", "maximum", "div"]))
def test_promotion_oracle_and_ember_agree_with_torch(a, b, a_0d, b_0d, op):
    def make(lib, dtype, zero_d):
        return lib.ones((), dtype=getattr(lib, dtype)) if zero_d else \
            lib.ones(3, dtype=getattr(lib, dtype))
    want = str(getattr(torch, op)(make(torch, a, a_0d), make(torch, b, b_0d)).dtype)
    got = str(getattr(ember, op)(make(ember, a, a_0d), make(ember, b, b_0d)).dtype)
    assert got.split(".")[-1] == want.split(".")[-1]
    if op != "div":
        assert result_dtype(a, b, a_0d, b_0d) == want.split(".")[-1]


BAD = {
    "broadcast": lambda m: m.add(m.zeros(2, 3), m.zeros(4, 3)),
    "broadcast-empty": lambda m: m.mul(m.zeros(2, 0), m.zeros(3)),
    "matmul": lambda m: m.matmul(m.zeros(2, 3), m.zeros(2, 3)),
    "matmul-0d": lambda m: m.matmul(m.zeros(()), m.zeros(3)),
    "cat": lambda m: m.cat([m.zeros(2, 3), m.zeros(2, 4)], dim=0),
    "stack": lambda m: m.stack([m.zeros(2), m.zeros(3)]),
    "sum-dim": lambda m: m.zeros(2, 3).sum(dim=2),
    "index": lambda m: m.zeros(2, 3)[2],
    "index-tensor": lambda m: m.zeros(2, 3)[m.tensor([5])],
    "index-neg": lambda m: m.zeros(2, 3)[:, -4],
    "cat-dim": lambda m: m.cat([m.zeros(2, 3)], dim=2),
    "amax-empty": lambda m: m.zeros(2, 0).amax(dim=1),
    "softmax-dim": lambda m: m.nn.functional.softmax(m.zeros(2, 3), dim=-3),
    "conv-channels": lambda m: m.nn.functional.conv2d(m.zeros(1, 3, 4, 4), m.zeros(2, 2, 3, 3)),
    "conv-kernel": lambda m: m.nn.functional.conv2d(m.zeros(1, 2, 2, 2), m.zeros(1, 2, 3, 3)),
    "pool-padding": lambda m: m.nn.functional.max_pool2d(m.zeros(1, 1, 4, 4), 3, padding=2),
    "pool-too-small": lambda m: m.nn.functional.max_pool2d(m.zeros(1, 1, 1, 1), 2),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_raises_torchs_error_type(case):
    with pytest.raises(Exception) as want:
        BAD[case](torch)
    with pytest.raises(Exception) as got:
        BAD[case](ember)
    assert type(got.value).__name__ == type(want.value).__name__, (got.value, want.value)


@SETTINGS
@given(h=st.integers(1, 7), w=st.integers(1, 7), k=st.integers(1, 3), stride=st.integers(1, 3),
       padding=st.integers(0, 2), dilation=st.integers(1, 2), ceil_mode=st.booleans(),
       groups=st.integers(1, 2), seed=st.integers(0, 999))
def test_conv_and_pool_random_params_match_torch(h, w, k, stride, padding, dilation,
                                                 ceil_mode, groups, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 2 * groups, h, w)).astype(np.float32)
    wt = rng.standard_normal((2 * groups, 2, k, k)).astype(np.float32)

    def run(lib, fn):
        try:
            return fn(lib).numpy(), None
        except Exception as exc:  # noqa: BLE001 - the error type is what is compared
            return None, type(exc).__name__

    def conv(lib):
        return lib.nn.functional.conv2d(lib.from_numpy(x), lib.from_numpy(wt), stride=stride,
                                        padding=padding, dilation=dilation, groups=groups)

    def pool(lib):
        return lib.nn.functional.max_pool2d(lib.from_numpy(x), k, stride, padding, dilation,
                                            ceil_mode=ceil_mode)

    for fn in (conv, pool):
        want, want_err = run(torch, fn)
        got, got_err = run(ember, fn)
        assert got_err == want_err
        if want is not None:
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_f_is_ember_functional():
    assert F.conv2d is ember.nn.functional.conv2d

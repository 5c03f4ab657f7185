"""Reductions: golden torch results (tools/make_golden_reduction.py), sum_to_shape, the
kernels' own argument checks, and the parallel paths against float64 NumPy."""
import json
import pathlib
import warnings

import numpy as np
import pytest

import ember_tensor as et
from ember_tensor import reduction as R
from ember_tensor._array import Array
from ember_tensor._kernels import reduce as K

GOLDEN = json.loads((pathlib.Path(__file__).parent / "golden" / "reduction.json").read_text())


def _decode(enc):
    return np.array(enc["data"], dtype=getattr(et, enc["dtype"]).np).reshape(enc["shape"])


def _assert_same(got, enc):
    want = _decode(enc)
    assert got._np.shape == want.shape
    assert got._np.dtype == want.dtype
    if want.dtype.kind == "f":
        tol = 1e-12 if want.dtype == np.float64 else 2e-6
        np.testing.assert_allclose(got._np, want, rtol=tol, atol=tol, equal_nan=True)
    else:
        np.testing.assert_array_equal(got._np, want)


def _case_id(c):
    return f"{c['op']}-{c['input_name']}-{json.dumps(c['kwargs'], sort_keys=True)}"


@pytest.mark.parametrize("case", GOLDEN, ids=[_case_id(c) for c in GOLDEN])
def test_golden(case):
    fn = getattr(R, case["op"])
    kwargs = dict(case["kwargs"])
    a = Array(_decode(case["input"]))
    if "error" in case:
        err_type = {"RuntimeError": RuntimeError, "IndexError": IndexError,
                    "TypeError": TypeError}[case["error"]["type"]]
        with pytest.raises(err_type) as info, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn(a, **kwargs)
        assert str(info.value) == case["error"]["message"]
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = fn(a, **kwargs)
    if isinstance(case["result"], list):
        assert isinstance(out, tuple) and len(out) == len(case["result"])
        for o, enc in zip(out, case["result"]):
            _assert_same(o, enc)
    else:
        _assert_same(out, case["result"])


def test_golden_covers_errors_and_values():
    assert len(GOLDEN) > 500
    assert sum("error" in c for c in GOLDEN) > 30


# ---- sum_to_shape -------------------------------------------------------------------------
@pytest.mark.parametrize("big, small", [
    ((4, 3), (3,)), ((4, 3), (1, 3)), ((2, 4, 3), (4, 1)), ((5,), (1,)), ((2, 1, 3), (1, 1)),
    ((3, 4), ()), ((2, 3, 4, 5), (3, 1, 5)), ((0, 3), (3,)), ((2, 3), (1, 1, 2, 3)[2:]),
])
def test_sum_to_shape(big, small):
    x = np.random.default_rng(0).standard_normal(big).astype(np.float32)
    got = R.sum_to_shape(Array(x), small)
    lead = x.ndim - len(small)
    want = x.astype(np.float64).sum(axis=tuple(range(lead)))
    want = want.sum(axis=tuple(i for i, s in enumerate(small) if s == 1), keepdims=True)
    assert got.shape == small and got._np.dtype == np.float32
    np.testing.assert_allclose(got._np, want.reshape(small), rtol=1e-6, atol=1e-6)


def test_sum_to_shape_same_shape_is_identity():
    a = Array(np.ones((2, 3), np.float32))
    assert R.sum_to_shape(a, (2, 3)) is a


def test_sum_to_shape_keeps_integer_dtype():
    got = R.sum_to_shape(Array(np.ones((3, 2), np.int32)), (2,))
    assert got._np.dtype == np.int32 and got.tolist() == [3, 3]


@pytest.mark.parametrize("big, small", [((4, 3), (2,)), ((3,), (2, 3)), ((4, 3), (4, 2))])
def test_sum_to_shape_rejects_non_broadcasts(big, small):
    with pytest.raises(RuntimeError):
        R.sum_to_shape(Array(np.ones(big, np.float32)), small)


# ---- methods and argument forms -----------------------------------------------------------
def test_methods_installed_on_array():
    a = Array(np.arange(6, dtype=np.float32).reshape(2, 3))
    assert a.sum().item() == 15.0
    assert a.mean(1).tolist() == [1.0, 4.0]
    values, idx = a.max(1)
    assert values.tolist() == [2.0, 5.0] and idx.tolist() == [2, 2]
    assert a.argmin().item() == 0 and a.amax((0, 1)).item() == 5.0
    assert a.cumsum(1).tolist() == [[0.0, 1.0, 3.0], [3.0, 7.0, 12.0]]
    assert a.all().item() is False and a.any().item() is True
    assert abs(a.norm().item() - np.sqrt(55)) < 1e-5


def test_var_positional_unbiased_and_both_forms_conflict():
    a = Array(np.array([1.0, 2.0, 4.0], np.float64))
    assert R.var(a, False).item() == pytest.approx(np.var([1, 2, 4]))
    assert R.var(a, unbiased=True).item() == pytest.approx(np.var([1, 2, 4], ddof=1))
    with pytest.raises(RuntimeError):
        R.var(a, unbiased=True, correction=0)


def test_var_warns_when_degrees_of_freedom_run_out():
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        out = R.var(Array(np.array([3.0], np.float32)))
    assert np.isnan(out.item())


@pytest.mark.parametrize("dtype, arg, words", [
    (np.int64, None, "Input dtype must be either a floating point or complex dtype. Got: Long"),
    (np.float32, "int32", "Optional dtype must be either a floating point or complex dtype. "
     "Got: Int"),
])
def test_mean_refuses_integer_results(dtype, arg, words):
    with pytest.raises(RuntimeError) as info:
        R.mean(Array(np.ones(3, dtype)), dtype=arg)
    assert str(info.value) == "mean(): could not infer output dtype. " + words


def test_max_with_other_array_is_elementwise():
    a = Array(np.array([1, 5, 3], np.int64))
    b = Array(np.array([4.0, 2.0, 3.5], np.float32))
    out = R.max(a, b)
    assert out._np.dtype == np.float32 and out.tolist() == [4.0, 5.0, 3.5]


def test_float16_sums_accumulate_in_float32():
    x = np.full(4096, 0.1, np.float16)
    got = R.sum(Array(x))
    assert got._np.dtype == np.float16
    assert abs(float(got.item()) - 4096 * float(np.float16(0.1))) < 1.0


# ---- the kernels refuse what their loops cannot handle safely -----------------------------
@pytest.mark.parametrize("x, out", [
    (np.zeros((2, 3), np.float32), np.zeros((2, 1), np.float32)),           # not 3-D
    (np.zeros((2, 3, 4), np.float32), np.zeros((2, 3), np.float32)),        # wrong out shape
    (np.zeros((2, 3, 4), np.float64), np.zeros((2, 4), np.float32)),        # narrowing out
    (np.zeros((2, 3, 4), np.float32)[:, :, ::2], np.zeros((2, 2), np.float32)),  # strided
    (np.zeros((2, 3, 4), np.int64), np.zeros((2, 4), np.int64)),            # not float
])
def test_sum_kernel_checks(x, out):
    with pytest.raises(RuntimeError):
        K.sum_3d(x, out)


def test_sum_kernel_float32_into_double_partials():
    x = np.full((2, 3, 4), 0.1, np.float32)
    out = K.sum_3d(x, np.empty((2, 4), np.float64))
    np.testing.assert_array_equal(out, np.full((2, 4), 3 * float(np.float32(0.1))))


@pytest.mark.parametrize("shape, dims", [((4, 5, 6, 7), (0, 2, 3)), ((4, 5, 6, 7), (0, 2)),
                                         ((4, 5, 6, 7), (1, 3)), ((3, 4, 5), (0, 2))])
def test_sum_over_non_adjacent_dims_is_staged_without_a_copy(shape, dims):
    x = np.random.default_rng(5).standard_normal(shape).astype(np.float32)
    for keepdim in (False, True):
        got = R.sum(Array(x), dims, keepdim)
        want = x.astype(np.float64).sum(axis=dims, keepdims=keepdim)
        assert got._np.dtype == np.float32
        np.testing.assert_allclose(got._np, want, rtol=1e-6, atol=1e-6)


def test_extreme_kernel_checks():
    x = np.zeros((2, 3, 4), np.float32)
    with pytest.raises(RuntimeError):
        K.extreme_3d(x, np.zeros((2, 4), np.float32), np.zeros((2, 4), np.int32), True)
    with pytest.raises(RuntimeError):
        K.extreme_3d(np.zeros((2, 0, 4), np.float32), np.zeros((2, 4), np.float32), None, True)
    with pytest.raises(RuntimeError):
        K.var_3d(x, np.zeros((3, 4), np.float32), 1.0)


# ---- big inputs take the parallel paths ---------------------------------------------------
@pytest.mark.parametrize("shape, dim", [
    ((1_000_003,), None), ((3, 200_001), 1), ((200_001, 3), 0), ((300, 700), 1),
    ((64, 300, 40), 1), ((2, 3, 70_000), (0, 2)),
])
def test_parallel_paths_against_float64(shape, dim):
    x = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    axis = None if dim is None else dim
    kw = {} if dim is None else {"dim": dim}
    a = Array(x)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(R.sum(a, **kw)._np, x64.sum(axis=axis), rtol=1e-6, atol=1e-3)
    np.testing.assert_allclose(R.var(a, **kw)._np, x64.var(axis=axis, ddof=1), rtol=1e-5)
    np.testing.assert_array_equal(R.amax(a, **({} if dim is None else {"dim": dim}))._np,
                                  x.max(axis=axis))
    if isinstance(dim, int):
        np.testing.assert_array_equal(R.argmin(a, dim)._np, x.argmin(axis=dim))


@pytest.mark.parametrize("shape", [(3, 0, 5), (2, 3, 4), (7,), (1, 1)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_one_dim_sum_fast_path_shapes_and_values(shape, keepdim):
    # R.sum's one-int-dim path (kernel sum_over_dim: shape arithmetic in C) against NumPy, for
    # every dim, negative dims and the general path's out-of-range error
    x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape) - 3.5
    for d in range(-len(shape), len(shape)):
        got = R.sum(Array(x), d, keepdim)._np
        want = x.astype(np.float64).sum(axis=d, keepdims=keepdim)
        assert got.shape == want.shape and got.dtype == np.float32
        np.testing.assert_array_equal(got, want.astype(np.float32))
    assert K.sum_over_dim(x, len(shape), False) is None
    assert K.sum_over_dim(x.T, 0, False) is None or x.ndim == 1 or x.T.flags.c_contiguous
    with pytest.raises(IndexError):
        R.sum(Array(x), len(shape))
    np.testing.assert_array_equal(R.sum(Array(x.T), 0)._np, x.T.sum(axis=0))

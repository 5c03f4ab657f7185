"""Reductions against live torch: values, dtypes, shapes and error messages."""
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ember_tensor import reduction as R  # noqa: E402
from ember_tensor._array import Array  # noqa: E402

RNG = np.random.default_rng(0)


def _data(shape, dtype):
    if dtype == np.bool_:
        return np.asarray(RNG.random(shape) > 0.5)
    if np.dtype(dtype).kind in "iu":
        lo = 0 if np.dtype(dtype).kind == "u" else -20
        return np.asarray(RNG.integers(lo, 20, size=shape).astype(dtype))
    return np.asarray(RNG.standard_normal(shape).astype(dtype))


def _np(x):
    if isinstance(x, (tuple, list)) or type(x).__name__ in ("max", "min"):
        return tuple(_np(v) for v in x)
    if isinstance(x, Array):
        return x._np
    if isinstance(x, np.ndarray):
        return x
    return x.numpy()


def _close(got, want, dtype):
    got, want = _np(got), _np(want)
    if isinstance(want, tuple):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            _close(g, w, dtype)
        return
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    if got.dtype.kind == "f":
        tol = {2: 2e-3, 4: 2e-6, 8: 1e-12}[got.dtype.itemsize]
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, want)


def check(fn_ember, fn_torch, arr):
    """Run one op on both sides; same values/dtype/shape, or the same error type and text."""
    a = Array(arr.copy())
    t = torch.from_numpy(arr.copy())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = fn_torch(t)
    except Exception as err:  # noqa: BLE001 - torch's error is the spec
        with pytest.raises(type(err)) as info:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fn_ember(a)
        assert str(info.value) == str(err).split("\n")[0] or str(err).startswith(str(info.value))
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = fn_ember(a)
    _close(got, want, arr.dtype)


SHAPES = [(), (5,), (3, 4), (2, 3, 4), (2, 1, 3, 5), (0,), (0, 3), (3, 0)]
FLOATS = [np.float32, np.float64]
ALL = FLOATS + [np.int64, np.int32, np.uint8, np.bool_]


def _dims_for(shape):
    nd = len(shape)
    out = [None, 0, -1]
    if nd >= 2:
        out += [1, (0, 1), (-1, 0), [0, nd - 1]]
    if nd >= 3:
        out += [(0, 2), (1, 2)]
    return out


@pytest.mark.parametrize("dtype", ALL, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("keepdim", [False, True])
def test_sum(shape, dtype, keepdim):
    arr = _data(shape, dtype)
    for dim in _dims_for(shape):
        if dim is None:
            check(lambda a: R.sum(a), lambda t: t.sum(), arr)
        else:
            check(lambda a: R.sum(a, dim, keepdim), lambda t: t.sum(dim, keepdim), arr)


@pytest.mark.parametrize("dtype", ALL, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_mean_prod(shape, dtype):
    arr = _data(shape, dtype)
    for dim in _dims_for(shape):
        kw = {} if dim is None else {"dim": dim}
        check(lambda a: R.mean(a, **kw), lambda t: t.mean(**kw), arr)
        check(lambda a: R.mean(a, keepdim=True, **kw) if kw else R.mean(a),
              lambda t: t.mean(keepdim=True, **kw) if kw else t.mean(), arr)
        if not isinstance(dim, (tuple, list)):
            check(lambda a: R.prod(a, **kw), lambda t: t.prod(**kw), arr)
    if shape == (3, 4):
        check(lambda a: R.mean(a, dtype=np.float64), lambda t: t.mean(dtype=torch.float64), arr)
        check(lambda a: R.sum(a, 1, dtype=np.float64), lambda t: t.sum(1, dtype=torch.float64),
              arr)


@pytest.mark.parametrize("dtype", ALL, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_max_min_family(shape, dtype):
    arr = _data(shape, dtype)
    check(lambda a: R.max(a), lambda t: t.max(), arr)
    check(lambda a: R.min(a), lambda t: t.min(), arr)
    check(lambda a: R.argmax(a), lambda t: t.argmax(), arr)
    check(lambda a: R.argmin(a, keepdim=True), lambda t: t.argmin(keepdim=True), arr)
    check(lambda a: R.amax(a), lambda t: t.amax(), arr)
    for dim in _dims_for(shape):
        if dim is None:
            continue
        check(lambda a: R.amax(a, dim), lambda t: t.amax(dim), arr)
        check(lambda a: R.amin(a, dim, True), lambda t: t.amin(dim, True), arr)
        if isinstance(dim, int):
            for keep in (False, True):
                check(lambda a: R.max(a, dim, keep), lambda t: tuple(t.max(dim, keep)), arr)
                check(lambda a: R.min(a, dim, keep), lambda t: tuple(t.min(dim, keep)), arr)
                check(lambda a: R.argmax(a, dim, keep), lambda t: t.argmax(dim, keep), arr)
                check(lambda a: R.argmin(a, dim, keep), lambda t: t.argmin(dim, keep), arr)


def test_max_nan_and_ties():
    arr = np.array([[1.0, np.nan, 3.0, np.nan], [2.0, 2.0, 1.0, 2.0]], dtype=np.float32)
    for dim in (0, 1):
        check(lambda a: R.max(a, dim), lambda t: tuple(t.max(dim)), arr)
        check(lambda a: R.min(a, dim), lambda t: tuple(t.min(dim)), arr)
        check(lambda a: R.argmax(a, dim), lambda t: t.argmax(dim), arr)
    check(lambda a: R.amax(a), lambda t: t.amax(), arr)
    check(lambda a: R.argmax(a), lambda t: t.argmax(), arr)


@pytest.mark.parametrize("dtype", ALL, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_var_std(shape, dtype):
    arr = _data(shape, dtype)
    for dim in _dims_for(shape):
        for corr in (0, 1, 2):
            check(lambda a: R.var(a, dim, correction=corr),
                  lambda t: t.var(dim, correction=corr), arr)
            check(lambda a: R.std(a, dim, correction=corr, keepdim=True),
                  lambda t: t.std(dim, correction=corr, keepdim=True), arr)
    check(lambda a: R.var(a, unbiased=False), lambda t: t.var(unbiased=False), arr)
    check(lambda a: R.std(a, False), lambda t: t.std(False), arr)


@pytest.mark.parametrize("dtype", ALL + [np.int8], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_all_any_cumsum(shape, dtype):
    arr = _data(shape, dtype)
    if arr.size:
        arr.reshape(-1)[0] = 0
    check(lambda a: R.all(a), lambda t: t.all(), arr)
    check(lambda a: R.any(a), lambda t: t.any(), arr)
    for dim in _dims_for(shape):
        if isinstance(dim, int):
            check(lambda a: R.all(a, dim), lambda t: t.all(dim), arr)
            check(lambda a: R.any(a, dim, True), lambda t: t.any(dim, True), arr)
            check(lambda a: R.cumsum(a, dim), lambda t: t.cumsum(dim), arr)


@pytest.mark.parametrize("dtype", ALL, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_logsumexp_norm(shape, dtype):
    arr = _data(shape, dtype)
    for dim in _dims_for(shape):
        if dim is not None:
            check(lambda a: R.logsumexp(a, dim), lambda t: t.logsumexp(dim), arr)
            check(lambda a: R.logsumexp(a, dim, True), lambda t: t.logsumexp(dim, True), arr)
        for p in (2, 1, 3, 0, float("inf"), float("-inf"), "fro", 0.5):
            check(lambda a: R.norm(a, p, dim), lambda t: t.norm(p, dim), arr)


def test_logsumexp_is_stable():
    arr = np.array([[1000.0, 1000.0], [-1000.0, -np.inf], [np.inf, 1.0],
                    [-np.inf, -np.inf]], dtype=np.float32)
    check(lambda a: R.logsumexp(a, 1), lambda t: t.logsumexp(1), arr)


def test_large_sums_match_within_float32_rounding():
    arr = RNG.standard_normal((3, 100_003)).astype(np.float32) + 10
    for dim in (None, 0, 1):
        kw = {} if dim is None else {"dim": dim}
        got = R.sum(Array(arr), **kw)._np
        want = torch.from_numpy(arr).sum(**kw).numpy()
        np.testing.assert_allclose(got, want, rtol=3e-7)
    big = RNG.standard_normal(2_000_001).astype(np.float32)
    exact = big.astype(np.float64).sum()
    assert abs(float(R.sum(Array(big))._np) - exact) <= abs(exact) * 1e-7 + 1e-3


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4), (300, 257)])
def test_noncontiguous_inputs(shape):
    arr = _data(shape, np.float32)
    a, t = Array(arr).transpose(0, -1), torch.from_numpy(arr.copy()).transpose(0, -1)
    for dim in (None, 0, -1, (0, -1)):
        kw = {} if dim is None else {"dim": dim}
        # torch sums strided float32 in float; ours accumulate in double: compare to exact
        exact = t.double().sum(**kw).float().numpy()
        np.testing.assert_allclose(R.sum(a, **kw)._np, exact, rtol=1e-6, atol=1e-5)
        _close(R.var(a, **kw), t.var(**kw), np.float32)
        _close(R.amax(a, **({} if dim is None else {"dim": dim})), t.amax(**kw), np.float32)
    _close(R.max(a, 0), tuple(t.max(0)), np.float32)


@pytest.mark.parametrize("ours, theirs", [
    (lambda a: R.sum(a, 2), lambda t: t.sum(2)),
    (lambda a: R.sum(a, -3), lambda t: t.sum(-3)),
    (lambda a: R.sum(a, (0, 0)), lambda t: t.sum((0, 0))),
    (lambda a: R.sum(a, (1, -1)), lambda t: t.sum((1, -1))),
    (lambda a: R.max(a, 5), lambda t: t.max(5)),
    (lambda a: R.mean(a, 7), lambda t: t.mean(7)),
    (lambda a: R.argmax(a, 2), lambda t: t.argmax(2)),
    (lambda a: R.var(a, 3), lambda t: t.var(3)),
    (lambda a: R.cumsum(a, 2), lambda t: t.cumsum(2)),
    (lambda a: R.amax(a, (0, 2)), lambda t: t.amax((0, 2))),
    (lambda a: R.logsumexp(a, -4), lambda t: t.logsumexp(-4)),
])
def test_bad_dims_raise_torchs_error(ours, theirs):
    check(ours, theirs, _data((2, 3), np.float32))
    with pytest.raises((IndexError, RuntimeError)):
        ours(Array(_data((2, 3), np.float32)))


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_float_only_ops_refuse_integers(dtype):
    arr = _data((3,), dtype)
    for ours, theirs in [(R.mean, torch.mean), (R.var, torch.var), (R.std, torch.std),
                         (R.norm, torch.norm)]:
        with pytest.raises(RuntimeError):
            ours(Array(arr))
        check(ours, theirs, arr)


def test_sum_to_shape_matches_torch_sum_to_size():
    for big, small in [((4, 3), (3,)), ((4, 3), (1, 3)), ((2, 4, 3), (4, 1)), ((5,), (1,)),
                       ((2, 3), (2, 3)), ((2, 1, 3), (1, 1)), ((3, 4), ())]:
        arr = _data(big, np.float32)
        got = R.sum_to_shape(Array(arr), small)
        want = torch.from_numpy(arr).sum_to_size(small) if small else torch.from_numpy(arr).sum()
        _close(got, want, np.float32)


@pytest.mark.parametrize("shape, dim", [((256, 1000), 1), ((256, 77), 1), ((64, 4099), 1),
                                        ((2_000_000,), None), ((1000, 1000), 0)])
def test_float32_sum_is_at_least_as_accurate_as_torchs(shape, dim):
    # Ember's float32 sums add partials of at most 8 terms in float32 and the rest in double
    # (simd.h), in a fixed order; torch's cascade keeps float32 accumulators. Against the
    # float64 sum, Ember's total error over the outputs is never the larger.
    x = (np.random.default_rng(5).standard_normal(shape) + 0.5).astype(np.float32)
    want = x.astype(np.float64).sum(axis=dim)
    ours = (R.sum(Array(x)) if dim is None else R.sum(Array(x), dim))._np.astype(np.float64)
    t = torch.from_numpy(x)
    theirs = (t.sum() if dim is None else t.sum(dim)).numpy().astype(np.float64)
    assert np.abs(ours - want).sum() <= np.abs(theirs - want).sum()

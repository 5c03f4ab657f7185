"""matmul/mm/bmm/mv/dot/outer/addmm against live torch: values, dtypes, shapes, errors."""
import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ember_tensor import linalg as L  # noqa: E402
from ember_tensor._array import Array  # noqa: E402

RNG = np.random.default_rng(1)
_TORCH_DT = {np.dtype(k): v for k, v in [
    (np.float32, torch.float32), (np.float64, torch.float64), (np.float16, torch.float16),
    (np.int64, torch.int64), (np.int32, torch.int32), (np.int8, torch.int8),
    (np.uint8, torch.uint8), (np.bool_, torch.bool)]}


def _data(shape, dtype=np.float32):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return np.asarray(RNG.random(shape) > 0.5)
    if dtype.kind in "iu":
        return np.asarray(RNG.integers(0 if dtype.kind == "u" else -5, 6, size=shape), dtype)
    return np.asarray(RNG.standard_normal(shape), dtype)


def check(ours, theirs, *arrays):
    """Same values/dtype/shape, or the same error type and message."""
    got_err = want_err = None
    try:
        want = theirs(*[torch.from_numpy(a.copy()) for a in arrays])
    except Exception as err:  # noqa: BLE001 - torch's error is the spec
        want_err = err
    try:
        got = ours(*[Array(a.copy()) for a in arrays])
    except Exception as err:  # noqa: BLE001
        got_err = err
    if want_err is not None:
        assert got_err is not None, f"torch raised {want_err!r}, ember returned"
        assert type(got_err) is type(want_err)
        assert str(got_err) == str(want_err)
        return
    assert got_err is None, f"ember raised {got_err!r}, torch returned"
    want = want.numpy()
    got = got._np
    assert got.shape == want.shape
    assert got.dtype == want.dtype
    tol = {2: 1e-2, 4: 1e-5, 8: 1e-12}[got.dtype.itemsize] if got.dtype.kind == "f" else 0
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


SHAPE_PAIRS = [
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3,)),
    ((5, 2, 3), (3, 4)), ((3,), (5, 3, 4)), ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)),
    ((5, 2, 3), (1, 3, 4)), ((4, 1, 2, 3), (5, 3, 2)), ((2, 1, 2, 3), (1, 4, 3, 2)),
    ((1, 1, 2, 3), (2, 2, 3, 4)), ((3, 1, 40, 30), (1, 2, 30, 50)), ((2, 3), (2, 2, 3, 4)),
    ((0, 3), (3, 2)), ((2, 0), (0, 2)), ((0,), (0,)), ((3, 2, 0), (0, 4)),
    # mismatches: every path's error message
    ((3,), (4,)), ((2, 3), (4,)), ((3,), (4, 5)), ((2, 3), (4, 5)), ((7, 2, 3), (4, 5)),
    ((7, 2, 3), (4,)), ((7, 2, 3), (7, 4, 5)), ((7, 2, 3), (6, 3, 5)), ((3,), (7, 4, 5)),
    ((2, 3), (7, 4, 5)), ((4, 1, 2, 3), (4, 5, 4, 2)), ((), (3,)), ((3,), ()), ((), ()),
]


@pytest.mark.parametrize("sa, sb", SHAPE_PAIRS, ids=str)
def test_matmul_shapes(sa, sb):
    a, b = _data(sa), _data(sb)
    check(L.matmul, torch.matmul, a, b)
    check(lambda x, y: x @ y, lambda x, y: x @ y, a, b)


DTYPES = [np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_, np.float16]


@pytest.mark.parametrize("da, db", list(itertools.product(DTYPES[:4], DTYPES[:4]))
                         + [(np.bool_, np.bool_), (np.uint8, np.uint8),
                            (np.float16, np.float16), (np.float16, np.bool_)], ids=str)
@pytest.mark.parametrize("sa, sb", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)),
                                    ((2, 3), (3, 4)), ((2, 2, 3), (2, 3, 4)),
                                    ((2, 2, 3), (3, 4)), ((2, 2, 3), (3,))], ids=str)
def test_matmul_dtypes(sa, sb, da, db):
    check(L.matmul, torch.matmul, _data(sa, da), _data(sb, db))


@pytest.mark.parametrize("sa, sb", [((2, 3), (3, 4)), ((2, 3), (4, 5)), ((3,), (3, 5)),
                                    ((2, 3), (3,)), ((0, 3), (3, 0)), ((1, 1), (1, 1))])
@pytest.mark.parametrize("db", [np.float32, np.float64, np.int64])
def test_mm(sa, sb, db):
    check(L.mm, torch.mm, _data(sa), _data(sb, db))


@pytest.mark.parametrize("sa, sb", [((2, 2, 3), (2, 3, 5)), ((2, 3), (3, 5)),
                                    ((2, 2, 3), (3, 3, 5)), ((2, 2, 3), (2, 4, 5)),
                                    ((2, 2, 3), (2, 3, 5, 4)), ((0, 2, 3), (0, 3, 1))])
@pytest.mark.parametrize("da, db", [(np.float32, np.float32), (np.float32, np.float64),
                                    (np.float64, np.float32), (np.bool_, np.bool_),
                                    (np.int64, np.int64)])
def test_bmm(sa, sb, da, db):
    check(L.bmm, torch.bmm, _data(sa, da), _data(sb, db))


@pytest.mark.parametrize("sa, sb", [((2, 3), (3,)), ((2, 3), (4,)), ((2, 3), (4, 1)),
                                    ((3,), (3,)), ((0, 3), (3,))])
@pytest.mark.parametrize("da, db", [(np.float32, np.float32), (np.float64, np.float32),
                                    (np.float32, np.float64), (np.bool_, np.bool_)])
def test_mv(sa, sb, da, db):
    check(L.mv, torch.mv, _data(sa, da), _data(sb, db))


@pytest.mark.parametrize("sa, sb", [((3,), (3,)), ((3,), (4,)), ((3, 1), (3,)), ((0,), (0,))])
@pytest.mark.parametrize("da, db", [(np.float32, np.float32), (np.float32, np.float64),
                                    (np.int32, np.int64), (np.int64, np.int64),
                                    (np.bool_, np.bool_)])
def test_dot(sa, sb, da, db):
    check(L.dot, torch.dot, _data(sa, da), _data(sb, db))


@pytest.mark.parametrize("sa, sb", [((3,), (2,)), ((3, 1), (2,)), ((3,), (2, 1)), ((0,), (2,))])
@pytest.mark.parametrize("da, db", [(np.float32, np.float64), (np.int64, np.bool_),
                                    (np.uint8, np.int8), (np.float32, np.float32)])
def test_outer(sa, sb, da, db):
    check(L.outer, torch.outer, _data(sa, da), _data(sb, db))


@pytest.mark.parametrize("si, s1, s2", [
    ((2, 4), (2, 3), (3, 4)), ((4,), (2, 3), (3, 4)), ((1, 4), (2, 3), (3, 4)),
    ((2, 1), (2, 3), (3, 4)), ((), (2, 3), (3, 4)), ((3,), (2, 3), (3, 4)),
    ((2, 4), (2, 3), (5, 4)), ((2, 4), (3,), (3, 4)), ((2, 4), (2, 3), (3,)),
])
@pytest.mark.parametrize("beta, alpha", [(1, 1), (0.5, 2), (0, 1), (2, 0)])
def test_addmm(si, s1, s2, beta, alpha):
    check(lambda i, a, b: L.addmm(i, a, b, beta=beta, alpha=alpha),
          lambda i, a, b: torch.addmm(i, a, b, beta=beta, alpha=alpha),
          _data(si), _data(s1), _data(s2))


@pytest.mark.parametrize("di, d1, d2", [
    (np.float64, np.float32, np.float32), (np.float32, np.float32, np.float64),
    (np.float32, np.float64, np.float64), (np.int64, np.int64, np.int64),
])
def test_addmm_dtypes(di, d1, d2):
    check(lambda i, a, b: L.addmm(i, a, b, beta=0.5, alpha=1.5),
          lambda i, a, b: torch.addmm(i, a, b, beta=0.5, alpha=1.5),
          _data((2, 4), di), _data((2, 3), d1), _data((3, 4), d2))


def test_addmm_beta_zero_ignores_nan():
    i = np.full((2, 4), np.nan, np.float32)
    check(lambda i, a, b: L.addmm(i, a, b, beta=0), lambda i, a, b: torch.addmm(i, a, b, beta=0),
          i, _data((2, 3)), _data((3, 4)))


def test_transposed_operands_give_torchs_values():
    a, b = _data((64, 32)), _data((64, 48))
    got = L.matmul(Array(a).t(), Array(b))._np
    want = torch.from_numpy(a).t() @ torch.from_numpy(b)
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-5, atol=1e-5)
    assert got.flags.c_contiguous


def test_large_float32_gemm_within_rounding():
    a, b = _data((256, 300)), _data((300, 200))
    got = L.mm(Array(a), Array(b))._np
    want = (torch.from_numpy(a) @ torch.from_numpy(b)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)

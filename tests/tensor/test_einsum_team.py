"""``einsum``'s float products go pair by pair through ``_team.matmul`` (the OpenMP team,
cblas pinned per thread), never ``np.einsum(optimize=True)``'s tensordot, which would wake
OpenBLAS's own pool: the values of NumPy's einsum, the same bits on 1 and 2 threads."""
import numpy as np
import pytest

import ember_tensor
from ember_tensor import Array, _team
from ember_tensor.einsum import einsum

# products (one pair or a chain), batch letters, diagonals and lone letters summed first,
# outer products, broadcast size-1 letters, an empty dimension
CASES = [
    ("ij,jk->ik", [(30, 40), (40, 50)]), ("bij,bjk->bik", [(3, 20, 30), (3, 30, 10)]),
    ("abc,cd,de->abe", [(2, 3, 40), (40, 50), (50, 6)]), ("i,j->ij", [(7,), (9,)]),
    ("...ij,...jk", [(2, 1, 3, 4), (5, 4, 2)]), ("iij,jk->ik", [(3, 3, 4), (4, 2)]),
    ("ij,kl->", [(2, 3), (4, 5)]), ("bhqd,bhkd->bhqk", [(2, 3, 40, 16), (2, 3, 60, 16)]),
    ("ij,jk,kl,lm->im", [(2, 3), (3, 4), (4, 5), (5, 6)]), ("i,i->i", [(4,), (4,)]),
    ("ij,j->i", [(0, 3), (3,)]), ("ijk,jil->kl", [(4, 5, 6), (5, 4, 7)]),
]


@pytest.mark.parametrize("eq,shapes", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_einsum_on_the_team(eq, shapes, dtype, monkeypatch):
    rng = np.random.default_rng(len(eq))
    ops = [rng.standard_normal(s).astype(dtype) for s in shapes]
    calls = []
    real = _team.matmul
    monkeypatch.setattr(_team, "matmul", lambda x, y, out=None: calls.append(1) or real(x, y))
    monkeypatch.setattr(np, "tensordot", None)  # its BLAS would start OpenBLAS's pool
    old = ember_tensor.get_num_threads()
    try:
        got = []
        for threads in (1, 2):
            ember_tensor.set_num_threads(threads)
            got.append(einsum(eq, *(Array(o) for o in ops))._np)
    finally:
        ember_tensor.set_num_threads(old)
    ref = np.einsum(eq, *(o.astype(np.float64) for o in ops))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert got[0].shape == ref.shape and got[0].dtype == dtype
    np.testing.assert_allclose(got[0], ref, rtol=tol, atol=tol)
    np.testing.assert_array_equal(got[0], got[1])
    assert len(calls) == 2 * (len(shapes) - 1)  # every pair, on each thread count


def test_integer_einsum_keeps_numpy():
    a = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(einsum("ij,jk->ik", Array(a), Array(a.T))._np, a @ a.T)

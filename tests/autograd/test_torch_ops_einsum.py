"""einsum against live torch: values and gradients over explicit, implicit, ellipsis,
diagonal and broadcast equations, and torch's errors."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ember  # noqa: E402
from dropin_helpers import same  # noqa: E402

CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]), ("i,i", [(3,), (3,)]), ("ij->", [(3, 3)]), ("bij,j", [(2, 3, 3), (3,)]),
    ("...ij,...jk", [(5, 2, 3), (3, 4)]), ("Ab,bc", [(2, 3), (3, 2)]), ("ba", [(2, 3)]),
    ("ij,kl->ijkl", [(2, 3), (2, 2)]), ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("iij,jk->ik", [(3, 3, 2), (2, 4)]), ("ij,j->", [(2, 3), (1,)]),
    ("i,j,k->ijk", [(2,), (3,), (2,)]), ("ijk,ikl,ilm->ijm", [(2, 3, 4), (2, 4, 5), (2, 5, 2)]),
    ("ab,cd->", [(2, 3), (2, 2)]), ("...i->...", [(2, 3, 4)]), (" i j , j k -> k i ", [(2, 3), (3, 2)]),
]


@pytest.mark.parametrize("equation, shapes", CASES, ids=[c[0] for c in CASES])
def test_values_and_grads(equation, shapes):
    rng = np.random.default_rng(len(equation))
    arrays = [rng.standard_normal(s) for s in shapes]
    results = []
    for L in (ember, torch):
        ts = [L.tensor(a, requires_grad=True) for a in arrays]
        out = L.einsum(equation, *ts) if len(ts) != 2 else L.einsum(equation, ts)
        weight = L.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape)))
        (out * weight).sum().backward()
        results.append([out.detach().numpy()] + [t.grad.numpy() for t in ts])
    for got, want in zip(*results):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("fn", [
    lambda L: L.einsum("ij,jk->ik", L.ones(2, 3)),
    lambda L: L.einsum("ij->ij", L.ones(2, 3), L.ones(2)),
    lambda L: L.einsum("ij,jk->ik", L.ones(2, 3), L.ones(4, 4)),
    lambda L: L.einsum("ijk->", L.ones(3, 3)),
    lambda L: L.einsum("ij->k", L.ones(3, 3)),
    lambda L: L.einsum("ij,jk->ik", L.ones(2, 3), L.ones(3, 4).double()),
    lambda L: L.einsum("ij,jk->ik", L.arange(6).view(2, 3), L.arange(12).view(3, 4)),
    lambda L: L.einsum("i,i->", L.tensor([1.0, 2.0]), L.tensor([3.0, 4.0])),
    lambda L: L.einsum("ii->i", L.ones(3, 2)),
    lambda L: L.einsum("i->ii", L.ones(3)),
    lambda L: L.einsum("i->i"),
    lambda L: L.einsum("i->i", []),
], ids=["too_few", "too_many", "sizes", "ndim", "output_letter", "dtypes", "long", "dot",
        "diagonal_sizes", "output_repeated", "no_operand",
        "empty_operand_list"])
def test_errors_and_dtypes(fn):
    same(torch, fn)

"""torch.linalg (inv, solve, det, slogdet, cholesky, svd, svdvals, qr, eigh, eigvalsh, norm,
vector_norm, matrix_norm) and torch.norm/inverse/svd against live torch: values, gradients,
grad_fn names, result types and errors. Decompositions are compared through sign-free
quantities (|U|, |Q|, ...): the sign of a singular / eigen vector is LAPACK's choice."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ember  # noqa: E402
from dropin_helpers import same as _same  # noqa: E402

rng = np.random.default_rng(0)
A = rng.standard_normal((3, 3))
B = rng.standard_normal((3, 2))
TALL = rng.standard_normal((4, 3))
WIDE = rng.standard_normal((3, 4))
SPD = A @ A.T + 3 * np.eye(3)
BATCH = rng.standard_normal((2, 3, 3)) + 2 * np.eye(3)
INF = float("inf")


def run(L, fn, arrays):
    ts = [L.tensor(a, requires_grad=True) for a in arrays]
    out = fn(L, *ts)
    outs = out if isinstance(out, tuple) else (out,)
    # a fixed, non-symmetric weighting so every output element's gradient counts
    loss = sum((o * L.tensor(np.cos(np.arange(o.numel())).reshape(tuple(o.shape)))).sum()
               for o in outs if o.numel())
    loss.backward()
    return ([o.detach().numpy() for o in outs], [t.grad.numpy() for t in ts],
            [type(o.grad_fn).__name__ for o in outs])


def absolute(r):
    return tuple(x.abs() for x in r)


CASES = {
    "inv": (lambda L, a: L.linalg.inv(a), [A]),
    "inv_batch": (lambda L, a: L.linalg.inv(a), [BATCH]),
    "inverse": (lambda L, a: a.inverse(), [A]),
    "solve": (lambda L, a, b: L.linalg.solve(a, b), [A, B]),
    "solve_vector": (lambda L, a, b: L.linalg.solve(a, b[:, 0]), [A, B]),
    "solve_right": (lambda L, a, b: L.linalg.solve(a, b.mT, left=False), [A, B]),
    "solve_batch_broadcast": (lambda L, a, b: L.linalg.solve(a, b), [BATCH, B]),
    "det": (lambda L, a: L.linalg.det(a), [A]),
    "det_batch": (lambda L, a: L.det(a), [BATCH]),
    "slogdet": (lambda L, a: L.linalg.slogdet(a).logabsdet, [A]),
    "cholesky": (lambda L, a: L.linalg.cholesky(a), [SPD]),
    "cholesky_upper": (lambda L, a: L.linalg.cholesky(a, upper=True), [SPD]),
    "svd_tall": (lambda L, a: absolute(L.linalg.svd(a, full_matrices=False)), [TALL]),
    "svd_wide": (lambda L, a: absolute(L.linalg.svd(a, full_matrices=False)), [WIDE]),
    "svd_full": (lambda L, a: (lambda r: (r.U[:, :3].abs(), r.S, r.Vh.abs()))(
        L.linalg.svd(a)), [WIDE]),
    "svd_batch": (lambda L, a: absolute(L.linalg.svd(a)), [BATCH]),
    "svdvals": (lambda L, a: L.linalg.svdvals(a), [TALL]),
    "torch_svd": (lambda L, a: absolute(L.svd(a)), [TALL]),
    "eigh": (lambda L, a: absolute(L.linalg.eigh(a)), [SPD]),
    "eigh_upper": (lambda L, a: absolute(L.linalg.eigh(a, UPLO="U")), [SPD]),
    "eigvalsh": (lambda L, a: L.linalg.eigvalsh(a), [SPD]),
    "qr": (lambda L, a: absolute(L.linalg.qr(a)), [TALL]),
    "qr_square": (lambda L, a: absolute(L.linalg.qr(a)), [A]),
    "fro": (lambda L, a: L.linalg.matrix_norm(a), [TALL]),
    "nuc": (lambda L, a: L.linalg.matrix_norm(a, "nuc"), [TALL]),
    "ord2": (lambda L, a: L.linalg.matrix_norm(a, 2), [TALL]),
    "ord-2": (lambda L, a: L.linalg.matrix_norm(a, -2), [TALL]),
    "ord1": (lambda L, a: L.linalg.matrix_norm(a, 1), [TALL]),
    "ordinf_keepdim": (lambda L, a: L.linalg.matrix_norm(a, INF, keepdim=True), [TALL]),
    "ord-1_dims": (lambda L, a: L.linalg.matrix_norm(a, -1, dim=(1, 0)), [TALL]),
    "ord-inf_batch": (lambda L, a: L.linalg.matrix_norm(a, -INF), [BATCH]),
    "norm": (lambda L, a: L.linalg.norm(a), [TALL]),
    "norm_nuc": (lambda L, a: L.linalg.norm(a, "nuc"), [TALL]),
    "norm_vec3": (lambda L, a: L.linalg.norm(a, 3, dim=1), [TALL]),
    "norm_1d_inf": (lambda L, a: L.linalg.norm(a[0], INF), [TALL]),
    "vector_norm": (lambda L, a: L.linalg.vector_norm(a, 1.5, dim=(0, 1)), [TALL]),
    "vector_norm_keepdim": (lambda L, a: L.linalg.vector_norm(a, 0.5, 0, True), [TALL]),
    "torch_norm_nuc": (lambda L, a: L.norm(a, "nuc"), [TALL]),
    "torch_norm_fro_dims": (lambda L, a: a.norm("fro", dim=(0, 1)), [TALL]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_values_grads_and_grad_fns(name):
    fn, arrays = CASES[name]
    got, want = run(ember, fn, arrays), run(torch, fn, arrays)
    assert got[2] == want[2]
    for x, y in zip(got[0] + got[1], want[0] + want[1]):
        np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-10)


def same(fn):
    _same(torch, fn)


SING = [[1.0, 2.0], [2.0, 4.0]]


@pytest.mark.parametrize("fn", [
    lambda L: L.linalg.inv(L.tensor(SING)),
    lambda L: L.linalg.inv(L.stack([L.eye(2), L.tensor(SING)])),
    lambda L: L.linalg.inv(L.ones(2, 3)),
    lambda L: L.linalg.inv(L.ones(2, 2).long()),
    lambda L: L.linalg.inv(L.ones(2)),
    lambda L: L.linalg.solve(L.tensor(SING), L.ones(2)),
    lambda L: L.linalg.solve(L.stack([L.eye(2), L.tensor(SING)]), L.ones(2, 2)),
    lambda L: L.linalg.solve(L.eye(2), L.ones(3)),
    lambda L: L.linalg.cholesky(L.tensor([[1.0, 2.0], [2.0, 1.0]])),
    lambda L: L.linalg.cholesky(L.tensor([[-1.0, 2.0], [2.0, 1.0]])),
    lambda L: L.linalg.det(L.ones(2, 3)),
    lambda L: L.linalg.det(L.tensor(SING)).abs(),  # torch's LU gives -0.0, NumPy's 0.0
    lambda L: L.linalg.qr(L.ones(3, 2), mode="bad"),
    lambda L: L.linalg.eigh(L.eye(2), UPLO="X"),
    lambda L: L.linalg.norm(L.ones(2, 3, 4), "fro"),
    lambda L: L.linalg.matrix_norm(L.ones(3)),
    lambda L: L.linalg.matrix_norm(L.ones(3, 3), 3),
    lambda L: L.linalg.vector_norm(L.ones(3).long()),
    lambda L: L.linalg.norm(L.ones(3).long()),
    lambda L: isinstance(L.linalg.LinAlgError("x"), RuntimeError),
    lambda L: issubclass(L.linalg.LinAlgError, RuntimeError),
    lambda L: L.linalg.eigh(L.tensor([[2.0, 0.0], [0.0, 1.0]])),
    lambda L: L.linalg.svd(L.tensor([[3.0, 0.0], [0.0, -2.0]])),
    lambda L: L.linalg.qr(L.tensor([[3.0, 0.0], [0.0, 2.0]])),
    lambda L: L.linalg.qr(L.tensor([[3.0, 0.0], [0.0, 2.0]]), mode="r").Q.shape,
    lambda L: L.linalg.slogdet(L.tensor([[3.0, 0.0], [0.0, -2.0]])),
    lambda L: L.linalg.inv(L.eye(2, requires_grad=True)),
    lambda L: L.linalg.norm(L.ones(3), "fro"),
    lambda L: L.linalg.vector_norm(L.ones(2, 3), "fro"),
    lambda L: L.linalg.cholesky(L.stack([L.eye(2), -L.eye(2)])),
    lambda L: L.linalg.solve(L.eye(2), L.ones(2).double()),
    lambda L: L.norm(L.ones(2, 3), "nuc", keepdim=True),
], ids=["inv_singular", "inv_singular_batch", "inv_nonsquare", "inv_long", "inv_1d",
        "solve_singular", "solve_singular_batch", "solve_shapes", "cholesky_not_pd",
        "cholesky_not_pd_first", "det_nonsquare", "det_singular", "qr_mode", "eigh_uplo",
        "norm_3d_ord", "matrix_norm_1d", "matrix_norm_ord3", "vector_norm_long", "norm_long",
        "linalgerror_is_runtimeerror", "linalgerror_subclass", "eigh_repr", "svd_repr",
        "qr_repr", "qr_r_mode", "slogdet_repr", "inv_repr", "norm_1d_fro", "vector_norm_str",
        "cholesky_batch", "solve_dtypes", "torch_norm_nuc"])
def test_errors_and_reprs(fn):
    same(fn)


def test_linalg_error_caught_as_torch_documents():
    with pytest.raises(ember.linalg.LinAlgError):
        ember.linalg.inv(ember.zeros(2, 2))

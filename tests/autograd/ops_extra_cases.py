"""The cases behind tests/autograd/golden/ops_extra.json: the pointwise-table ops (log10,
lerp, addcmul, addcdiv, the trigonometric and hyperbolic family, exp2, erfc, atan2),
torch.linalg and einsum, each a function of the library module
(``torch`` or ``ember``) and its float64 inputs. ``tools/make_golden_ops_extra.py`` records
torch's outputs and input gradients; test_ops_extra_golden.py replays them on Ember and runs
gradcheck. Decompositions are recorded sign-free (``|U|``): the sign of a singular or eigen
vector is LAPACK's choice."""
import numpy as np

_rng = np.random.default_rng(14)
X = _rng.standard_normal((2, 3))
Y = _rng.standard_normal((2, 3))
W = _rng.uniform(0.1, 0.9, (2, 3))
A = _rng.standard_normal((3, 3)) + 2 * np.eye(3)
B = _rng.standard_normal((3, 2))
TALL = _rng.standard_normal((4, 3))
SPD = A @ A.T + np.eye(3)


def _abs(result):
    return tuple(t.abs() for t in result)


# name -> (function of (L, *inputs), inputs); all differentiable in every input
CASES = {
    "log10": (lambda L, x: L.log10(x.abs() + 0.5), [X]),
    "log10_method": (lambda L, x: (x * x + 1).log10(), [X]),
    "lerp_scalar": (lambda L, x, y: L.lerp(x, y, 0.3), [X, Y]),
    "lerp_scalar_high": (lambda L, x, y: x.lerp(y, 0.8), [X, Y]),
    "lerp_tensor": (lambda L, x, y, w: L.lerp(x, y, w), [X, Y, W]),
    "lerp_broadcast": (lambda L, x, y, w: L.lerp(x[:1], y, w[:, :1]), [X, Y, W]),
    "addcmul": (lambda L, x, y, w: L.addcmul(x, y, w, value=-1.5), [X, Y, W]),
    "addcdiv": (lambda L, x, y, w: x.addcdiv(y, w, value=0.5), [X, Y, W]),
    "lerp_inplace": (lambda L, x, y, w: (x * 1).lerp_(y, w), [X, Y, W]),
    "addcmul_inplace": (lambda L, x, y, w: (x * 1).addcmul_(y, w, value=2), [X, Y, W]),
    "log10_inplace": (lambda L, x: (x * x + 1).log10_(), [X]),
    "tan": (lambda L, x: L.tan(x * 0.5), [X]),
    "asin_acos_atan": (lambda L, w: (L.asin(w), w.acos(), L.arctan(w)), [W]),
    "sinh_cosh": (lambda L, x: (L.sinh(x), x.cosh()), [X]),
    "asinh_acosh_atanh": (lambda L, x, w: (L.asinh(x), L.acosh(x * x + 1.5), w.atanh()), [X, W]),
    "exp2_erfc": (lambda L, x: (L.exp2(x), L.erfc(x)), [X]),
    "atan2": (lambda L, x, y: L.atan2(x, y), [X, Y]),
    "trig_inplace": (lambda L, w: (w * 1).asin_().atan_(), [W]),
    "softmax_method": (lambda L, x: x.softmax(1), [X]),
    "log_softmax_fn": (lambda L, x: L.log_softmax(x, 0), [X]),
    "inv": (lambda L, a: L.linalg.inv(a), [A]),
    "solve": (lambda L, a, b: L.linalg.solve(a, b), [A, B]),
    "solve_vector": (lambda L, a, b: L.linalg.solve(a, b[:, 0]), [A, B]),
    "det": (lambda L, a: L.linalg.det(a), [A]),
    "slogdet": (lambda L, a: L.linalg.slogdet(a).logabsdet, [A]),
    "cholesky": (lambda L, a: L.linalg.cholesky(a @ a.mT + L.eye(3, dtype=a.dtype)), [A]),
    "svd": (lambda L, a: _abs(L.linalg.svd(a, full_matrices=False)), [TALL]),
    "svdvals": (lambda L, a: L.linalg.svdvals(a), [TALL]),
    "eigh": (lambda L, a: _abs(L.linalg.eigh(a + a.mT)), [A]),
    "qr": (lambda L, a: _abs(L.linalg.qr(a)), [TALL]),
    "matrix_norm_fro": (lambda L, a: L.linalg.matrix_norm(a), [TALL]),
    "matrix_norm_nuc": (lambda L, a: L.linalg.matrix_norm(a, "nuc"), [TALL]),
    "matrix_norm_1": (lambda L, a: L.linalg.matrix_norm(a, 1), [TALL]),
    "matrix_norm_inf": (lambda L, a: L.linalg.norm(a, float("inf")), [TALL]),
    "vector_norm": (lambda L, a: L.linalg.vector_norm(a, 3, dim=1), [TALL]),
    "einsum_matmul": (lambda L, a, b: L.einsum("ij,jk->ik", a, b), [A, B]),
    "einsum_diag": (lambda L, a, b: L.einsum("ii,ij->j", a, b), [A, B]),
    "einsum_ellipsis": (lambda L, x, y: L.einsum("...j,...j", x, y), [X, Y]),
    "einsum_outer_sum": (lambda L, a, b: L.einsum("ij,kl->", a, b), [A, B]),
}

# name -> function of L whose error (type, message) torch's golden records
ERRORS = {
    "lerp_long": lambda L: L.lerp(L.arange(3), L.arange(3), 0.5),
    "lerp_end_dtype": lambda L: L.lerp(L.ones(3), L.ones(3, dtype=L.float64), 0.5),
    "addcdiv_integers": lambda L: L.addcdiv(L.ones(2), L.arange(2), L.arange(2)),
    "log10_inplace_long": lambda L: L.arange(3).log10_(),
    "atan2_number": lambda L: L.atan2(L.ones(2), 2.0),
    "tan_inplace_long": lambda L: L.arange(3).tan_(),
    "inv_singular": lambda L: L.linalg.inv(L.tensor([[1.0, 2.0], [2.0, 4.0]])),
    "inv_nonsquare": lambda L: L.linalg.inv(L.ones(2, 3)),
    "solve_singular": lambda L: L.linalg.solve(L.zeros(2, 2), L.ones(2)),
    "cholesky_not_pd": lambda L: L.linalg.cholesky(L.tensor([[1.0, 2.0], [2.0, 1.0]])),
    "matrix_norm_order": lambda L: L.linalg.matrix_norm(L.ones(3, 3), 3),
    "einsum_sizes": lambda L: L.einsum("ij,jk->ik", L.ones(2, 3), L.ones(4, 4)),
    "einsum_output": lambda L: L.einsum("ij->k", L.ones(3, 3)),
    "multinomial_too_many": lambda L: L.multinomial(L.tensor([0.2, 0.8]), 3),
    "normal_std": lambda L: L.normal(L.zeros(2), -1.0),
    "bernoulli_range": lambda L: L.bernoulli(L.tensor([0.0, 2.0])),
    "out_requires_grad": lambda L: L.mm(L.ones(2, 2, requires_grad=True), L.ones(2, 2),
                                        out=L.empty(0)),
    "out_dtype": lambda L: L.mm(L.ones(2, 2), L.ones(2, 2), out=L.empty(0, dtype=L.int64)),
    "cat_empty": lambda L: L.cat([]),
    "mse_long": lambda L: L.nn.functional.mse_loss(L.tensor([1, 2]), L.tensor([1, 3])),
}


def run(L, name):
    """(outputs, input gradients, grad_fn names) of case ``name`` under library ``L``."""
    fn, arrays = CASES[name]
    inputs = [L.tensor(a, requires_grad=True) for a in arrays]
    out = fn(L, *inputs)
    outs = out if isinstance(out, tuple) else (out,)
    weights = [L.tensor(np.cos(np.arange(o.numel()) + 1.0).reshape(tuple(o.shape)))
               for o in outs]
    sum(((o * w).sum() for o, w in zip(outs, weights))).backward()
    return ([o.detach().numpy() for o in outs], [t.grad.numpy() for t in inputs],
            [type(o.grad_fn).__name__ for o in outs])


def error(L, name):
    try:
        ERRORS[name](L)
    except Exception as exc:  # noqa: BLE001 - the error is what is recorded
        return [type(exc).__name__, str(exc)]
    return None

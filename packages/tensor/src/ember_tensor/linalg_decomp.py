"""``torch.linalg``'s factorizations and solvers on Arrays: inv, solve, det, cholesky, svd,
svdvals, qr, eigh, eigvalsh, and the matrix norms built on them.

The numbers come from NumPy's LAPACK; this module adds torch's argument checks, its error
types and words (``LinAlgError``, a ``RuntimeError``, naming the batch element and the zero
pivot or failing minor), and its rules for vectors on the right of ``solve``.
"""
import numpy as np

from . import _dtype as D
from ._array import Array


class _LinAlgError(RuntimeError):
    """torch.linalg.LinAlgError: the input is singular or not positive-definite. Named as
    torch's class (``torch._C._LinAlgError``), so tracebacks and ``type(e).__name__`` agree."""


LinAlgError = _LinAlgError


def check_matrix(name: str, a: Array, square: bool = True) -> np.ndarray:
    """The ndarray of ``a`` after torch's checks: at least 2-D, float, square if asked."""
    if not isinstance(a, Array):
        raise TypeError(f"{name}(): argument 'A' (position 1) must be Tensor, not "
                        f"{type(a).__name__}")
    v = a._np
    if v.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    check_float(name, a)
    if square and v.shape[-1] != v.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{v.shape[-2]} by {v.shape[-1]} matrices")
    return v


def check_float(name: str, a: Array) -> None:
    if a.dtype is D.float16:
        raise RuntimeError(f"{name}: Low precision dtypes not supported. Got Half")
    if not a.dtype.is_floating_point:
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got "
                           f"{a.dtype.torch_name}")


def _batch_prefix(v, index):
    return f"(Batch element {index}): " if v.ndim > 2 else ""


def _first_zero_pivot(m):
    """1-based index of the first zero pivot of LU with partial pivoting (LAPACK's getrf
    ``info``), or 0: only run once NumPy has said the matrix is singular."""
    m = np.array(m, dtype=np.float64)
    n = m.shape[0]
    for k in range(n):
        p = k + int(np.argmax(np.abs(m[k:, k])))
        if m[p, k] == 0:
            return k + 1
        m[[k, p]] = m[[p, k]]
        m[k + 1:, k:] -= np.outer(m[k + 1:, k] / m[k, k], m[k, k:])
    return 0


def _failing_minor(m):
    """1-based order of the first leading minor where Cholesky finds no positive pivot."""
    n = m.shape[0]
    low = np.zeros((n, n))
    for j in range(n):
        d = m[j, j] - low[j, :j] @ low[j, :j]
        if not d > 0:
            return j + 1
        low[j, j] = np.sqrt(d)
        low[j + 1:, j] = (m[j + 1:, j] - low[j + 1:, :j] @ low[j, :j]) / low[j, j]
    return 0


def _flat(v):
    return v.reshape((-1,) + v.shape[-2:])


def inv(a: Array) -> Array:
    v = check_matrix("linalg.inv", a)
    try:
        return Array(np.linalg.inv(v))
    except np.linalg.LinAlgError:
        for i, m in enumerate(_flat(v)):
            info = _first_zero_pivot(m)
            if info:
                raise LinAlgError(
                    f"linalg.inv: {_batch_prefix(v, i)}The diagonal element {info} is zero, the "
                    "inversion could not be completed because the input matrix is singular."
                ) from None
        raise


def solve_is_vector(a_shape, b_shape) -> bool:
    """torch's rule: B is a (batch of) vector(s) if it is 1-D or has A's batch shape."""
    return len(b_shape) == 1 or (len(b_shape) == len(a_shape) - 1
                                 and tuple(b_shape) == tuple(a_shape[:-1]))


def solve(a: Array, b: Array, left: bool = True) -> Array:
    va = check_matrix("linalg.solve", a)
    if not isinstance(b, Array):
        raise TypeError(f"linalg_solve(): argument 'B' (position 2) must be Tensor, not "
                        f"{type(b).__name__}")
    check_float("linalg.solve", b)
    if b.dtype is not a.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found "
                           f"A of type {a.dtype.torch_name} and B of type "
                           f"{b.dtype.torch_name} instead")
    vb = b._np
    vector = solve_is_vector(va.shape, vb.shape)
    if not left:  # X A = B  <=>  A^T X^T = B^T
        va = np.swapaxes(va, -1, -2)
        vb = vb if vector else np.swapaxes(vb, -1, -2)
    rhs = vb[..., None] if vector else vb
    if rhs.ndim < 2 or rhs.shape[-2] != va.shape[-1]:
        raise RuntimeError(
            "linalg.solve: Incompatible shapes of A and B for the equation AX = B "
            f"({va.shape[-2]}x{va.shape[-1]} and {rhs.shape[-2]}x{rhs.shape[-1]})")
    try:
        x = np.linalg.solve(va, rhs)
    except np.linalg.LinAlgError:
        batch = np.broadcast_shapes(va.shape[:-2], rhs.shape[:-2])
        flat = _flat(np.broadcast_to(va, batch + va.shape[-2:]))
        index = next((i for i, m in enumerate(flat) if _first_zero_pivot(m)), 0)
        prefix = f"(Batch element {index}): " if batch else ""
        raise LinAlgError(f"torch.linalg.solve: {prefix}The solver failed because the input "
                          "matrix is singular.") from None
    if vector:
        x = x[..., 0]
    elif not left:
        x = np.swapaxes(x, -1, -2)
    return Array(np.ascontiguousarray(x, dtype=a.dtype.np))


def det(a: Array) -> Array:
    return Array(np.asarray(np.linalg.det(check_matrix("linalg.det", a)), dtype=a.dtype.np))


def slogdet(a: Array) -> tuple[Array, Array]:
    sign, logabs = np.linalg.slogdet(check_matrix("linalg.slogdet", a))
    return (Array(np.asarray(sign, dtype=a.dtype.np)),
            Array(np.asarray(logabs, dtype=a.dtype.np)))


def cholesky(a: Array, upper: bool = False) -> Array:
    v = check_matrix("linalg.cholesky", a)
    try:
        low = np.linalg.cholesky(v)
    except np.linalg.LinAlgError:
        for i, m in enumerate(_flat(v)):
            order = _failing_minor(np.tril(m) + np.tril(m, -1).T)  # torch reads the lower half
            if order:
                raise LinAlgError(
                    f"linalg.cholesky: {_batch_prefix(v, i)}The factorization could not be "
                    "completed because the input is not positive-definite (the leading minor "
                    f"of order {order} is not positive-definite).") from None
        raise
    return Array(np.ascontiguousarray(np.swapaxes(low, -1, -2) if upper else low))


def svd(a: Array, full_matrices: bool = True) -> tuple[Array, Array, Array]:
    v = check_matrix("linalg.svd", a, square=False)
    u, s, vh = np.linalg.svd(v, full_matrices=full_matrices)
    return Array(u), Array(s), Array(vh)


def svdvals(a: Array) -> Array:
    return Array(np.linalg.svd(check_matrix("linalg.svdvals", a, square=False),
                               compute_uv=False))


def qr(a: Array, mode: str = "reduced") -> tuple[Array, Array]:
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    v = check_matrix("linalg.qr", a, square=False)
    if mode == "r":
        return Array(np.empty(0, dtype=v.dtype)), Array(np.linalg.qr(v, mode="r"))
    q, r = np.linalg.qr(v, mode="complete" if mode == "complete" else "reduced")
    return Array(q), Array(r)


def eigh(a: Array, UPLO: str = "L") -> tuple[Array, Array]:  # noqa: N803 - torch's name
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    w, vecs = np.linalg.eigh(check_matrix("linalg.eigh", a),
                              UPLO="U" if UPLO == "U" else "L")
    return Array(w), Array(vecs)


def eigvalsh(a: Array, UPLO: str = "L") -> Array:  # noqa: N803 - torch's name
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return Array(np.linalg.eigvalsh(check_matrix("linalg.eigvalsh", a),
                                    UPLO="U" if UPLO == "U" else "L"))

"""Differentiable ``torch.linalg``: inv, solve, det, slogdet, cholesky, svd, svdvals, qr, eigh,
eigvalsh and the vector / matrix norms, with torch's result types and grad_fn names.

Forward values and argument checks come from ``ember_tensor.linalg_decomp`` (NumPy's LAPACK).
Each backward is the textbook adjoint written with Tensor ops, so ``create_graph`` works; the
svd and eigh adjoints divide by gaps between singular values / eigenvalues and, as in torch,
are only defined when those are distinct.
"""
import collections
import math

import numpy as np

from ember_tensor import Array
from ember_tensor import linalg_decomp as K

from .._core.node import Node, record
from .._tensor import Tensor
from ._common import require_tensor
from .reduction import norm as _vector_norm


def _result_type(name, fields):
    """A ``torch.return_types.<name>`` namedtuple with torch's repr."""
    base = collections.namedtuple(name, fields)

    def __repr__(self):
        inner = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"torch.return_types.{name}(\n{inner})"

    return type(name, (base,), {"__repr__": __repr__, "__slots__": ()})


linalg_svd = _result_type("linalg_svd", ("U", "S", "Vh"))
linalg_qr = _result_type("linalg_qr", ("Q", "R"))
linalg_eigh = _result_type("linalg_eigh", ("eigenvalues", "eigenvectors"))
linalg_slogdet = _result_type("linalg_slogdet", ("sign", "logabsdet"))
svd_result = _result_type("svd", ("U", "S", "V"))
qr_result = _result_type("qr", ("Q", "R"))


def _mT(x):  # noqa: N802 - torch's spelling
    return x.transpose(-2, -1)


def _const(values, like):
    return Tensor._make(Array(np.asarray(values, dtype=like._data._np.dtype)))


def _eye(n, like):
    return _const(np.eye(n), like)


def _diag_embed(v):
    return v.unsqueeze(-1) * _eye(v.shape[-1], v)


def _diagonal(m):
    return (m * _eye(m.shape[-1], m)).sum(-1)


def _gaps(values):
    """1 / (v_j - v_i) off the diagonal, 0 on it: the factor of the svd / eigh adjoints."""
    diff = values.unsqueeze(-2) - values.unsqueeze(-1)
    eye = _eye(values.shape[-1], values)
    return (1 - eye) / (diff + eye)


# ---- inverse, solve, determinant -----------------------------------------------------------
class LinalgInvExBackward0(Node):
    def backward(self, g, *_):
        (inv_a,) = self.saved_tensors
        t = _mT(inv_a)
        return (-(t @ g @ t),)


def inv(A):
    require_tensor(A, "linalg_inv", "A")
    res = K.inv(A._data)
    return record(LinalgInvExBackward0, res, (A,), save=(res,))


class LinalgSolveExBackward0(Node):
    def backward(self, g, *_):
        a, x = self.saved_tensors
        needs = self.needs_input_grad
        gb = solve(_mT(a), g, left=self.left)
        ga = None
        if needs[0]:
            if self.vector:
                ga = -(gb.unsqueeze(-1) @ x.unsqueeze(-2))
            else:
                ga = -(gb @ _mT(x)) if self.left else -(_mT(x) @ gb)
        return ga, gb if needs[1] else None


def solve(A, B, *, left=True):
    require_tensor(A, "linalg_solve", "A")
    require_tensor(B, "linalg_solve", "B", 2)
    res = K.solve(A._data, B._data, left)
    vector = K.solve_is_vector(A._data._np.shape, B._data._np.shape)
    return record(LinalgSolveExBackward0, res, (A, B), save=(A, res), left=left, vector=vector)


class LinalgDetBackward0(Node):
    def backward(self, g):
        a, d = self.saved_tensors
        return ((g * d).unsqueeze(-1).unsqueeze(-1) * _mT(inv(a)),)


def det(A):
    require_tensor(A, "linalg_det", "A")
    res = K.det(A._data)
    return record(LinalgDetBackward0, res, (A,), save=(A, res))


class LinalgSlogdetBackward0(Node):
    def backward(self, g_sign, g_logabs):
        (a,) = self.saved_tensors
        return (g_logabs.unsqueeze(-1).unsqueeze(-1) * _mT(inv(a)),)


def slogdet(A):
    require_tensor(A, "linalg_slogdet", "A")
    sign, logabs = K.slogdet(A._data)
    return linalg_slogdet(*record(LinalgSlogdetBackward0, (sign, logabs), (A,), save=(A,),
                                  non_differentiable=(sign,)))


# ---- cholesky -------------------------------------------------------------------------------
class LinalgCholeskyExBackward0(Node):
    def backward(self, g, *_):
        (low,) = self.saved_tensors
        if self.upper:
            low, g = _mT(low), _mT(g)
        n = low.shape[-1]
        lower = _const(np.tril(np.ones((n, n)), -1), low)
        phi = _mT(low) @ g
        phi = phi * lower + _diag_embed(_diagonal(phi) * 0.5)
        inv_low = inv(low)
        ga = _mT(inv_low) @ phi @ inv_low
        return ((ga + _mT(ga)) * 0.5,)


def cholesky(A, *, upper=False):
    require_tensor(A, "linalg_cholesky", "A")
    res = K.cholesky(A._data, upper)
    return record(LinalgCholeskyExBackward0, res, (A,), save=(res,), upper=upper)


def cholesky_torch(input, upper=False):
    """The deprecated ``torch.cholesky``: ``upper`` may be positional."""
    return cholesky(input, upper=upper)


# ---- svd and eigh ---------------------------------------------------------------------------
class LinalgSvdBackward0(Node):
    def backward(self, gu, gs, gvh):
        u, s, vh = self.saved_tensors
        k = s.shape[-1]
        if self.full_matrices:  # the extra columns are arbitrary: only the first k count
            u, gu, vh, gvh = u[..., :, :k], gu[..., :, :k], vh[..., :k, :], gvh[..., :k, :]
        v, gv = _mT(vh), _mT(gvh)
        f = _gaps(s * s)
        utgu, vtgv = _mT(u) @ gu, vh @ gv
        j = f * (utgu - _mT(utgu))
        kk = f * (vtgv - _mT(vtgv))
        inner = j * s.unsqueeze(-2) + s.unsqueeze(-1) * kk + _diag_embed(gs)
        ga = u @ inner @ vh
        m, n = u.shape[-2], vh.shape[-1]
        if m > k:
            ga = ga + ((gu - u @ utgu) / s.unsqueeze(-2)) @ vh
        if n > k:
            ga = ga + u @ _mT((gv - v @ vtgv) / s.unsqueeze(-2))
        return (ga,)


def svd(A, full_matrices=True):
    require_tensor(A, "linalg_svd", "A")
    u, s, vh = K.svd(A._data, full_matrices)
    return linalg_svd(*record(LinalgSvdBackward0, (u, s, vh), (A,), save=(u, s, vh),
                              full_matrices=full_matrices))


def svdvals(A):
    """The singular values; their gradient is ``U diag(g) Vh`` (the svd adjoint with only
    ``gS``), so svdvals reuses the svd node as torch does."""
    return svd(A, full_matrices=False).S


def svd_torch(input, some=True, compute_uv=True):
    """The deprecated ``torch.svd``: V rather than Vh, reduced unless ``some=False``."""
    u, s, vh = svd(input, full_matrices=not some)
    if not compute_uv:
        return svd_result(u * 0, s, _mT(vh) * 0)
    return svd_result(u, s, _mT(vh))


class LinalgEighBackward0(Node):
    def backward(self, gl, gv):
        w, v = self.saved_tensors
        vtgv = _mT(v) @ gv  # only its skew part moves orthonormal eigenvectors
        inner = _gaps(w) * ((vtgv - _mT(vtgv)) * 0.5) + _diag_embed(gl)
        return (v @ inner @ _mT(v),)


def eigh(A, UPLO="L"):  # noqa: N803 - torch's name
    require_tensor(A, "linalg_eigh", "A")
    w, v = K.eigh(A._data, UPLO)
    return linalg_eigh(*record(LinalgEighBackward0, (w, v), (A,), save=(w, v)))


def eigvalsh(A, UPLO="L"):  # noqa: N803 - torch's name
    return eigh(A, UPLO).eigenvalues


# ---- qr -------------------------------------------------------------------------------------
class LinalgQrBackward0(Node):
    def backward(self, gq, gr):
        q, r = self.saved_tensors
        m, n = q.shape[-2], r.shape[-1]
        if self.mode == "r":
            raise RuntimeError(
                "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                "Please use linalg.qr(A, mode='reduced') if you are going to differentiate "
                "through linalg.qr.")
        if m < n or (self.mode == "complete" and m > n):
            raise NotImplementedError(
                "Ember differentiates linalg.qr only for tall or square inputs in reduced mode")
        mm = r @ _mT(gr) - _mT(gq) @ q
        lower = _const(np.tril(np.ones((n, n)), -1), mm)
        low = mm * lower
        copyltu = low + _mT(low) + _diag_embed(_diagonal(mm))
        return ((gq + q @ copyltu) @ _mT(inv(r)),)


def qr(A, mode="reduced"):
    require_tensor(A, "linalg_qr", "A")
    q, r = K.qr(A._data, mode)
    return linalg_qr(*record(LinalgQrBackward0, (q, r), (A,), save=(q, r), mode=mode))


def qr_torch(input, some=True):
    """The deprecated ``torch.qr``: ``some=False`` is mode 'complete'."""
    return qr_result(*qr(input, "reduced" if some else "complete"))


# ---- norms ----------------------------------------------------------------------------------
def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):  # noqa: A002 - torch's
    require_tensor(x, "linalg_vector_norm", "input")
    if isinstance(ord, str):
        raise TypeError("linalg_vector_norm(): argument 'ord' (position 2) must be Number, not str")
    if not x._data.dtype.is_floating_point:
        K.check_float("linalg.vector_norm", x._data)
    return _vector_norm(x, ord, dim, keepdim, dtype)


def _matrix_dims(name, A, dim):
    if A._data.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    d0, d1 = (d % A._data.ndim for d in dim)
    if d0 == d1:
        raise RuntimeError(f"{name}: dims must be different. Got ({dim[0]}, {dim[1]})")
    return d0, d1


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):  # noqa: A002
    require_tensor(A, "linalg_matrix_norm", "A")
    name = "linalg.matrix_norm"
    d0, d1 = _matrix_dims(name, A, dim)
    K.check_float(name, A._data)
    if dtype is not None:
        A = A.to(dtype)
    if ord == "fro":
        return _vector_norm(A, 2, (d0, d1), keepdim)
    if ord == "nuc" or ord in (2, -2):
        sv = svdvals(A.movedim((d0, d1), (-2, -1)))
        out = sv.sum(-1) if ord == "nuc" else (sv.amax(-1) if ord == 2 else sv.amin(-1))
        if keepdim:
            out = out.unsqueeze(min(d0, d1)).unsqueeze(max(d0, d1))
        return out
    if ord in (1, -1, math.inf, -math.inf):
        sum_dim, max_dim = (d0, d1) if ord in (1, -1) else (d1, d0)
        sums = A.abs().sum(sum_dim, keepdim=keepdim)
        if not keepdim and sum_dim < max_dim:
            max_dim -= 1
        return (sums.amax if ord > 0 else sums.amin)(max_dim, keepdim=keepdim)
    if isinstance(ord, str):
        raise RuntimeError(f"{name}: Order {ord} not supported.")
    raise RuntimeError(f"{name}: Order {ord:g} not supported.")


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):  # noqa: A002 - torch's name
    require_tensor(A, "linalg_norm", "A")
    ndim = A._data.ndim
    if dim is not None and not isinstance(dim, (tuple, list)):
        dim = (dim,)
    if ord is None:
        if dim is not None and len(dim) == 2:
            return matrix_norm(A, "fro", dim, keepdim, dtype=dtype)
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if dim is None:
        if ndim not in (1, 2):
            raise RuntimeError("linalg.norm: If dim is not specified but ord is, the input "
                               f"must be 1D or 2D. Got {ndim}D.")
        dim = tuple(range(ndim))
    if len(dim) == 2 or isinstance(ord, str):  # 'fro' / 'nuc' are matrix norms
        return matrix_norm(A, ord, dim if len(dim) == 2 else (-2, -1), keepdim, dtype=dtype)
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)


def norm_torch(input, p="fro", dim=None, keepdim=False, dtype=None):
    """``torch.norm`` / ``Tensor.norm``: 'fro' and 'nuc' over two dims are matrix norms."""
    if isinstance(p, str) and p == "nuc" or (
            p == "fro" and isinstance(dim, (tuple, list)) and len(dim) == 2):
        return matrix_norm(input, p, dim if dim is not None else (-2, -1), keepdim, dtype=dtype)
    return _vector_norm(input, 2 if p == "fro" else p, dim, keepdim, dtype)


LINALG = {
    "inv": inv, "solve": solve, "det": det, "slogdet": slogdet, "cholesky": cholesky,
    "svd": svd, "svdvals": svdvals, "qr": qr, "eigh": eigh, "eigvalsh": eigvalsh,
    "norm": norm, "vector_norm": vector_norm, "matrix_norm": matrix_norm,
}
TENSOR_METHODS = {"inverse": inv, "det": det, "slogdet": slogdet, "cholesky": cholesky_torch,
                  "svd": svd_torch, "qr": qr_torch, "norm": norm_torch}
FUNCTIONS = dict(TENSOR_METHODS)

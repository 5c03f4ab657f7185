"""Differentiable matrix products: matmul, mm, bmm, addmm, mv, dot, outer.

Forward products go through ``ember_tensor.linalg`` (BLAS); the backward of each is again a
product of Tensors, so ``create_graph`` works."""
import numpy as np

from ember_tensor import linalg as L

from .._tensor import Tensor
from .._core.node import Node, record


def _same_dtype(a, b, what="expected m1 and m2 to have the same dtype"):
    if a.dtype is not b.dtype:
        raise RuntimeError(f"{what}, but got: {a.dtype.name if False else a.dtype.torch_name} != "
                           f"{b.dtype.torch_name}")


def _check_tensor(x, name, pos, fn):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be Tensor, not "
                        f"{type(x).__name__}")


def _transposed(t) -> bool:
    """True for a matrix stored column-major (a ``.t()`` view, as Linear's weight enters)."""
    a = t._data._np
    return a.flags.f_contiguous and not a.flags.c_contiguous


def _mat1_grad(g, mat2, mat1_transposed):
    """``g @ mat2.T``, computed in mat1's layout: for a transposed mat1 the product is formed
    transposed, so the gradient that reaches the leaf through ``t()`` is C-contiguous and can
    become its ``.grad`` without a copy (torch's mm_mat1_backward does the same)."""
    return mat2.mm(g.t()).t() if mat1_transposed else g.mm(mat2.t())


def _mat2_grad(g, mat1, mat2_transposed):
    """``mat1.T @ g`` in mat2's layout (see ``_mat1_grad``): Linear's weight gradient."""
    return g.t().mm(mat1).t() if mat2_transposed else mat1.t().mm(g)


class MmBackward0(Node):
    def backward(self, g):
        a, b = self.saved_tensors
        ga = _mat1_grad(g, b, self.mat1_transposed) if self.needs_input_grad[0] else None
        gb = _mat2_grad(g, a, self.mat2_transposed) if self.needs_input_grad[1] else None
        return ga, gb


def mm(input, mat2) -> Tensor:
    _check_tensor(input, "input", 1, "mm")
    _check_tensor(mat2, "mat2", 2, "mm")
    return _mm(input, mat2)


def _mm(input, mat2):
    """mm of two Tensors; shapes read off the arrays (``Tensor.shape`` builds a Size object
    per read, several thousand instructions, as much as a small GEMM's own set-up)."""
    x, y = input._data._np, mat2._data._np
    sa, sb = x.shape, y.shape
    if len(sa) != 2:
        raise RuntimeError("self must be a matrix")
    if len(sb) != 2:
        raise RuntimeError("mat2 must be a matrix")
    if sa[1] != sb[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({sa[0]}x{sa[1]} and {sb[0]}x{sb[1]})"
        )
    if x.dtype != y.dtype:
        _same_dtype(input, mat2, "expected m1 and m2 to have the same dtype")
    res = L.mm_checked(x, y)
    if not (input._requires_grad or mat2._requires_grad):
        return record(MmBackward0, res, (input, mat2))
    return record(MmBackward0, res, (input, mat2),
                  save=(input if mat2._requires_grad else None,
                        mat2 if input._requires_grad else None),
                  mat1_transposed=input._requires_grad and _transposed(input),
                  mat2_transposed=mat2._requires_grad and _transposed(mat2))


class BmmBackward0(Node):
    def backward(self, g):
        a, b = self.saved_tensors
        ga = g.bmm(b.transpose(1, 2)) if self.needs_input_grad[0] else None
        gb = a.transpose(1, 2).bmm(g) if self.needs_input_grad[1] else None
        return ga, gb


def bmm(input, mat2) -> Tensor:
    if input.dim() != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.dim() != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: "
            f"[{input.shape[0]}, {input.shape[2]}] but got: [{mat2.shape[0]}, {mat2.shape[1]}]."
        )
    _same_dtype(input, mat2, "expected scalar type " + input.dtype.torch_name + " but found "
                + mat2.dtype.torch_name if False else "expected m1 and m2 to have the same dtype")
    res = L.bmm(input._data, mat2._data)
    return record(BmmBackward0, res, (input, mat2),
                  save=(input if mat2._requires_grad else None,
                        mat2 if input._requires_grad else None))


class AddmmBackward0(Node):
    def backward(self, g):
        m1, m2 = self.saved_tensors
        gi = None
        if self.needs_input_grad[0]:
            gi = g if self.beta == 1 else g * self.beta
        g1 = g2 = None
        if self.needs_input_grad[1]:
            g1 = _mat1_grad(g, m2, self.mat1_transposed)
            if self.alpha != 1:
                g1 = g1 * self.alpha
        if self.needs_input_grad[2]:
            g2 = _mat2_grad(g, m1, self.mat2_transposed)
            if self.alpha != 1:
                g2 = g2 * self.alpha
        return gi, g1, g2


_USUAL_SHAPES = True  # False: every addmm through the general checks (tests compare the two)


def addmm(input, mat1, mat2, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)``; ``input`` broadcasts (a Linear's bias)."""
    if (_USUAL_SHAPES and isinstance(input, Tensor) and isinstance(mat1, Tensor)
            and isinstance(mat2, Tensor)):
        # the usual call (a Linear's): the shape checks on the arrays' shape tuples, without
        # a Size per read and NumPy's broadcast_shapes (~6 us); anything else, and every
        # error, goes through the checks below
        a, b = mat1._data._np.shape, mat2._data._np.shape
        if len(a) == 2 and len(b) == 2 and a[1] == b[0]:
            bias = input._data._np.shape
            if bias == (b[1],) or bias == (a[0], b[1]):
                _same_dtype(mat1, mat2)
                return _addmm(input, mat1, mat2, beta, alpha)
    if mat1.dim() != 2:
        raise RuntimeError("mat1 must be a matrix, got " + f"{mat1.dim()}-D tensor")
    if mat2.dim() != 2:
        raise RuntimeError("mat2 must be a matrix, got " + f"{mat2.dim()}-D tensor")
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x{mat1.shape[1]} and "
            f"{mat2.shape[0]}x{mat2.shape[1]})"
        )
    _same_dtype(mat1, mat2)
    n, m = mat1.shape[0], mat2.shape[1]
    try:
        np.broadcast_shapes(tuple(input.shape), (n, m))
    except ValueError:
        raise RuntimeError(
            f"The expanded size of the tensor ({m}) must match the existing size "
            f"({input.shape[-1]}) at non-singleton dimension 1.  Target sizes: [{n}, {m}].  "
            f"Tensor sizes: {list(input.shape)}"
        ) from None
    return _addmm(input, mat1, mat2, beta, alpha)


def _addmm(input, mat1, mat2, beta, alpha):
    res = L.addmm(input._data, mat1._data, mat2._data, beta=beta, alpha=alpha)
    return record(AddmmBackward0, res, (input, mat1, mat2),
                  save=(mat1 if mat2._requires_grad else None,
                        mat2 if mat1._requires_grad else None), alpha=alpha, beta=beta,
                  mat1_transposed=mat1._requires_grad and _transposed(mat1),
                  mat2_transposed=mat2._requires_grad and _transposed(mat2))


class MvBackward0(Node):
    def backward(self, g):
        a, v = self.saved_tensors
        ga = g.unsqueeze(1) * v.unsqueeze(0) if self.needs_input_grad[0] else None
        gv = a.t().mv(g) if self.needs_input_grad[1] else None
        return ga, gv


def mv(input, vec) -> Tensor:
    if input.dim() != 2 or vec.dim() != 1 or input.shape[1] != vec.shape[0]:
        raise RuntimeError(
            f"size mismatch, got input ({input.shape[0] if input.dim() else 0}), mat "
            f"({'x'.join(str(s) for s in input.shape)}), vec ({vec.shape[0] if vec.dim() else 0})"
        )
    _same_dtype(input, vec)
    res = L.mv(input._data, vec._data)
    return record(MvBackward0, res, (input, vec), save=(input, vec))


class DotBackward0(Node):
    def backward(self, g):
        a, b = self.saved_tensors
        return (g * b if self.needs_input_grad[0] else None,
                g * a if self.needs_input_grad[1] else None)


def dot(input, other) -> Tensor:
    if input.dim() != 1 or other.dim() != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {input.dim()}D and {other.dim()}D tensors"
        )
    if input.shape[0] != other.shape[0]:
        raise RuntimeError(
            "inconsistent tensor size, expected tensor [" + str(input.shape[0]) + "] and src ["
            + str(other.shape[0]) + "] to have the same number of elements, but got "
            + f"{input.shape[0]} and {other.shape[0]} elements respectively"
        )
    if input.dtype is not other.dtype:
        raise RuntimeError(
            "dot : expected both vectors to have same dtype, but found "
            f"{input.dtype.torch_name} and {other.dtype.torch_name}"
        )
    res = L.dot(input._data, other._data)
    return record(DotBackward0, res, (input, other), save=(input, other))


def outer(input, vec2) -> Tensor:
    return input.unsqueeze(1) * vec2.unsqueeze(0)


ger = outer


def _rows(shape):
    return int(np.prod(shape[:-1], dtype=np.int64))


def matmul(input, other) -> Tensor:
    """torch.matmul's dispatch: dot, mv, mm, or batched with broadcasting."""
    if not (isinstance(input, Tensor) and isinstance(other, Tensor)):
        _check_tensor(input, "input", 1, "matmul")
        _check_tensor(other, "other", 2, "matmul")
    x, y = input._data._np, other._data._np
    da, db = x.ndim, y.ndim
    if da == 0 or db == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {da}D and {db}D"
        )
    if x.dtype != y.dtype:
        raise RuntimeError(
            "expected m1 and m2 to have the same dtype, but got: "
            f"{input.dtype.name if False else input.dtype.torch_name.lower()} != "
            f"{other.dtype.torch_name.lower()}"
        )
    if da == 1 and db == 1:
        return dot(input, other)
    if da == 2 and db == 1:
        return mv(input, other)
    if da == 1 and db == 2:
        if input.shape[0] != other.shape[0]:
            raise RuntimeError(
                f"size mismatch, got input (1), mat (1x{input.shape[0]}), vec ({other.shape[0]})"
                if False else
                f"mat1 and mat2 shapes cannot be multiplied (1x{input.shape[0]} and "
                f"{other.shape[0]}x{other.shape[1]})"
            )
        return _squeeze_out(mm(input.unsqueeze(0), other), 0)
    if da == 2 and db == 2:
        return _mm(input, other)
    if da >= 3 and db <= 2:
        # fold the batch into rows: one GEMM, as torch does
        a = input
        shape = tuple(a.shape)
        if db == 1:
            if shape[-1] != other.shape[0]:
                raise RuntimeError(
                    f"mat1 and mat2 shapes cannot be multiplied "
                    f"({int(np.prod(shape[:-1]))}x{shape[-1]} and {other.shape[0]}x1)"
                )
            # an explicit row count: -1 is ambiguous when the inner size is 0
            out = mm(a.reshape(_rows(shape), shape[-1]), other.unsqueeze(1))
            return _unsafe_view(out, shape[:-1])
        if shape[-1] != other.shape[0]:
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied ({int(np.prod(shape[:-1]))}x"
                f"{shape[-1]} and {other.shape[0]}x{other.shape[1]})"
            )
        out = mm(a.reshape(_rows(shape), shape[-1]), other)
        return _unsafe_view(out, shape[:-1] + (other.shape[1],))
    a = input
    b = other.unsqueeze(-1) if db == 1 else other
    if a.shape[-1] != b.shape[-2]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: "
            f"[{int(np.prod(b.shape[:-2]))}, {a.shape[-1]}] but got: "
            f"[{int(np.prod(b.shape[:-2]))}, {b.shape[-2]}]."
        )
    if da == 1:
        # vector @ batch of matrices = (batch^T @ vector): the folded path above, as torch
        return matmul(other.transpose(-1, -2), input)
    # general batched case: broadcast batch dims, then bmm
    try:
        batch = tuple(np.broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2])))
    except ValueError:
        raise RuntimeError(
            f"The size of tensor a ({a.shape[-3]}) must match the size of tensor b "
            f"({b.shape[-3]}) at non-singleton dimension 0"
        ) from None
    n, k, m = a.shape[-2], a.shape[-1], b.shape[-1]
    nb = int(np.prod(batch, dtype=np.int64))
    a3 = a.expand(batch + (n, k)).reshape(nb, n, k)
    b3 = b.expand(batch + (k, m)).reshape(nb, k, m)
    out = _unsafe_view(bmm(a3, b3), batch + (n, m))
    return _squeeze_out(out, -1) if db == 1 else out


class SqueezeBackward4(Node):  # torch's in-place squeeze_ over a dims list
    def backward(self, g):
        return (g.reshape(self.shape),)


def _squeeze_out(x, dim):
    """Drop the unit dim matmul added for a vector operand, recorded as torch does."""
    res = x._data.squeeze(dim)
    return record(SqueezeBackward4, res, (x,), shape=tuple(x.shape))


class UnsafeViewBackward0(Node):
    def backward(self, g):
        return (g.reshape(self.shape),)


def _unsafe_view(x, shape):
    res = x._data.reshape(shape)
    return record(UnsafeViewBackward0, res, (x,), shape=tuple(x.shape))


def _rmatmul(self, other):
    return matmul(other, self)


TENSOR_METHODS = {
    "matmul": matmul, "__matmul__": matmul, "__rmatmul__": _rmatmul, "mm": mm, "bmm": bmm,
    "addmm": addmm, "mv": mv, "dot": dot, "outer": outer, "ger": outer,
}
FUNCTIONS = dict(TENSOR_METHODS)
for _k in ("__matmul__", "__rmatmul__"):
    del FUNCTIONS[_k]

"""Matrix products with torch's shape rules, dtype checks and error messages.

Every float32/float64 product (2-D, batched, matrix-vector) goes to ``_team.matmul``: cblas
called directly, on the OpenMP team; transposed operands are read as they are, so no copies
are made here. Integer products (which torch computes without BLAS) go to NumPy's ``matmul``
and wrap around as torch's do.
"""
import numpy as np

from . import _dtype as D
from . import _team
from ._array import Array

_new_array = object.__new__

__all__ = ["matmul", "mm", "bmm", "addmm", "mv", "dot", "outer", "ARRAY_METHODS"]



def _no_bool(op, *arrays):
    for a in arrays:
        if a._np.dtype == np.bool_:
            raise NotImplementedError(f'"{op}" not implemented for \'Bool\'')


def _shape_str(shape):
    return "x".join(str(s) for s in shape)


def _check_mm_dtypes(a, b):
    if a._np.dtype != b._np.dtype:
        raise RuntimeError(
            "expected m1 and m2 to have the same dtype, but got: "
            f"{a.dtype.cpp_name} != {b.dtype.cpp_name}"
        )


def _check_mm_shapes(a_shape, b_shape):
    if a_shape[1] != b_shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({_shape_str(a_shape)} and "
            f"{_shape_str(b_shape)})"
        )


def _product(x, y):
    # NumPy's integer matmul loops are correct but unhurried; floats go to BLAS, on the
    # OpenMP team (``_team.matmul``) rather than OpenBLAS's own threads
    return _team.matmul(x, y)


def _batched_product(xa, xb, batch):
    """``np.matmul`` of (..., n, k) and (..., k, m) whose batch dims broadcast to ``batch``,
    as at most 3-D operands (what the team's cblas path takes); returns batch + (n, m)."""
    if len(batch) <= 1 and xa.ndim <= 3 and xb.ndim <= 3:
        return _product(xa, xb)
    nb = int(np.prod(batch))

    def flat(z):
        if all(s == 1 for s in z.shape[:-2]):
            return z.reshape(z.shape[-2:])  # one matrix: the cblas path broadcasts it
        return np.broadcast_to(z, batch + z.shape[-2:]).reshape((nb,) + z.shape[-2:])

    out = _product(flat(xa), flat(xb))
    return out.reshape(batch + out.shape[-2:])


def dot(a, b):
    """Inner product of two 1-D arrays -> 0-d Array."""
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a._np.dtype != b._np.dtype:
        raise RuntimeError(
            "dot : expected both vectors to have same dtype, but found "
            f"{a.dtype.torch_name} and {b.dtype.torch_name}"
        )
    if a._np.shape[0] != b._np.shape[0]:
        n, m = a._np.shape[0], b._np.shape[0]
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to have the same "
            f"number of elements, but got {n} and {m} elements respectively"
        )
    _no_bool("dot", a)
    return Array(np.asarray(np.dot(a._np, b._np), dtype=a._np.dtype))


def mv(mat, vec):
    """Matrix @ vector: [n, m] x [m] -> [n]."""
    if mat.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {mat.ndim}, {vec.ndim}")
    n, m = mat._np.shape
    if vec._np.shape[0] != m:
        raise RuntimeError(
            f"size mismatch, got input ({n}), mat ({n}x{m}), vec ({vec._np.shape[0]})"
        )
    if mat._np.dtype != vec._np.dtype:
        v, a = vec.dtype.torch_name, mat.dtype.torch_name
        raise RuntimeError(
            f"addmv input tensors must have the same dtype, but got {v}, {a}, and {v}"
        )
    if n and m:  # torch skips the kernel (and its Bool refusal) when there is no work
        _no_bool("addmv_impl_cpu", mat)
    return Array(_product(mat._np, vec._np))


def mm(a, b):
    """Matrix product of two 2-D arrays."""
    if a.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    x, y = a._np, b._np
    _check_mm_shapes(x.shape, y.shape)
    if x.dtype != y.dtype:
        _check_mm_dtypes(a, b)
    return mm_checked(x, y)


def mm_checked(x: np.ndarray, y: np.ndarray) -> Array:
    """``mm`` of two 2-D NumPy arrays whose shapes and dtypes the caller has checked
    (``Tensor.mm`` has, with its own messages): only Bool's refusal is left."""
    if x.dtype.char == "?" and x.size and y.size:  # (cheaper than == np.bool_)
        raise NotImplementedError('"addmm_impl_cpu_" not implemented for \'Bool\'')
    res = _new_array(Array)  # the product has our dtype: no check to repeat
    res._np = _team.matmul(x, y)  # (``_product``'s call, one frame less on the hot path)
    return res


def _check_bmm(a_shape, b_shape, a_dtype, b_dtype):
    """bmm's checks; returns False when the result is empty and torch skips the rest."""
    batch, n, k = a_shape
    if b_shape[0] != batch or b_shape[1] != k:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{batch}, {k}] "
            f"but got: [{b_shape[0]}, {b_shape[1]}]."
        )
    if batch * n * b_shape[2] == 0:
        return False
    if a_dtype != b_dtype:
        raise RuntimeError(
            f"expected scalar type {a_dtype.torch_name} but found {b_dtype.torch_name}"
        )
    if a_dtype is D.bool and k:
        raise NotImplementedError("\"bmm\" not implemented for 'Bool'")
    return True


def bmm(a, b):
    """Batched matrix product of two 3-D arrays: [B, n, k] x [B, k, m] -> [B, n, m]."""
    if a.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if not _check_bmm(a._np.shape, b._np.shape, a.dtype, b.dtype):
        # torch's empty bmm skips its dtype check and takes batch2's dtype
        return Array(np.zeros(a._np.shape[:2] + b._np.shape[2:], dtype=b._np.dtype))
    return Array(_product(a._np, b._np))


def _broadcast_batch(sa, sb):
    """Broadcast two batch shapes with torch's message (dims counted from the left)."""
    n = max(len(sa), len(sb))
    pa = (1,) * (n - len(sa)) + tuple(sa)
    pb = (1,) * (n - len(sb)) + tuple(sb)
    out = []
    for i, (x, y) in enumerate(zip(pa, pb)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(
                f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                f"non-singleton dimension {i}"
            )
        out.append(y if x == 1 else x)
    return tuple(out)


def matmul(a, b):
    """torch.matmul: dot, mv, mm, or a batched product with broadcast batch dims."""
    da, db = a.ndim, b.ndim
    if da == 0 or db == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {da}D and {db}D"
        )
    if da == 1 and db == 1:
        return dot(a, b)
    if da == 2 and db == 1:
        return mv(a, b)
    if da == 1 and db == 2:
        _check_mm_shapes((1, a._np.shape[0]), b._np.shape)
        _check_mm_dtypes(a, b)
        _no_bool("addmm_impl_cpu_", a)
        return Array(_product(a._np, b._np))
    if da == 2 and db == 2:
        return mm(a, b)
    if da >= 3 and db <= 2:
        # torch folds the batch of `a` into its rows: one big GEMM, and its messages say so
        rows = int(np.prod(a._np.shape[:-1]))
        k = a._np.shape[-1]
        if db == 1:
            if b._np.shape[0] != k:
                raise RuntimeError(
                    f"size mismatch, got input ({rows}), mat ({rows}x{k}), "
                    f"vec ({b._np.shape[0]})"
                )
            if a._np.dtype != b._np.dtype:
                v, m = b.dtype.torch_name, a.dtype.torch_name
                raise RuntimeError(
                    f"addmv input tensors must have the same dtype, but got {v}, {m}, and {v}"
                )
            _no_bool("addmv_impl_cpu", a)
        else:
            _check_mm_shapes((rows, k), b._np.shape)
            _check_mm_dtypes(a, b)
            _no_bool("addmm_impl_cpu_", a)
        return Array(_product(a._np, b._np))
    # batched: vectors become a row / a column, batch dims broadcast, then bmm's checks
    xa = a._np[None, :] if da == 1 else a._np
    xb = b._np[:, None] if db == 1 else b._np
    batch = _broadcast_batch(xa.shape[:-2], xb.shape[:-2])
    nbatch = int(np.prod(batch))
    if _check_bmm((nbatch,) + xa.shape[-2:], (nbatch,) + xb.shape[-2:], a.dtype, b.dtype):
        out = _batched_product(xa, xb, batch)
    else:
        out = np.zeros(batch + xa.shape[-2:-1] + xb.shape[-1:], dtype=xb.dtype)
    if da == 1:
        out = out[..., 0, :]
    if db == 1:
        out = out[..., 0]
    return Array(np.ascontiguousarray(out))


def outer(a, b):
    """Outer product of two 1-D arrays, in their promoted dtype."""
    if a.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {a.ndim}-D")
    if b.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument vec2, but got {b.ndim}-D")
    dt = D.promote_types(a.dtype, b.dtype)
    x, y = a._np.astype(dt.np, copy=False), b._np.astype(dt.np, copy=False)
    return Array(np.multiply.outer(x, y))


def _scalar_for(dtype, x):
    # torch converts alpha/beta to the tensor's type: integers truncate
    return x if dtype.is_floating_point else (bool(x) if dtype is D.bool else int(x))


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2); input broadcasts to the product's shape.

    As torch, beta == 0 ignores ``input`` entirely (NaN in it does not propagate)."""
    if mat1.ndim != 2:
        raise RuntimeError(f"mat1 must be a matrix, got {mat1.ndim}-D tensor")
    if mat2.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix, got {mat2.ndim}-D tensor")
    _check_mm_shapes(mat1._np.shape, mat2._np.shape)
    if input._np.dtype != mat2._np.dtype:
        raise RuntimeError(
            "self and mat2 must have the same dtype, but got "
            f"{input.dtype.torch_name} and {mat2.dtype.torch_name}"
        )
    _check_mm_dtypes(mat1, mat2)
    _no_bool("addmm_impl_cpu_", mat1)
    shape = (mat1._np.shape[0], mat2._np.shape[1])
    try:
        bias = np.broadcast_to(input._np, shape)
    except ValueError:
        target = list(shape)
        for i in range(1, min(input.ndim, 2) + 1):
            own = input._np.shape[-i]
            if own != 1 and own != shape[-i]:
                raise RuntimeError(
                    f"The expanded size of the tensor ({shape[-i]}) must match the existing "
                    f"size ({own}) at non-singleton dimension {2 - i}.  Target sizes: "
                    f"{target}.  Tensor sizes: {list(input._np.shape)}"
                ) from None
        raise RuntimeError(
            f"expand: input of shape {list(input._np.shape)} cannot be expanded to {target}"
        ) from None
    dt = mat1.dtype
    alpha, beta = _scalar_for(dt, alpha), _scalar_for(dt, beta)
    out = _product(mat1._np, mat2._np)
    if alpha != 1:
        out *= alpha
    if beta == 0:
        return Array(out)
    if beta == 1:
        out += bias
    else:
        out += beta * bias if dt.is_floating_point else (bias * beta).astype(out.dtype)
    return Array(out)


def _rmatmul(a, b):
    return matmul(b, a)


ARRAY_METHODS = {
    "matmul": matmul,
    "mm": mm,
    "bmm": bmm,
    "mv": mv,
    "dot": dot,
    "outer": outer,
    "addmm": addmm,
    "__matmul__": matmul,
    "__rmatmul__": _rmatmul,
}

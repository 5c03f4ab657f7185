"""Matrix products without torch: values against NumPy in float64, torch's result dtypes,
and torch's exact error types and messages (recorded from torch 2.x)."""
import numpy as np
import pytest

from ember_tensor import linalg as L
from ember_tensor._array import Array

RNG = np.random.default_rng(2)


def A(*shape, dtype=np.float32):
    if np.dtype(dtype).kind in "iub":
        return Array(np.asarray(RNG.integers(0, 4, size=shape), dtype=dtype))
    return Array(np.asarray(RNG.standard_normal(shape), dtype=dtype))


def _ref(a, b):
    return np.matmul(a._np.astype(np.float64), b._np.astype(np.float64))


@pytest.mark.parametrize("sa, sb, shape", [
    ((3,), (3,), ()), ((2, 3), (3,), (2,)), ((3,), (3, 4), (4,)), ((2, 3), (3, 4), (2, 4)),
    ((5, 2, 3), (3,), (5, 2)), ((5, 2, 3), (3, 4), (5, 2, 4)), ((3,), (5, 3, 4), (5, 4)),
    ((2, 3), (5, 3, 4), (5, 2, 4)), ((5, 2, 3), (1, 3, 4), (5, 2, 4)),
    ((4, 1, 2, 3), (5, 3, 2), (4, 5, 2, 2)), ((0, 3), (3, 2), (0, 2)), ((2, 0), (0, 2), (2, 2)),
])
def test_matmul_shapes_and_values(sa, sb, shape):
    a, b = A(*sa), A(*sb)
    out = L.matmul(a, b)
    assert tuple(out.shape) == shape and out._np.dtype == np.float32
    np.testing.assert_allclose(out._np, _ref(a, b), rtol=1e-5, atol=1e-5)
    assert (a @ b)._np.shape == shape


@pytest.mark.parametrize("sa, sb, err, msg", [
    ((3,), (4,), RuntimeError, "inconsistent tensor size, expected tensor [3] and src [4] to "
     "have the same number of elements, but got 3 and 4 elements respectively"),
    ((2, 3), (4,), RuntimeError, "size mismatch, got input (2), mat (2x3), vec (4)"),
    ((3,), (4, 5), RuntimeError, "mat1 and mat2 shapes cannot be multiplied (1x3 and 4x5)"),
    ((2, 3), (4, 5), RuntimeError, "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"),
    ((7, 2, 3), (4, 5), RuntimeError, "mat1 and mat2 shapes cannot be multiplied (14x3 and 4x5)"),
    ((7, 2, 3), (4,), RuntimeError, "size mismatch, got input (14), mat (14x3), vec (4)"),
    ((7, 2, 3), (7, 4, 5), RuntimeError,
     "Expected size for first two dimensions of batch2 tensor to be: [7, 3] but got: [7, 4]."),
    ((7, 2, 3), (6, 3, 5), RuntimeError,
     "The size of tensor a (7) must match the size of tensor b (6) at non-singleton dimension 0"),
    ((), (3,), RuntimeError, "both arguments to matmul need to be at least 1D, but they are 0D "
     "and 1D"),
])
def test_matmul_errors(sa, sb, err, msg):
    with pytest.raises(err) as info:
        L.matmul(A(*sa), A(*sb))
    assert str(info.value) == msg


@pytest.mark.parametrize("fn, args, err, msg", [
    (L.matmul, ((2, 3, np.float32), (3, 5, np.float64)), RuntimeError,
     "expected m1 and m2 to have the same dtype, but got: float != double"),
    (L.matmul, ((2, 3, np.int32), (3, 5, np.int64)), RuntimeError,
     "expected m1 and m2 to have the same dtype, but got: int != long int"),
    (L.matmul, ((3, np.float32), (3, np.float64)), RuntimeError,
     "dot : expected both vectors to have same dtype, but found Float and Double"),
    (L.matmul, ((2, 3, np.float64), (3, np.float32)), RuntimeError,
     "addmv input tensors must have the same dtype, but got Float, Double, and Float"),
    (L.matmul, ((2, 2, 3, np.float64), (2, 3, 5, np.float32)), RuntimeError,
     "expected scalar type Double but found Float"),
    (L.matmul, ((2, 3, np.bool_), (3, 2, np.bool_)), NotImplementedError,
     "\"addmm_impl_cpu_\" not implemented for 'Bool'"),
    (L.mm, ((3, np.float32), (3, 5, np.float32)), RuntimeError, "self must be a matrix"),
    (L.mm, ((2, 3, np.float32), (3, np.float32)), RuntimeError, "mat2 must be a matrix"),
    (L.bmm, ((2, 3, np.float32), (3, 5, np.float32)), RuntimeError, "batch1 must be a 3D tensor"),
    (L.bmm, ((2, 2, 3, np.float32), (2, 3, 5, 4, np.float32)), RuntimeError,
     "batch2 must be a 3D tensor"),
    (L.bmm, ((2, 2, 3, np.bool_), (2, 3, 4, np.bool_)), NotImplementedError,
     "\"bmm\" not implemented for 'Bool'"),
    (L.mv, ((3, np.float32), (3, np.float32)), RuntimeError,
     "vector + matrix @ vector expected, got 1, 1, 1"),
    (L.dot, ((3, 1, np.float32), (3, np.float32)), RuntimeError,
     "1D tensors expected, but got 2D and 1D tensors"),
    (L.dot, ((3, np.bool_), (3, np.bool_)), NotImplementedError,
     "\"dot\" not implemented for 'Bool'"),
    (L.outer, ((3, 1, np.float32), (2, np.float32)), RuntimeError,
     "outer: Expected 1-D argument self, but got 2-D"),
])
def test_dtype_and_rank_errors(fn, args, err, msg):
    arrays = [A(*spec[:-1], dtype=spec[-1]) for spec in args]
    with pytest.raises(err) as info:
        fn(*arrays)
    assert str(info.value) == msg


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.float64, np.float16])
def test_matmul_keeps_dtype(dtype):
    out = L.matmul(A(2, 3, dtype=dtype), A(3, 4, dtype=dtype))
    assert out._np.dtype == dtype


def test_uint8_product_wraps_like_torch():
    a = Array(np.full((2, 3), 10, np.uint8))
    b = Array(np.full((3, 2), 10, np.uint8))
    assert L.mm(a, b).tolist() == [[44, 44], [44, 44]]  # 300 mod 256


def test_outer_promotes():
    out = L.outer(A(3, dtype=np.int64), A(2, dtype=np.float32))
    assert out._np.dtype == np.float32 and out.shape == (3, 2)


@pytest.mark.parametrize("beta, alpha", [(1, 1), (0.5, 2.0), (0, 1), (2, 0)])
@pytest.mark.parametrize("bias_shape", [(2, 4), (4,), (1, 4), (2, 1), ()])
def test_addmm(beta, alpha, bias_shape):
    bias, m1, m2 = A(*bias_shape), A(2, 3), A(3, 4)
    out = L.addmm(bias, m1, m2, beta=beta, alpha=alpha)
    want = alpha * _ref(m1, m2) + (beta * bias._np.astype(np.float64) if beta else 0)
    assert out._np.dtype == np.float32 and out.shape == (2, 4)
    np.testing.assert_allclose(out._np, want, rtol=1e-5, atol=1e-5)


def test_addmm_errors():
    with pytest.raises(RuntimeError, match=r"mat1 must be a matrix, got 1-D tensor"):
        L.addmm(A(2, 4), A(3), A(3, 4))
    with pytest.raises(RuntimeError, match=r"cannot be multiplied \(2x3 and 5x4\)"):
        L.addmm(A(2, 4), A(2, 3), A(5, 4))
    with pytest.raises(RuntimeError) as info:
        L.addmm(A(2, 4, dtype=np.float64), A(2, 3), A(3, 4))
    assert str(info.value) == ("self and mat2 must have the same dtype, but got Double and "
                               "Float")
    with pytest.raises(RuntimeError, match="The expanded size of the tensor"):
        L.addmm(A(3), A(2, 3), A(3, 4))


def test_addmm_beta_zero_ignores_nan_bias():
    bias = Array(np.full((2, 4), np.nan, np.float32))
    assert not np.isnan(L.addmm(bias, A(2, 3), A(3, 4), beta=0)._np).any()


def test_transposed_operands_give_contiguous_correct_results():
    base, b = A(48, 64), A(48, 32)
    out = L.matmul(base.t(), b)
    np.testing.assert_allclose(out._np, _ref(base.t(), b), rtol=1e-5, atol=1e-5)
    assert out._np.flags.c_contiguous


def test_methods_installed():
    a, b = A(2, 3), A(3, 2)
    assert a.matmul(b).shape == (2, 2) and a.mm(b).shape == (2, 2)
    assert A(2, 2, 3).bmm(A(2, 3, 1)).shape == (2, 2, 1)
    assert a.mv(A(3)).shape == (2,) and A(3).dot(A(3)).shape == ()
    assert b.__rmatmul__(a).shape == (2, 2)

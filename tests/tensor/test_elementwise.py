"""Elementwise ops against NumPy: values, dtypes, broadcasting over strided/expanded inputs."""
import numpy as np
import pytest

import ember_tensor as et
from ember_tensor import elementwise as E

RNG = np.random.default_rng(0)
FLOATS = (np.float32, np.float64)
INTS = (np.int64, np.int32, np.int16, np.int8, np.uint8)


def arr(shape, dtype=np.float32, low=-5, high=5):
    if np.dtype(dtype) == np.bool_:
        return RNG.random(shape) > 0.5
    if np.issubdtype(dtype, np.integer):
        low = max(low, np.iinfo(dtype).min)
        return RNG.integers(low, high, size=shape).astype(dtype)
    return RNG.uniform(low, high, size=shape).astype(dtype)


def zero_dim(value, dtype=None):
    return et.from_numpy(np.array(value, dtype=dtype))


def layouts(x):
    """The same values as a contiguous, a transposed, a sliced and an expanded operand."""
    yield "contiguous", x
    yield "transposed", np.ascontiguousarray(x.T).T
    big = np.zeros((x.shape[0] * 2, x.shape[1] + 3), x.dtype)
    big[::2, 1:-2] = x
    yield "sliced", big[::2, 1:-2]
    yield "expanded", np.broadcast_to(x[:1], x.shape) if x.shape[0] == 1 else x


BINARY = [
    ("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
    ("maximum", np.maximum), ("minimum", np.minimum),
]


@pytest.mark.parametrize("dtype", FLOATS + INTS)
@pytest.mark.parametrize("name,ref", BINARY)
def test_binary_all_dtypes(name, ref, dtype):
    a, b = arr((3, 4), dtype), arr((3, 4), dtype)
    got = getattr(E, name)(et.from_numpy(a), et.from_numpy(b))
    assert got.dtype.np == np.dtype(dtype)
    np.testing.assert_array_equal(got.numpy(), ref(a, b))


@pytest.mark.parametrize("name,ref", BINARY[:3] + [("div", np.divide)])
def test_binary_layouts_and_broadcast(name, ref):
    a = arr((5, 7))
    for la, xa in layouts(a):
        for shape_b in [(5, 7), (7,), (5, 1), (1, 7), ()]:
            b = arr(shape_b)
            for lb, xb in layouts(b) if b.ndim == 2 else [("plain", b)]:
                got = getattr(E, name)(et.from_numpy(xa), et.from_numpy(xb))
                np.testing.assert_allclose(got.numpy(), ref(a, b), rtol=1e-6,
                                           err_msg=f"{la} x {lb} {shape_b}")
                assert got.is_contiguous()


def test_large_parallel_paths_match_numpy():
    a = arr((300, 257))
    b = arr((257,))
    np.testing.assert_array_equal((et.from_numpy(a) + et.from_numpy(b)).numpy(), a + b)
    np.testing.assert_array_equal((et.from_numpy(a.T) * 3).numpy(), a.T * np.float32(3))
    flat = arr((100_000,))
    np.testing.assert_array_equal((et.from_numpy(flat) - et.from_numpy(flat[::-1])).numpy(),
                                  flat - flat[::-1])
    long_rows = arr((3, 5000))[:, ::2]
    np.testing.assert_array_equal(E.mul(et.from_numpy(long_rows), 2.0).numpy(), long_rows * 2)


def test_scalars_and_promotion():
    i = et.tensor([1, 2, 3])
    assert (i + 1).dtype is et.int64
    assert (i + 1.5).dtype is et.float32
    assert (i / 2).dtype is et.float32
    np.testing.assert_allclose((i / 2).numpy(), [0.5, 1.0, 1.5])
    assert (et.tensor([1.0], dtype=et.float64) + et.tensor([1.0])).dtype is et.float64
    assert (et.tensor([1], dtype=et.int32) + zero_dim(5)).dtype is et.int32
    assert (et.tensor([1], dtype=et.uint8) + et.tensor([1], dtype=et.int8)).dtype is et.int16
    assert (et.tensor([True]) + 1).dtype is et.int64
    assert (et.tensor([1], dtype=et.int8) + 300).tolist() == [45]  # the scalar wraps like C


def test_reflected_operators():
    a = et.tensor([1.0, 2.0, 4.0])
    assert (2 - a).tolist() == [1.0, 0.0, -2.0]
    assert (8 / a).tolist() == [8.0, 4.0, 2.0]
    assert (2 ** a).tolist() == [2.0, 4.0, 16.0]
    assert (7 // a).tolist() == [7.0, 3.0, 1.0]
    assert (3 * a).tolist() == [3.0, 6.0, 12.0]
    assert (1 + a).tolist() == [2.0, 3.0, 5.0]


def test_bool_arithmetic():
    t, f = et.tensor([True, True, False]), et.tensor([True, False, False])
    assert (t + f).tolist() == [True, True, False]
    assert (t * f).tolist() == [True, False, False]
    assert (t + f).dtype is et.bool
    with pytest.raises(RuntimeError, match="two bool tensors"):
        t - f
    with pytest.raises(RuntimeError, match="with a bool tensor"):
        t - et.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="Negation"):
        -t


def test_comparisons():
    a = et.tensor([1.0, 2.0, float("nan")])
    b = et.tensor([2.0, 2.0, 1.0])
    assert (a == b).tolist() == [False, True, False]
    assert (a != b).tolist() == [True, False, True]
    assert (a < b).tolist() == [True, False, False]
    assert (a <= b).tolist() == [True, True, False]
    assert (a > b).tolist() == [False, False, False]
    assert (a >= b).tolist() == [False, True, False]
    assert (a > 1).dtype is et.bool
    assert (a == "x") is False
    assert a.__eq__("x") is NotImplemented
    assert hash(a) == id(a) // 16 or isinstance(hash(a), int)


def test_division_modes():
    a = et.tensor([7, -7, 7, -7])
    b = et.tensor([2, 2, -2, -2])
    assert E.div(a, b, rounding_mode="floor").tolist() == [3, -4, -4, 3]
    assert E.div(a, b, rounding_mode="trunc").tolist() == [3, -3, -3, 3]
    assert E.remainder(a, b).tolist() == [1, 1, -1, -1]
    af, bf = a.float(), b.float()
    assert E.div(af, bf, rounding_mode="floor").tolist() == [3.0, -4.0, -4.0, 3.0]
    assert E.remainder(af, bf).tolist() == [1.0, 1.0, -1.0, -1.0]
    assert E.floor_divide(et.tensor([1.0]), et.tensor([0.1])).tolist() == [9.0]
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        a // et.tensor([1, 0, 1, 1])
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        a % 0
    big = et.tensor([-(2 ** 63)])
    assert (big // -1).tolist() == [-(2 ** 63)]  # wraps, never traps
    with pytest.raises(RuntimeError, match="rounding_mode"):
        E.div(a, b, rounding_mode="round")


def test_pow():
    a = et.tensor([1, 2, 3])
    assert (a ** 2).tolist() == [1, 4, 9]
    assert (a ** et.tensor([3, 0, -1])).tolist() == [1, 1, 0]
    with pytest.raises(RuntimeError, match="Integers to negative integer powers"):
        a ** -1
    assert (a ** 0.5).dtype is et.float32
    np.testing.assert_allclose((et.tensor([4.0, 9.0]) ** 0.5).numpy(), [2.0, 3.0])
    np.testing.assert_allclose((et.tensor([2.0]) ** et.tensor([10.0])).numpy(), [1024.0])


@pytest.mark.parametrize("name", ["exp", "log", "log1p", "expm1", "log2", "sqrt", "sin", "cos",
                                  "tanh", "floor", "ceil", "trunc", "abs", "square", "sign"])
@pytest.mark.parametrize("dtype", FLOATS)
def test_unary_math(name, dtype):
    x = arr((4, 6), dtype, 0.1, 5) if name in ("log", "log1p", "log2", "sqrt") else arr((4, 6), dtype)
    ref = getattr(np, name)(x)
    for _, xs in layouts(x):
        got = getattr(E, name)(et.from_numpy(xs))
        assert got.dtype.np == np.dtype(dtype)
        np.testing.assert_allclose(got.numpy(), ref, rtol=2e-6 if dtype == np.float32 else 1e-12)


def test_unary_special():
    x = np.array([-2.5, -0.5, 0.5, 1.5, 2.5, 0.0], np.float32)
    t = et.from_numpy(x)
    assert E.round(t).tolist() == [-2.0, -0.0, 0.0, 2.0, 2.0, 0.0]
    np.testing.assert_allclose(E.rsqrt(et.tensor([4.0])).numpy(), [0.5])
    np.testing.assert_allclose(E.reciprocal(et.tensor([4])).numpy(), [0.25])
    np.testing.assert_allclose(E.sigmoid(t).numpy(), 1 / (1 + np.exp(-x)), rtol=1e-6)
    assert E.exp(et.tensor([0, 1])).dtype is et.float32
    assert E.floor(et.tensor([3])).dtype is et.int64
    assert E.abs(et.tensor([-0.0])).numpy().tobytes() == np.float32(0).tobytes()
    assert E.round(et.tensor([1.2345]), decimals=2).tolist() == pytest.approx([1.23])


def test_activations():
    x = et.tensor([-2.0, -0.5, 0.0, 0.5, 2.0, float("nan")])
    assert E.relu(x).tolist()[:5] == [0.0, 0.0, 0.0, 0.5, 2.0]
    assert np.isnan(E.relu(x).tolist()[5])
    np.testing.assert_allclose(E.leaky_relu(x, 0.1).numpy()[:5], [-0.2, -0.05, 0.0, 0.5, 2.0])
    g = E.gelu(et.tensor([1.0, -1.0]))
    np.testing.assert_allclose(g.numpy(), [0.8413447, -0.1586553], rtol=1e-6)
    gt = E.gelu(et.tensor([1.0]), approximate="tanh")
    np.testing.assert_allclose(gt.numpy(), [0.8411920], rtol=1e-6)
    with pytest.raises(RuntimeError, match="Boolean inputs not supported for relu"):
        E.relu(et.tensor([True]))


def test_backward_helpers_match_finite_differences():
    x = et.tensor(np.linspace(-3, 3, 13))
    grad = et.ones_like(x)
    eps = 1e-6

    def numeric(fn):
        return (fn(E.add(x, eps)).numpy() - fn(E.sub(x, eps)).numpy()) / (2 * eps)

    for approx in ("none", "tanh"):
        np.testing.assert_allclose(E.gelu_backward(grad, x, approx).numpy(),
                                   numeric(lambda v: E.gelu(v, approx)), atol=1e-6)
    np.testing.assert_allclose(E.sigmoid_backward(grad, E.sigmoid(x)).numpy(),
                               numeric(E.sigmoid), atol=1e-6)
    np.testing.assert_allclose(E.tanh_backward(grad, E.tanh(x)).numpy(), numeric(E.tanh),
                               atol=1e-6)
    np.testing.assert_allclose(E.leaky_relu_backward(grad, x, 0.2).numpy(),
                               np.where(x.numpy() > 0, 1.0, 0.2))
    assert E.threshold_backward(et.tensor([5.0, 5.0, 5.0]), et.tensor([-1.0, 0.0, 1.0]),
                                0).tolist() == [0.0, 0.0, 5.0]


def test_clamp_where_and_classification():
    x = et.tensor([-2.0, 0.5, 3.0, float("nan")])
    c = E.clamp(x, 0, 1).tolist()
    assert c[:3] == [0.0, 0.5, 1.0] and np.isnan(c[3])
    assert E.clamp(x, min=0).tolist()[:3] == [0.0, 0.5, 3.0]
    assert E.clamp(x, max=0).tolist()[:3] == [-2.0, 0.0, 0.0]
    assert E.clamp(x, 2, 1).tolist()[:3] == [1.0, 1.0, 1.0]
    lo, hi = et.tensor([0.0, 1.0, 0.0, 0.0]), zero_dim(2.0, np.float32)
    assert E.clamp(x, lo, hi).tolist()[:3] == [0.0, 1.0, 2.0]
    assert E.clamp(et.tensor([1, 5]), min=2).tolist() == [2, 5]
    assert E.clamp(et.tensor([1, 5]), min=0.5).dtype is et.float32
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max'"):
        E.clamp(x)
    assert E.where(x > 0, x, zero_dim(-1.0, np.float32)).tolist()[:3] == [-1.0, 0.5, 3.0]
    assert E.where(et.tensor([True, False]), 1, 2.5).tolist() == [1.0, 2.5]
    with pytest.raises(RuntimeError, match="where expected condition to be a boolean tensor"):
        E.where(et.tensor([1, 0]), x[:2], x[:2])
    y = et.tensor([1.0, float("inf"), -float("inf"), float("nan")])
    assert E.isnan(y).tolist() == [False, False, False, True]
    assert E.isinf(y).tolist() == [False, True, True, False]
    assert E.isfinite(y).tolist() == [True, False, False, False]
    assert E.isfinite(et.tensor([1, 2])).tolist() == [True, True]
    n = E.nan_to_num(y, nan=0.0, posinf=9.0).tolist()
    assert n[:2] == [1.0, 9.0] and n[3] == 0.0 and n[2] == float(np.finfo(np.float32).min)


def test_logical_and_bitwise():
    a, b = et.tensor([0, 1, 2, 3]), et.tensor([1, 1, 0, 2])
    assert E.logical_and(a, b).tolist() == [False, True, False, True]
    assert E.logical_or(a, b).tolist() == [True, True, True, True]
    assert E.logical_xor(a, b).tolist() == [True, False, True, False]
    assert E.logical_not(et.tensor([0.0, 2.0])).tolist() == [True, False]
    assert (a & b).tolist() == [0, 1, 0, 2]
    assert (a | b).tolist() == [1, 1, 2, 3]
    assert (a ^ b).tolist() == [1, 0, 2, 1]
    assert (~a).tolist() == [-1, -2, -3, -4]
    assert (~et.tensor([True, False])).tolist() == [False, True]
    with pytest.raises(NotImplementedError, match="bitwise_and_cpu"):
        et.tensor([1.0]) & et.tensor([1.0])
    with pytest.raises(TypeError, match="operator.invert"):
        ~et.tensor([1.0])


def test_inplace_and_errors():
    a = et.tensor([1.0, 2.0])
    ptr = a.data_ptr()
    a += 1
    a.mul_(et.tensor([2.0, 3.0])).sub_(1)
    assert a.tolist() == [3.0, 8.0] and a.data_ptr() == ptr
    with pytest.raises(RuntimeError, match=r"output with shape \[2\] doesn't match the "
                                           r"broadcast shape \[3, 2\]"):
        a.add_(et.ones(3, 2))
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired "
                                           "output type Long"):
        et.tensor([1, 2]).add_(1.5)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        et.tensor([1.0, 2.0]).expand(3, 2).add_(1)
    t = et.zeros(3, 4)[:, ::2]  # strided destination
    t.add_(et.tensor([1.0, 2.0]))
    assert t.tolist() == [[1.0, 2.0]] * 3
    i = et.tensor([1, 2])
    i.add_(et.tensor([1], dtype=et.int32))
    assert i.dtype is et.int64 and i.tolist() == [2, 3]
    f = et.tensor([1.0, 4.0])
    f.sqrt_().exp_()
    np.testing.assert_allclose(f.numpy(), np.exp([1.0, 2.0]), rtol=1e-6)
    f.clamp_(max=3.0).neg_().relu_()
    assert f.tolist() == [0.0, 0.0]


def test_copy_fill_zero():
    dst = et.zeros(2, 3)
    dst.copy_(et.tensor([1, 2, 3]))
    assert dst.tolist() == [[1.0, 2.0, 3.0]] * 2 and dst.dtype is et.float32
    d2 = et.zeros(3, 2, dtype=et.int64).t()
    d2.copy_(et.tensor([[1.7, 2.2, 3.9], [4.0, 5.0, 6.0]]))
    assert d2.tolist() == [[1, 2, 3], [4, 5, 6]]
    with pytest.raises(RuntimeError):
        dst.copy_(et.ones(4))
    dst.fill_(7)
    assert dst.tolist() == [[7.0] * 3] * 2
    dst.zero_()
    assert dst.tolist() == [[0.0] * 3] * 2
    dst.fill_(zero_dim(2.5))
    assert dst.tolist() == [[2.5] * 3] * 2


def test_out_keyword():
    out = et.empty(3)
    res = E.add(et.tensor([1.0, 2.0, 3.0]), 1, out=out)
    assert res is out and out.tolist() == [2.0, 3.0, 4.0]
    o64 = et.empty(2, dtype=et.float64)
    E.mul(et.tensor([1.5, 2.0]), 2, out=o64)
    assert o64.tolist() == [3.0, 4.0] and o64.dtype is et.float64
    with pytest.raises(RuntimeError, match="can't be cast"):
        E.add(et.tensor([1.0]), 1, out=et.empty(1, dtype=et.int64))
    with pytest.warns(UserWarning, match="resized"):
        o = et.empty(1)
        E.add(et.tensor([1.0, 2.0]), 1, out=o)
    assert o.tolist() == [2.0, 3.0]


def test_zero_dim_and_empty():
    s = zero_dim(2.0, np.float32)
    r = s * zero_dim(3.0, np.float32)
    assert r.shape == () and r.item() == 6.0
    e = et.zeros(0, 3)
    assert (e + 1).shape == (0, 3)
    assert E.exp(e).shape == (0, 3)
    assert (e + et.ones(3)).shape == (0, 3)
    with pytest.raises(RuntimeError, match="must match the size of tensor b"):
        et.ones(2, 3) + et.ones(4)


def test_conversions():
    x = et.tensor([1.7, -2.2, 0.0])
    assert x.long().tolist() == [1, -2, 0] and x.long().dtype is et.int64
    assert x.int().dtype is et.int32
    assert x.bool().tolist() == [True, True, False]
    assert x.double().dtype is et.float64
    assert x.half().dtype is et.float16
    assert (x.half() + 1).dtype is et.float16
    assert et.tensor([1, 2]).float().dtype is et.float32


@pytest.mark.parametrize("dtype", FLOATS)
def test_python_scalar_operands_round_like_the_tensor_dtype(dtype):
    x = arr((50,), dtype)
    t = et.from_numpy(x)
    s = 0.1  # not representable: must be rounded to the tensor's dtype first, as torch does
    np.testing.assert_array_equal((t + s).numpy(), x + dtype(s))
    np.testing.assert_array_equal((t - s).numpy(), x - dtype(s))
    np.testing.assert_array_equal((t * s).numpy(), x * dtype(s))
    np.testing.assert_array_equal((t / s).numpy(), x / dtype(s))
    np.testing.assert_array_equal((t * 3).numpy(), x * dtype(3))
    assert (t * 3).dtype.np == np.dtype(dtype)

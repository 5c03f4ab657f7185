"""float32 exp/sigmoid/tanh (and what is built on them) run on the vectorisable polynomials of
_kernels/simd.h instead of libm: hold them to a few ulp of float64 NumPy, at every special
value, and on every loop path (tails shorter than a vector, threaded chunks, strided views,
in place). relu and threshold_backward follow torch's masks at NaN and -0.0."""
import numpy as np
import pytest

import ember_tensor as et
from ember_tensor import elementwise as E

F32 = np.float32
TINY = np.finfo(F32).tiny  # smallest normal


def _ulps(got, want64):
    """|got - want| in units of the float32 spacing at want (subnormals: the subnormal step)."""
    want32 = want64.astype(F32)
    step = np.spacing(np.abs(want32)).astype(np.float64)
    return np.abs(got.astype(np.float64) - want64) / step


def _grid(lo, hi, n=200_001):
    return np.linspace(lo, hi, n, dtype=np.float64).astype(F32)


def _run(fn, x):
    return fn(et.from_numpy(x))._np


def _sigmoid64(x):
    return 1.0 / (1.0 + np.exp(-x.astype(np.float64)))


@pytest.mark.parametrize("lo,hi", [(-87.3, 88.72), (-1.0, 1.0), (-1e-3, 1e-3)])
def test_exp_within_one_and_a_half_ulp(lo, hi):
    x = _grid(lo, hi)
    got = _run(E.exp, x)
    assert got.dtype == F32
    assert _ulps(got, np.exp(x.astype(np.float64))).max() <= 1.5


def test_exp_subnormal_results_round_once():
    x = _grid(-103.9, -87.4, 50_001)
    want = np.exp(x.astype(np.float64))
    got = _run(E.exp, x)
    assert (got < TINY).sum() > 40_000  # the range really is subnormal
    assert np.abs(got.astype(np.float64) - want).max() <= 2.0 ** -149


def test_exp_special_values():
    hi = np.float32(88.72283172607421875)  # largest float32 x whose exp is finite
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, hi, np.nextafter(hi, F32(np.inf)),
                  100.0, -103.98, -104.0, -1e30, 1e30], F32)
    got = _run(E.exp, x)
    assert np.isnan(got[0])
    assert got[1] == np.inf and got[2] == 0.0
    assert got[3] == 1.0 and got[4] == 1.0
    assert np.isfinite(got[5]) and got[5] > 3.4e38
    assert got[6] == np.inf and got[7] == np.inf and got[11] == np.inf
    assert got[8] == 0.0 and got[9] == 0.0 and got[10] == 0.0


@pytest.mark.parametrize("lo,hi", [(-88.7, 88.7), (-20.0, 20.0), (-1e-4, 1e-4)])
def test_sigmoid_within_three_ulp(lo, hi):
    x = _grid(lo, hi)
    got = _run(E.sigmoid, x)
    want = _sigmoid64(x)
    normal = want >= TINY
    assert _ulps(got[normal], want[normal]).max() <= 3.0
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=0)


def test_sigmoid_special_values():
    # like torch's 1 / (1 + exp(-x)): exp(-x) overflows below -88.72 and the answer is 0
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 20.0, -89.0, -200.0, 200.0], F32)
    got = _run(E.sigmoid, x)
    assert np.isnan(got[0])
    np.testing.assert_array_equal(got[1:], np.array([1, 0, 0.5, 0.5, 1, 0, 0, 1], F32))


@pytest.mark.parametrize("lo,hi", [(-10.0, 10.0), (-0.7, 0.7), (-1e-3, 1e-3), (0.6, 0.65)])
def test_tanh_within_two_ulp(lo, hi):
    x = _grid(lo, hi)
    got = _run(E.tanh, x)
    want = np.tanh(x.astype(np.float64))
    assert _ulps(got, want).max() <= 2.0
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=0)


def test_tanh_special_values_keep_sign_and_saturate():
    tiny = np.array([1e-30, -1e-30, 1e-40, -1e-40, 0.0, -0.0], F32)
    got = _run(E.tanh, tiny)
    np.testing.assert_array_equal(got, tiny)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(tiny))
    x = np.array([np.nan, np.inf, -np.inf, 9.1, -9.1, 50.0, -50.0, 1e30, -1e30], F32)
    got = _run(E.tanh, x)
    assert np.isnan(got[0])
    np.testing.assert_array_equal(got[1:], np.array([1, -1, 1, -1, 1, -1, 1, -1], F32))


def test_tanh_is_odd():
    x = _grid(0.0, 12.0, 20_001)
    np.testing.assert_array_equal(_run(E.tanh, -x), -_run(E.tanh, x))


@pytest.mark.parametrize("name", ["exp", "sigmoid", "tanh", "erf"])
@pytest.mark.parametrize("n", [1, 3, 15, 17, 33, 70_001])  # vector tails; threaded chunks
def test_every_length_and_layout_gives_the_same_bits(name, n):
    fn = getattr(E, name)
    rng = np.random.default_rng(n)
    x = (rng.standard_normal(2 * n) * 5).astype(F32)
    x[::7] = np.nan
    whole = _run(fn, x)
    np.testing.assert_array_equal(_run(fn, x[:n]), whole[:n])
    np.testing.assert_array_equal(fn(et.from_numpy(x)[::2])._np, whole[::2])  # strided view
    inplace = et.from_numpy(x.copy())
    E.copy_(inplace, fn(inplace))  # the kernel reads and writes the same memory
    np.testing.assert_array_equal(inplace._np, whole)
    if hasattr(E, name + "_"):
        inplace = et.from_numpy(x.copy())
        getattr(E, name + "_")(inplace)
        np.testing.assert_array_equal(inplace._np, whole)


def test_float64_keeps_libm():
    x = np.linspace(-30, 30, 10_001)
    np.testing.assert_allclose(_run(E.exp, x), np.exp(x), rtol=4e-16, atol=0)
    np.testing.assert_allclose(_run(E.tanh, x), np.tanh(x), rtol=4e-16, atol=0)


def test_gelu_tanh_approximation_close_to_float64():
    x = _grid(-10.0, 10.0, 100_001)
    got = E.gelu(et.from_numpy(x), approximate="tanh")._np
    x64 = x.astype(np.float64)
    want = 0.5 * x64 * (1 + np.tanh(np.sqrt(2 / np.pi) * (x64 + 0.044715 * x64 ** 3)))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_gelu_backward_close_to_float64():
    x = _grid(-8.0, 8.0, 10_001)
    g = np.ones_like(x)
    x64 = x.astype(np.float64)
    pdf = np.exp(-0.5 * x64 * x64) / np.sqrt(2 * np.pi)
    from math import erf
    cdf = 0.5 * (1 + np.vectorize(erf)(x64 / np.sqrt(2)))
    got = E.gelu_backward(et.from_numpy(g), et.from_numpy(x))._np
    np.testing.assert_allclose(got, cdf + x64 * pdf, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_passes_nan_and_negative_zero_as_torch(dtype):
    x = np.array([np.nan, -0.0, 0.0, -1.0, 2.0, -np.inf, np.inf], dtype)
    got = _run(E.relu, x)
    np.testing.assert_array_equal(got, np.array([np.nan, 0, 0, 0, 2, 0, np.inf], dtype))
    np.testing.assert_array_equal(np.signbit(got), [False, True, False, False, False, False,
                                                    False])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_threshold_backward_lets_nan_inputs_through_as_torch(dtype):
    x = np.array([np.nan, -0.0, 0.0, 0.5, 1.0, 2.0], dtype)
    g = np.arange(1, 7, dtype=dtype)
    got = E.threshold_backward(et.from_numpy(g), et.from_numpy(x), 0.5)._np
    np.testing.assert_array_equal(got, np.array([1, 0, 0, 0, 5, 6], dtype))


def test_threshold_backward_rejects_mismatched_shapes():
    g = et.from_numpy(np.ones((2, 3), F32))
    x = et.from_numpy(np.ones((4,), F32))
    with pytest.raises(RuntimeError, match="must match the size"):
        E.threshold_backward(g, x, 0.0)


@pytest.mark.parametrize("lo,hi", [(-4.5, 4.5), (-1.0, 1.0), (-1e-3, 1e-3), (0.9, 1.1)])
def test_erf_within_three_ulp(lo, hi):
    from math import erf
    x = _grid(lo, hi, 50_001)
    want = np.vectorize(erf)(x.astype(np.float64))
    got = _run(E.erf, x)
    nonzero = x != 0
    assert _ulps(got[nonzero], want[nonzero]).max() <= 3.0


def test_erf_special_values_keep_sign_and_saturate():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 4.0, -4.0, 10.0, 1e-40, -1e-40], F32)
    got = _run(E.erf, x)
    assert np.isnan(got[0])
    np.testing.assert_array_equal(got[1:6], np.array([1, -1, 0, 0, 1], F32))
    np.testing.assert_array_equal(got[6:8], np.array([-1, 1], F32))
    np.testing.assert_array_equal(np.signbit(got[3:5]), [False, True])
    assert got[8] > 0 and got[9] < 0


def test_gelu_exact_close_to_float64():
    from math import erf
    x = _grid(-10.0, 10.0, 50_001)
    x64 = x.astype(np.float64)
    want = 0.5 * x64 * (1 + np.vectorize(erf)(x64 / np.sqrt(2)))
    got = E.gelu(et.from_numpy(x))._np
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def _hardswish_steps(x):
    """torch's float32 hardswish, operation by operation: x * min(max(x + 3, 0), 6) / 6."""
    with np.errstate(all="ignore"):
        t = x + F32(3)
        t = np.where(t < 0, F32(0), t)
        t = np.where(t > 6, F32(6), t)
        return x * t / F32(6)


@pytest.mark.parametrize("n", [1, 7, 8, 15, 16, 17, 31, 33, 1000])
def test_hardswish_loop_is_the_expression_bit_for_bit(n):
    # simd.h's float32 loop (the clamp as max/min instructions, the division kept) against
    # the expression's steps, in the vector body and in tails of every length, at special
    # values (NaN, +-inf, +-0, the kinks at +-3, subnormals, huge values whose x * 6 is inf)
    # and every 2^32/3001-th bit pattern
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 3.0, -3.0, 2.9999998, -2.9999998,
                        1e-45, -1e-45, TINY, -TINY, 3e38, -3e38, 6.0, 0.5], F32)
    every = (np.arange(3001, dtype=np.uint64) * ((1 << 32) // 3001)).astype(np.uint32)
    x = np.concatenate([special, every.view(F32)])
    x = np.resize(x, ((x.size + n - 1) // n) * n)
    for part in x.reshape(-1, n):
        got = E.hardswish(et.from_numpy(part))._np
        want = _hardswish_steps(part)
        assert np.array_equal(np.isnan(got), np.isnan(want))
        ok = ~np.isnan(want)
        np.testing.assert_array_equal(got[ok].view(np.uint32), want[ok].view(np.uint32))

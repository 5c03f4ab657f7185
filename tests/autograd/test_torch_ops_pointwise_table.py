"""log10, lerp, addcmul, addcdiv (rows of the elementwise kernel table) and the softmax forms
against live torch: values, dtypes, grad_fn names, gradients, in-place forms and errors."""
import pytest

torch = pytest.importorskip("torch")

import ember  # noqa: E402
from dropin_helpers import same as _same  # noqa: E402


def same(fn):
    _same(torch, fn)


X = [[0.5, -1.25, 2.0], [3.5, 0.125, -0.75]]
Y = [[1.5, 2.25, -3.0], [0.25, 4.0, 1.75]]
W = [[0.0, 0.25, 0.5], [0.75, 1.0, -0.5]]


def _grads(make, dtype="float32", inputs=(X, Y, W), grads_of=(0, 1, 2)):
    def run(L):
        ts = [L.tensor(v, dtype=getattr(L, dtype), requires_grad=i in grads_of)
              for i, v in enumerate(inputs)]
        out = make(L, *ts)
        out.sum().backward()
        return out, [t.grad for t in ts]
    return run


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("make", [
    lambda L, x, y, w: L.log10(x.abs() + 0.5),
    lambda L, x, y, w: (x.abs() + 0.5).log10(),
    lambda L, x, y, w: L.lerp(x, y, 0.3),
    lambda L, x, y, w: L.lerp(x, y, 0.7),
    lambda L, x, y, w: x.lerp(y, w),
    lambda L, x, y, w: L.lerp(x[:1], y, w[:, :1]),
    lambda L, x, y, w: L.addcmul(x, y, w),
    lambda L, x, y, w: L.addcmul(x, y, w[0], value=-2.5),
    lambda L, x, y, w: x.addcmul(y, w, value=3),
    lambda L, x, y, w: L.addcdiv(x, y, w + 2),
    lambda L, x, y, w: x.addcdiv(y, w + 2, value=0.5),
    lambda L, x, y, w: (x * 1).lerp_(y, w),
    lambda L, x, y, w: (x * 1).lerp_(y, 0.4),
    lambda L, x, y, w: (x * 1).addcmul_(y, w, value=2),
    lambda L, x, y, w: (x * 1).addcdiv_(y, w + 2, value=2),
    lambda L, x, y, w: (x.abs() + 1).log10_(),
    lambda L, x, y, w: x.softmax(1) * y,
    lambda L, x, y, w: x.log_softmax(dim=0) * y,
    lambda L, x, y, w: L.softmax(x, -1, dtype=L.float64) * w.double(),
    lambda L, x, y, w: L.log_softmax(x, 1) * w,
], ids=["log10", "log10_method", "lerp_scalar", "lerp_scalar_high", "lerp_tensor",
        "lerp_broadcast", "addcmul", "addcmul_value", "addcmul_method", "addcdiv",
        "addcdiv_method", "lerp_", "lerp_scalar_", "addcmul_", "addcdiv_", "log10_",
        "softmax_method", "log_softmax_method", "softmax_dtype", "log_softmax_fn"])
def test_values_and_grads(make, dtype):
    same(_grads(make, dtype))


@pytest.mark.parametrize("fn", [
    lambda L: L.log10(L.arange(1, 5)),
    lambda L: L.log10(L.tensor([1, 10, 100], dtype=L.uint8)),
    lambda L: L.log10(L.tensor([True, False])),
    lambda L: L.log10(L.tensor([1.0, 10.0, 0.0, -1.0], dtype=L.float16)),
    lambda L: L.arange(3).log10_(),
    lambda L: L.lerp(L.ones(2, 1), L.zeros(3), L.full((2, 3), 0.2)),
    lambda L: L.lerp(L.ones(3, dtype=L.float16), L.zeros(3, dtype=L.float16), 0.3),
    lambda L: L.lerp(L.ones(3), L.zeros(3), L.tensor(0.5, dtype=L.float64)),
    lambda L: L.lerp(L.arange(3), L.arange(3), 0.5),
    lambda L: L.lerp(L.arange(3), L.arange(3), L.arange(3)),
    lambda L: L.lerp(L.ones(3), L.ones(3, dtype=L.float64), 0.5),
    lambda L: L.lerp(L.ones(3), L.ones(3, dtype=L.int16), 0.5),
    lambda L: L.lerp(L.ones(3), L.ones(3), L.ones(3, dtype=L.float64)),
    lambda L: L.ones(2).lerp_(L.zeros(3, 2), 0.2),
    lambda L: L.addcmul(L.arange(4), L.arange(4), L.arange(4), value=2),
    lambda L: L.addcmul(L.arange(4), L.arange(4), L.arange(4), value=0.5),
    lambda L: L.addcmul(L.arange(4.0), L.arange(4), L.arange(4), value=0.5),
    lambda L: L.addcmul(L.ones(2, dtype=L.uint8), L.ones(2, dtype=L.int8), L.ones(2, dtype=L.uint8)),
    lambda L: L.addcmul(L.ones(2, dtype=L.bool), L.ones(2, dtype=L.bool), L.ones(2, dtype=L.bool)),
    lambda L: L.addcmul(L.ones(2), L.ones(2, dtype=L.float64), L.ones(2)),
    lambda L: L.addcdiv(L.arange(4), L.arange(4), L.arange(4)),
    lambda L: L.addcdiv(L.arange(4), L.arange(4.0), L.arange(4)),
    lambda L: L.addcdiv(L.ones(3), L.arange(3.0), L.zeros(3)),
    lambda L: L.arange(4).addcmul_(L.arange(4.0), L.arange(4.0)),
    lambda L: L.softmax(L.tensor([[1.0, 2.0], [3.0, 5.0]]), 0),
    lambda L: L.tensor([[1.0, 2.0], [3.0, 5.0]]).log_softmax(1, dtype=L.float64),
], ids=["log10_long", "log10_uint8", "log10_bool", "log10_half", "log10_inplace_long",
        "lerp_broadcast", "lerp_half", "lerp_0d_weight_other_dtype", "lerp_long",
        "lerp_long_tensor", "lerp_end_dtype", "lerp_end_int", "lerp_weight_dtype",
        "lerp_inplace_shape", "addcmul_long", "addcmul_long_float_value", "addcmul_promote",
        "addcmul_uint8_int8", "addcmul_bool", "addcmul_double", "addcdiv_long",
        "addcdiv_long_input", "addcdiv_zero", "addcmul_inplace_cast", "softmax", "log_softmax"])
def test_forms_dtypes_and_errors(fn):
    same(fn)


@pytest.mark.parametrize("make, n", [
    (lambda L, x, y, w: L.lerp(x, y, w), 3),
    (lambda L, x, y, w: L.lerp(x, y, 0.25), 2),
    (lambda L, x, y, w: L.addcmul(x, y, w, value=1.5), 3),
    (lambda L, x, y, w: L.addcdiv(x, y, w + 2, value=-0.5), 3),
], ids=["lerp", "lerp_scalar", "addcmul", "addcdiv"])
def test_grad_fn_chain(make, n):
    def names(L):
        ts = [L.tensor(v, requires_grad=True) for v in (X, Y, W)]
        fn = make(L, *ts).grad_fn
        return type(fn).__name__, len(fn.next_functions)
    assert names(ember) == names(torch) and names(ember)[1] == n


def test_float32_bits_as_torch():
    """lerp (both weights), addcmul and addcdiv give torch's float32 bits; log10 rounds as
    torch's (libm's log10f would differ on a quarter of these inputs)."""
    import numpy as np

    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(20000).astype(np.float32) for _ in range(2))
    w = rng.uniform(-0.5, 1.5, 20000).astype(np.float32)
    for fn in (lambda L: L.lerp(L.tensor(a), L.tensor(b), L.tensor(w)),
               lambda L: L.lerp(L.tensor(a), L.tensor(b), 0.7),
               lambda L: L.addcmul(L.tensor(a), L.tensor(b), L.tensor(w), value=0.37),
               lambda L: L.addcdiv(L.tensor(a), L.tensor(b), L.tensor(w), value=0.37)):
        np.testing.assert_array_equal(fn(ember).numpy(), fn(torch).numpy())
    x = np.abs(a) + 1e-3
    same_bits = ember.log10(ember.tensor(x)).numpy() == torch.log10(torch.tensor(x)).numpy()
    assert same_bits.mean() > 0.99


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("make", [
    lambda L, x, y, w: L.tan(x * 0.5), lambda L, x, y, w: w.asin(),
    lambda L, x, y, w: L.arccos(w), lambda L, x, y, w: x.atan(), lambda L, x, y, w: L.sinh(x),
    lambda L, x, y, w: x.cosh(), lambda L, x, y, w: L.asinh(x),
    lambda L, x, y, w: (x * x + 1.5).acosh(), lambda L, x, y, w: L.atanh(w * 0.5),
    lambda L, x, y, w: L.exp2(x), lambda L, x, y, w: x.erfc(), lambda L, x, y, w: L.atan2(x, y),
    lambda L, x, y, w: x.arctan2(w), lambda L, x, y, w: (x * 1).atan2_(y),
    lambda L, x, y, w: (w * 0.5).asin_().tan_(),
], ids=["tan", "asin", "arccos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "exp2",
        "erfc", "atan2", "arctan2", "atan2_", "asin_tan_"])
def test_trig_family(make, dtype):
    same(_grads(make, dtype))


@pytest.mark.parametrize("fn", [
    lambda L: L.tan(L.arange(3)), lambda L: L.exp2(L.tensor([True, False])),
    lambda L: L.atan2(L.tensor([1, 2]), L.tensor([3, 4])),
    lambda L: L.atan2(L.ones(2), 2.0), lambda L: L.arange(3).sinh_(),
    lambda L: L.asin(L.tensor([2.0, -2.0])), lambda L: L.acosh(L.tensor([0.5])),
    lambda L: (L.full((2,), 0.5, requires_grad=True) * 1).atanh_(),
    lambda L: (L.full((2,), 0.5, requires_grad=True) * 1).atanh_().sum().backward(),
    lambda L: L.full((2,), 0.5).atanh_(),
], ids=["tan_long", "exp2_bool", "atan2_long", "atan2_number", "sinh_inplace_long",
        "asin_domain", "acosh_domain", "atanh_inplace_grad", "atanh_inplace_backward", "atanh_inplace"])
def test_trig_forms_and_errors(fn):
    same(fn)

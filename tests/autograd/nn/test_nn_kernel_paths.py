"""The nn ops run on ember_tensor's kernels: paths the torch case tables do not reach
(integer max pooling, embedding's scale_grad_by_freq and max_norm, GELU without math.erf,
BCE-with-logits gradients with pos_weight) against NumPy references."""
import math

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember_tensor import Array
from ember_tensor import nn as K


def _max_pool_ref(x, k, s, p):
    n, c, h, w = x.shape
    xp = np.full((n, c, h + 2 * p, w + 2 * p), np.iinfo(x.dtype).min, x.dtype)
    xp[:, :, p:p + h, p:p + w] = x
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    out = np.empty((n, c, oh, ow), x.dtype)
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = xp[:, :, i * s:i * s + k, j * s:j * s + k].max(axis=(-1, -2))
    return out


def test_integer_max_pool_matches_reference_and_indices_point_at_the_max():
    x = np.random.default_rng(0).integers(-100, 100, (2, 3, 7, 6))
    out, idx = F.max_pool2d(ember.tensor(x), 3, 2, 1, return_indices=True)
    assert out.dtype == ember.int64 and idx.dtype == ember.int64
    np.testing.assert_array_equal(out.numpy(), _max_pool_ref(x, 3, 2, 1))
    planes = x.reshape(6, -1)
    picked = np.take_along_axis(planes, idx.numpy().reshape(6, -1), axis=1)
    np.testing.assert_array_equal(picked.reshape(out.shape), out.numpy())


def test_pool_kernel_accepts_integer_input():
    x = np.arange(16, dtype=np.int64).reshape(1, 1, 4, 4)
    out, _ = K.max_pool2d_with_indices(Array(x), 2, 2)
    np.testing.assert_array_equal(out._np, [[[[5, 7], [13, 15]]]])


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int16, np.int8, np.uint8, np.float16])
@pytest.mark.parametrize("geometry", [(3, 2, 1, 1, False), (2, 1, 0, 2, True), (3, 3, 1, 1, True)])
def test_integer_and_half_max_pool_match_the_float64_path(dtype, geometry):
    k, s, p, d, ceil = geometry
    rng = np.random.default_rng(7)
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    lo, hi = (info.min, info.max) if info else (-100, 100)
    # extremes included: the seed must be a real element, not a sentinel like -inf
    x = rng.integers(lo, hi, size=(2, 3, 7, 6), endpoint=True).astype(dtype)
    out, idx = F.max_pool2d(ember.tensor(x), k, s, p, d, ceil, return_indices=True)
    ref, ref_idx = F.max_pool2d(ember.tensor(x.astype(np.float64)), k, s, p, d, ceil,
                                return_indices=True)
    assert out.dtype == ember.tensor(x).dtype
    np.testing.assert_array_equal(out.numpy().astype(np.float64), ref.numpy())
    np.testing.assert_array_equal(idx.numpy(), ref_idx.numpy())


def test_integer_max_pool_of_all_minimum_values_points_at_the_first_element():
    x = np.full((1, 1, 4, 4), np.iinfo(np.int64).min, dtype=np.int64)
    out, idx = F.max_pool2d(ember.tensor(x), 2, 2, return_indices=True)
    assert (out.numpy() == np.iinfo(np.int64).min).all()
    np.testing.assert_array_equal(idx.numpy()[0, 0], [[0, 2], [8, 10]])


def test_bool_max_pool_is_not_implemented_as_in_torch():
    x = ember.tensor(np.ones((1, 1, 2, 2), dtype=bool))
    with pytest.raises(NotImplementedError, match="\"max_pool2d\" not implemented for 'Bool'"):
        F.max_pool2d(x, 2)


@pytest.mark.parametrize("dtype,lowest", [(np.float32, -np.inf), (np.int64, np.iinfo(np.int64).min),
                                          (np.int8, -128), (np.uint8, 0)])
def test_a_dilated_window_that_misses_the_input_gives_torchs_lowest_value(dtype, lowest):
    # kernel 2, dilation 2, padding 1 on a 1x1 plane: the taps land at -1 and +1. torch
    # answers the type's lowest value and the index of the first tap past the padding
    x = ember.tensor(np.full((1, 1, 1, 1), 7, dtype=dtype))
    out, idx = F.max_pool2d(x, 2, 1, 1, 2, return_indices=True)
    assert out.numpy().reshape(-1)[0] == lowest
    assert idx.numpy().reshape(-1)[0] == 2


def test_backward_through_a_window_that_missed_the_input_raises_not_crashes():
    x = ember.tensor(np.zeros((1, 1, 1, 1), np.float32), requires_grad=True)
    y = F.max_pool2d(x, 2, 1, 1, 2)
    with pytest.raises(RuntimeError, match="index out of range"):
        y.sum().backward()


def test_max_pool_backward_scatters_to_the_argmax_with_shape_only_input():
    x = ember.tensor([[[[1.0, 5.0, 2.0], [3.0, 4.0, 0.0], [9.0, 8.0, 7.0]]]],
                     requires_grad=True)
    y = F.max_pool2d(x, 2, 1)
    y.backward(ember.tensor([[[[1.0, 2.0], [3.0, 4.0]]]]))
    # windows' maxima: 5, 5, 9, 8 -> 5 gets 1 + 2
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[0, 3, 0], [0, 0, 0], [3, 4, 0]])


def test_embedding_scale_grad_by_freq_divides_by_each_index_count():
    w = ember.tensor(np.arange(12, dtype=np.float32).reshape(4, 3), requires_grad=True)
    idx = ember.tensor([[0, 2, 2], [2, 1, 0]])
    y = F.embedding(idx, w, scale_grad_by_freq=True)
    g = np.random.default_rng(1).standard_normal(tuple(y.shape)).astype(np.float32)
    y.backward(ember.tensor(g))
    flat = idx.numpy().reshape(-1)
    counts = np.bincount(flat, minlength=4)
    ref = np.zeros((4, 3), np.float32)
    np.add.at(ref, flat, g.reshape(-1, 3) / counts[flat][:, None])
    np.testing.assert_allclose(w.grad.numpy(), ref, rtol=1e-6)


def test_embedding_padding_row_gets_no_gradient():
    w = ember.ones(5, 2, requires_grad=True)
    F.embedding(ember.tensor([1, 3, 3, 4]), w, padding_idx=3).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy()[:, 0], [0, 1, 0, 0, 1])


def test_embedding_max_norm_renormalises_only_the_looked_up_rows():
    base = np.array([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]], np.float32)
    w = ember.tensor(base.copy())
    v0 = w._version
    F.embedding(ember.tensor([0, 1]), w, max_norm=1.0)
    got = w.numpy()
    np.testing.assert_allclose(got[0], base[0] / (5 + 1e-7), rtol=1e-6)
    np.testing.assert_array_equal(got[1:], base[1:])  # row 1 is short, row 2 not looked up
    assert w._version > v0


def test_gelu_uses_the_kernel_not_math_erf(monkeypatch):
    xs = np.linspace(-4, 4, 9)
    cdf = np.array([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in xs])
    pdf = np.exp(-xs ** 2 / 2) / np.sqrt(2 * np.pi)

    def refuse(v):
        raise AssertionError("math.erf called per element")

    monkeypatch.setattr(math, "erf", refuse)
    x = ember.tensor(xs, requires_grad=True)
    y = F.gelu(x)
    y.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), xs * cdf, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(x.grad.numpy(), cdf + xs * pdf, rtol=1e-12, atol=1e-15)


def test_bce_with_logits_pos_weight_gradients_match_finite_differences():
    rng = np.random.default_rng(2)
    x0 = rng.standard_normal((3, 4)) * 3
    t0 = rng.random((3, 4))
    pw = ember.tensor(rng.random(4) + 0.5)
    wt = ember.tensor(rng.random(4))

    def loss(xv, tv):
        return F.binary_cross_entropy_with_logits(ember.tensor(xv), ember.tensor(tv), wt,
                                                  pos_weight=pw).item()

    x = ember.tensor(x0, requires_grad=True)
    t = ember.tensor(t0, requires_grad=True)
    F.binary_cross_entropy_with_logits(x, t, wt, pos_weight=pw).backward()
    eps = 1e-6
    for arr, grad in ((x0, x.grad.numpy()), (t0, t.grad.numpy())):
        num = np.zeros_like(arr)
        for i in np.ndindex(arr.shape):
            up, dn = arr.copy(), arr.copy()
            up[i] += eps
            dn[i] -= eps
            args = (up, t0) if arr is x0 else (x0, up)
            argd = (dn, t0) if arr is x0 else (x0, dn)
            num[i] = (loss(*args) - loss(*argd)) / (2 * eps)
        np.testing.assert_allclose(grad, num, rtol=1e-5, atol=1e-8)


def test_inplace_relu_without_a_graph_rectifies_the_memory_and_bumps_the_version():
    base = ember.tensor(np.arange(-8.0, 8.0, dtype=np.float32).reshape(4, 4))
    view = base[:, ::2]  # strided: the kernel must write through, not into a copy
    out = F.relu(view, inplace=True)
    assert out is view
    expected = np.arange(-8.0, 8.0).reshape(4, 4)
    expected[:, ::2] = np.maximum(expected[:, ::2], 0)
    np.testing.assert_array_equal(base.numpy(), expected)
    assert base._version == 1 and view._version == 1


def test_inplace_relu_with_a_graph_still_records_relu_backward():
    a = ember.tensor([-1.0, 2.0, 3.0], requires_grad=True)
    b = a * 2
    F.relu(b, inplace=True)
    assert type(b.grad_fn).__name__ == "ReluBackward0"
    b.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 2.0, 2.0])
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        F.relu(a, inplace=True)


def test_relu_backward_selects_like_torchs_threshold_backward():
    # a NaN output passes its gradient; a NaN gradient stops at a dead unit (a mask
    # multiply would turn it into NaN there)
    a = ember.tensor([float("nan"), -1.0, 0.0, 5.0], requires_grad=True)
    ember.relu(a).backward(ember.tensor([1.0, float("nan"), 2.0, 3.0]))
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 0.0, 0.0, 3.0])

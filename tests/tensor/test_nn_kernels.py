"""nn kernels against plain NumPy references, plus the checks that keep the unchecked loops
safe (bad shapes, dtypes and indices raise instead of touching memory)."""
import numpy as np
import pytest

import ember_tensor as et
from ember_tensor import Array
from ember_tensor import nn as enn
from ember_tensor._kernels import avg_pool as k_avg_pool
from ember_tensor._kernels import im2col as k_im2col
from ember_tensor._kernels import max_pool as k_max_pool
from ember_tensor._kernels import norm as k_norm

RNG = np.random.default_rng(7)


def A(a):
    return Array(np.asarray(a))


def rand(*shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)


def conv_reference(x, w, b, stride, padding, dilation, groups):
    """Direct convolution, loop over taps: slow, obviously right."""
    N, C, H, W = x.shape
    Cout, Cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    OH = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    OW = (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((N, Cout, OH, OW))
    cog = Cout // groups
    for o in range(Cout):
        g = o // cog
        for i in range(kh):
            for j in range(kw):
                patch = xp[:, g * Cg:(g + 1) * Cg, i * dh:i * dh + sh * (OH - 1) + 1:sh,
                           j * dw:j * dw + sw * (OW - 1) + 1:sw]
                out[:, o] += np.einsum("nchw,c->nhw", patch, w[o, :, i, j])
        if b is not None:
            out[:, o] += b[o]
    return out


CASES = [
    ((2, 3, 7, 9), (5, 3, 3, 3), (1, 1), (0, 0), (1, 1), 1),
    ((1, 4, 10, 7), (6, 2, 3, 2), (2, 1), (1, 2), (2, 1), 2),
    ((3, 6, 6, 6), (6, 1, 3, 3), (2, 2), (1, 1), (1, 1), 6),
    ((2, 5, 4, 3), (7, 5, 1, 1), (1, 1), (0, 0), (1, 1), 1),
    ((2, 4, 4, 4), (4, 4, 1, 1), (2, 2), (0, 0), (1, 1), 1),
    ((50, 2, 3, 3), (3, 2, 2, 2), (1, 1), (1, 1), (1, 1), 1),  # several images per GEMM
]


@pytest.mark.parametrize("xs,ws,stride,padding,dilation,groups", CASES)
def test_conv2d_matches_direct_convolution(xs, ws, stride, padding, dilation, groups):
    x, w, b = rand(*xs), rand(*ws), rand(ws[0])
    got = enn.conv2d(A(x), A(w), A(b), stride, padding, dilation, groups)
    np.testing.assert_allclose(got._np, conv_reference(x, w, b, stride, padding, dilation, groups),
                               rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("xs,ws,stride,padding,dilation,groups", CASES)
def test_conv2d_backward_is_the_adjoint(xs, ws, stride, padding, dilation, groups):
    # <conv(x), g> = <x, grad_x(g)> and = <w, grad_w(g)>: both sides are bilinear
    x, w = rand(*xs), rand(*ws)
    out = enn.conv2d(A(x), A(w), None, stride, padding, dilation, groups)._np
    g = rand(*out.shape)
    gx, gw, gb = enn.conv2d_backward(A(g), A(x), A(w), stride, padding, dilation, groups)
    lhs = np.sum(out * g)
    np.testing.assert_allclose(np.sum(x * gx._np), lhs, rtol=1e-10)
    np.testing.assert_allclose(np.sum(w * gw._np), lhs, rtol=1e-10)
    np.testing.assert_allclose(gb._np, g.sum(axis=(0, 2, 3)), rtol=1e-10)


def test_conv2d_float32_non_contiguous_input():
    x = rand(2, 8, 8, 3, dtype=np.float32).transpose(0, 3, 1, 2)  # NHWC memory
    w = rand(4, 3, 3, 3, dtype=np.float32)
    got = enn.conv2d(A(x), A(w), None, 1, 1)
    assert got.dtype == et.float32 and got.shape == (2, 4, 8, 8)
    np.testing.assert_allclose(got._np, conv_reference(x.astype(np.float64), w.astype(np.float64),
                                                       None, (1, 1), (1, 1), (1, 1), 1),
                               rtol=1e-4, atol=1e-4)


def test_conv2d_repeated_calls_reuse_buffers_safely():
    x, w = rand(2, 3, 6, 6), rand(4, 3, 3, 3)
    first = enn.conv2d(A(x), A(w))._np.copy()
    second = enn.conv2d(A(x * 2), A(w))
    third = enn.conv2d(A(x), A(w))
    np.testing.assert_allclose(second._np, 2 * first, rtol=1e-12)
    np.testing.assert_array_equal(third._np, first)


@pytest.mark.parametrize("xs,ws,kw,exc,words", [
    ((1, 4, 64, 64), (64, 3, 7, 7), {}, RuntimeError,
     "Given groups=1, weight of size [64, 3, 7, 7], expected input[1, 4, 64, 64] to have 3 "
     "channels, but got 4 channels instead"),
    ((1, 3, 2, 2), (4, 3, 3, 3), {}, RuntimeError,
     "Calculated padded input size per channel: (2 x 2). Kernel size: (3 x 3). Kernel size "
     "can't be greater than actual input size"),
    ((3, 8), (4, 3, 3, 3), {}, RuntimeError, "Expected 3D (unbatched) or 4D (batched) input"),
    ((1, 3, 8, 8), (4, 3, 3, 3), dict(stride=0), RuntimeError, "non-positive stride"),
])
def test_conv2d_errors(xs, ws, kw, exc, words):
    with pytest.raises(exc) as info:
        enn.conv2d(A(rand(*xs, dtype=np.float32)), A(rand(*ws, dtype=np.float32)), **kw)
    assert words in str(info.value)


def test_conv2d_rejects_integer_and_mixed_dtypes():
    with pytest.raises(RuntimeError, match="expected scalar type Double but found Float"):
        enn.conv2d(A(rand(1, 3, 5, 5)), A(rand(2, 3, 3, 3, dtype=np.float32)))
    with pytest.raises(NotImplementedError):
        enn.conv2d(A(np.ones((1, 1, 3, 3), np.int64)), A(np.ones((1, 1, 2, 2), np.int64)))


def test_conv2d_backward_rejects_wrong_grad_shape():
    with pytest.raises(RuntimeError, match="grad_output"):
        enn.conv2d_backward(A(rand(1, 2, 4, 4)), A(rand(1, 3, 5, 5)), A(rand(2, 3, 3, 3)))


def test_im2col_refuses_mismatched_buffers():
    x = rand(1, 2, 5, 5)
    geo = (3, 3, 1, 1, 0, 0, 1, 1, 3, 3)
    with pytest.raises(RuntimeError):
        k_im2col.im2col(x, np.empty((18, 8)), geo)  # one column short
    with pytest.raises(RuntimeError):
        k_im2col.im2col(x, np.empty((18, 9), np.float32), geo)  # dtype differs
    with pytest.raises(RuntimeError):
        k_im2col.im2col(x, np.empty((18, 16)), (3, 3, 1, 1, 0, 0, 1, 1, 4, 4))  # too far
    with pytest.raises(RuntimeError):
        k_im2col.col2im(np.empty((18, 9)), x[:, :, ::2], geo)  # not contiguous


def pool_reference(x, k, s, p, op):
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf if op == "max" else 0)
    OH = (x.shape[2] + 2 * p - k) // s + 1
    OW = (x.shape[3] + 2 * p - k) // s + 1
    out = np.empty(x.shape[:2] + (OH, OW))
    for i in range(OH):
        for j in range(OW):
            win = xp[:, :, i * s:i * s + k, j * s:j * s + k]
            out[:, :, i, j] = win.max(axis=(2, 3)) if op == "max" else win.mean(axis=(2, 3))
    return out


@pytest.mark.parametrize("k,s,p", [(2, 2, 0), (3, 2, 1), (3, 1, 1)])
def test_pools_match_reference(k, s, p):
    x = rand(2, 3, 9, 8)
    out, idx = enn.max_pool2d_with_indices(A(x), k, s, p)
    np.testing.assert_array_equal(out._np, pool_reference(x, k, s, p, "max"))
    flat = x.reshape(2, 3, -1)
    np.testing.assert_array_equal(np.take_along_axis(flat, idx._np.reshape(2, 3, -1), 2),
                                  out._np.reshape(2, 3, -1))
    np.testing.assert_allclose(enn.avg_pool2d(A(x), k, s, p)._np, pool_reference(x, k, s, p, "avg"),
                               rtol=1e-12)


def test_max_pool2d_backward_accumulates_overlaps():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 5.0  # the centre wins all four overlapping 2x2 windows
    out, idx = enn.max_pool2d_with_indices(A(x), 2, 1)
    gx = enn.max_pool2d_backward(A(np.ones((1, 1, 2, 2))), A(x), idx)
    assert gx._np[0, 0, 1, 1] == 4.0 and gx._np.sum() == 4.0


def test_max_pool2d_backward_rejects_bad_indices():
    x = rand(1, 1, 4, 4)
    with pytest.raises(RuntimeError, match="index out of range"):
        enn.max_pool2d_backward(A(np.ones((1, 1, 2, 2))), A(x), A(np.full((1, 1, 2, 2), 16)))
    with pytest.raises(RuntimeError):
        enn.max_pool2d_backward(A(np.ones((1, 1, 2, 2))), A(x), A(np.zeros((1, 1, 2, 2), np.int32)))


def test_pool_kernel_refuses_mismatched_planes():
    with pytest.raises(RuntimeError):
        k_max_pool.max_pool2d(rand(2, 4, 4), np.empty((3, 2, 2)), np.empty((3, 2, 2), np.int64),
                          (2, 2, 2, 2, 0, 0, 1, 1))
    with pytest.raises(RuntimeError):
        k_avg_pool.adaptive_avg_pool2d(rand(2, 4, 4), np.empty((2, 2, 2), np.float32))


def test_pool_ceil_mode_and_too_small():
    out, _ = enn.max_pool2d_with_indices(A(rand(1, 1, 5, 5)), 2, 2, 0, 1, True)
    assert out.shape == (1, 1, 3, 3)
    with pytest.raises(RuntimeError, match=r"Given input size: \(64x1x1\). Calculated output "
                                           r"size: \(64x0x0\). Output size is too small"):
        enn.max_pool2d_with_indices(A(rand(1, 64, 1, 1)), 2, 2)
    with pytest.raises(RuntimeError, match="pad should be at most half of effective kernel "
                                           "size, but got pad=2, kernel_size=3 and dilation=1"):
        enn.avg_pool2d(A(rand(1, 3, 8, 8)), 3, 2, 2)


def test_adaptive_avg_pool2d_global_is_mean():
    x = rand(2, 3, 5, 7)
    np.testing.assert_allclose(enn.adaptive_avg_pool2d(A(x), 1)._np,
                               x.mean(axis=(2, 3), keepdims=True), rtol=1e-12)
    g = enn.adaptive_avg_pool2d_backward(A(np.ones((2, 3, 1, 1))), A(x))
    np.testing.assert_allclose(g._np, np.full(x.shape, 1 / 35), rtol=1e-12)


def test_batch_norm_training_normalises_and_updates_running_stats():
    x = rand(8, 3, 4, 4, dtype=np.float32) * 3 + 1
    rm, rv = np.zeros(3, np.float32), np.ones(3, np.float32)
    out, mean, invstd = enn.batch_norm(A(x), None, None, A(rm), A(rv), True, 0.1, 1e-5)
    y = out._np
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, atol=1e-3)
    np.testing.assert_allclose(rm, 0.1 * x.mean(axis=(0, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(rv, 0.9 + 0.1 * x.var(axis=(0, 2, 3), ddof=1), rtol=1e-5)
    assert mean.dtype == et.float32 and invstd.shape == (3,)


def test_batch_norm_backward_sums_to_zero_in_training():
    x, g = rand(4, 2, 3), rand(4, 2, 3)
    _, mean, invstd = enn.batch_norm(A(x), None, None, None, None, True, 0.1, 1e-5)
    gx, gw, gb = enn.batch_norm_backward(A(g), A(x), None, mean, invstd, True)
    np.testing.assert_allclose(gx._np.sum(axis=(0, 2)), 0, atol=1e-12)
    np.testing.assert_allclose(gb._np, g.sum(axis=(0, 2)), rtol=1e-12)


def test_batch_norm_errors_and_norm_kernel_checks():
    with pytest.raises(RuntimeError, match="running_mean should contain 3 elements not 4"):
        enn.batch_norm(A(rand(2, 3, 4)), None, None, A(rand(4)), A(rand(3)), False, 0.1, 1e-5)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        enn.batch_norm(A(rand(1, 3, 1, 1)), None, None, None, None, True, 0.1, 1e-5)
    x, mean, inv = rand(2, 3, 4), np.empty(3), np.empty(3)
    with pytest.raises(RuntimeError, match="one shape"):
        k_norm.train_forward(x, np.empty((2, 3, 5)), None, None, None, None, 0.1, 1e-5,
                             False, mean, inv)
    with pytest.raises(RuntimeError, match="weight must be a contiguous"):
        k_norm.train_forward(x, np.empty_like(x), None, None, np.ones(2), None, 0.1, 1e-5,
                             False, mean, inv)
    frozen = np.zeros(3)
    frozen.flags.writeable = False
    with pytest.raises(RuntimeError, match="running_mean is read-only"):
        k_norm.train_forward(x, np.empty_like(x), frozen, None, None, None, 0.1, 1e-5, False,
                             mean, inv)
    with pytest.raises(RuntimeError, match="gw_out must be"):
        k_norm.train_backward(x, x, None, mean, inv, None, np.empty(3, np.float32), None)


def test_layer_norm_rows_are_normalised():
    x = rand(4, 6) * 2 + 3
    out, mean, rstd = enn.layer_norm(A(x), (6,))
    np.testing.assert_allclose(out._np.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(mean._np[:, 0], x.mean(axis=1), rtol=1e-12)
    assert rstd.shape == (4, 1)
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[5\]"):
        enn.layer_norm(A(x), (5,))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_rows_sum_to_one_and_log_matches(dim):
    x = rand(3, 4) * 10
    s = enn.softmax(A(x), dim)._np
    np.testing.assert_allclose(s.sum(axis=dim), 1, rtol=1e-12)
    np.testing.assert_allclose(enn.log_softmax(A(x), dim)._np, np.log(s), rtol=1e-10, atol=1e-12)


def test_softmax_large_values_stay_finite():
    x = np.array([[1000.0, 1000.0], [-1000.0, -999.0]], np.float32)
    s = enn.softmax(A(x), 1)._np
    assert np.isfinite(s).all()
    np.testing.assert_allclose(s[0], [0.5, 0.5])
    with pytest.raises(IndexError, match="Dimension out of range"):
        enn.softmax(A(x), 2)


def test_nll_loss_reference():
    lp = np.log(enn.softmax(A(rand(5, 4)), 1)._np)
    t = np.array([0, 3, 1, -100, 2])
    w = np.array([1.0, 2.0, 0.5, 1.5])
    loss, total = enn.nll_loss(A(lp), A(t), A(w))
    keep = t != -100
    picked = -lp[np.arange(5)[keep], t[keep]] * w[t[keep]]
    np.testing.assert_allclose(loss._np, picked.sum() / w[t[keep]].sum(), rtol=1e-12)
    np.testing.assert_allclose(total._np, w[t[keep]].sum(), rtol=1e-12)
    g = enn.nll_loss_backward(A(np.array(1.0)), A(lp), A(t), A(w), "mean", -100, total)._np
    assert g[3].sum() == 0 and g[0, 0] == pytest.approx(-1.0 / w[t[keep]].sum())


def test_nll_loss_bad_target_raises_index_error():
    with pytest.raises(IndexError, match=r"^Target 10 is out of bounds\.$"):
        enn.nll_loss(A(rand(3, 5)), A(np.array([1, 2, 10])))
    with pytest.raises(IndexError):
        enn.nll_loss_backward(A(np.array(1.0)), A(rand(3, 5)), A(np.array([1, -2, 0])))
    with pytest.raises(ValueError, match="Expected input batch_size"):
        enn.nll_loss(A(rand(3, 5)), A(np.array([1, 2])))
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte"):
        enn.nll_loss(A(rand(3, 5)), A(np.array([1, 2, 3], np.int32)))


def test_dropout_mask_statistics_and_backward():
    et.manual_seed(0)
    x = np.ones((200, 100), np.float32)
    out, mask = enn.dropout(A(x), 0.3, True)
    m = mask._np
    assert set(np.unique(m).tolist()) <= {0.0, np.float32(1 / 0.7)}
    assert abs((m == 0).mean() - 0.3) < 0.02
    np.testing.assert_array_equal(out._np, x * m)
    np.testing.assert_array_equal(enn.dropout_backward(A(x * 2), mask)._np, 2 * m)
    out_eval, mask_eval = enn.dropout(A(x), 0.3, False)
    assert mask_eval is None and np.array_equal(out_eval._np, x)
    assert not enn.dropout(A(x), 1.0, True)[0]._np.any()
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        enn.dropout(A(x), -0.1, True)


def test_dropout_generator_is_reproducible():
    g1, g2 = et.Generator().manual_seed(3), et.Generator().manual_seed(3)
    x = np.ones((10, 10))
    assert np.array_equal(enn.dropout(A(x), 0.5, True, g1)[1]._np,
                          enn.dropout(A(x), 0.5, True, g2)[1]._np)


def test_embedding_gather_and_scatter():
    w = rand(5, 3)
    idx = np.array([[4, 0], [4, 2]])
    np.testing.assert_array_equal(enn.embedding(A(w), A(idx))._np, w[idx])
    g = enn.embedding_backward(A(np.ones((2, 2, 3))), A(idx), 5, padding_idx=0)._np
    np.testing.assert_array_equal(g[:, 0], [0, 0, 1, 0, 2])
    with pytest.raises(IndexError, match="index out of range in self"):
        enn.embedding(A(w), A(np.array([5])))
    with pytest.raises(IndexError, match="index out of range in self"):
        enn.embedding_backward(A(np.ones((1, 3))), A(np.array([-1])), 5)
    with pytest.raises(RuntimeError, match="'indices' to have one of the following scalar types"):
        enn.embedding(A(w), A(np.array([1.0])))

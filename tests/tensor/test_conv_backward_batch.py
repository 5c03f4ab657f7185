"""A batch's convolution gradients with the batch's columns side by side
(``conv_backward._batch_backward_gemms``): one weight-gradient GEMM over every image (no
per-chunk partials) and one input-gradient GEMM, each cut by ``_team.matmul`` by the shapes
alone. The gradients must match a float64 reference and be the same bits run after run and
on one or two threads."""
import numpy as np
import pytest

import ember_tensor
from ember_tensor.nn import conv_backward


def _reference(x, w, go, stride, padding, dilation):
    """Input and weight gradients in float64, tap by tap."""
    x, w, go = (a.astype(np.float64) for a in (x, w, go))
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    n, c, h, wd = x.shape
    kh, kw = w.shape[2:]
    oh, ow = go.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    gxp = np.zeros_like(xp)
    gw = np.zeros_like(w)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
            cols = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
            gw[:, :, i, j] = np.einsum("nohw,nchw->oc", go, xp[:, :, rows, cols])
            gxp[:, :, rows, cols] += np.einsum("nohw,oc->nchw", go, w[:, :, i, j])
    return gxp[:, :, ph:ph + h, pw:pw + wd], gw


def _grads(x, w, go, stride, padding, dilation, threads, mask=(True, True, False)):
    old = ember_tensor.get_num_threads()
    ember_tensor.set_num_threads(threads)
    try:
        gx, gw, _ = conv_backward.conv2d_backward(
            ember_tensor.tensor(go), ember_tensor.tensor(x), ember_tensor.tensor(w),
            stride, padding, dilation, 1, mask)
    finally:
        ember_tensor.set_num_threads(old)
    return (None if gx is None else gx.numpy()), (None if gw is None else gw.numpy())


# (N, C, H, W, Cout, k, stride, padding, dilation): ResNet's strided 3x3 (small), a 1x3
# kernel, a 512-channel 3x3 at 7x7 (the weight-heavy shape whose partials this path
# removed), a non-square 5x3 kernel with dilation, an odd batch
CASES = [
    (4, 16, 28, 28, 32, (3, 3), (2, 2), (1, 1), (1, 1)),
    (3, 24, 14, 14, 40, (1, 3), (2, 2), (0, 1), (1, 1)),
    (4, 512, 7, 7, 512, (3, 3), (1, 1), (1, 1), (1, 1)),
    (5, 6, 17, 13, 7, (5, 3), (1, 2), (2, 1), (2, 1)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES)
def test_whole_batch_gradients(case, dtype, monkeypatch):
    n, c, h, wd, cout, k, stride, padding, dilation = case
    taken = []
    real = conv_backward._batch_backward_gemms

    def counting(*args):
        taken.append(True)
        return real(*args)
    monkeypatch.setattr(conv_backward, "_batch_backward_gemms", counting)
    monkeypatch.setattr(conv_backward, "_use_winograd", lambda *a, **kw: False)
    rng = np.random.default_rng(sum(case[:5]))
    x = rng.standard_normal((n, c, h, wd)).astype(dtype)
    w = rng.standard_normal((cout, c) + k).astype(dtype)
    oh = (h + 2 * padding[0] - dilation[0] * (k[0] - 1) - 1) // stride[0] + 1
    ow = (wd + 2 * padding[1] - dilation[1] * (k[1] - 1) - 1) // stride[1] + 1
    go = rng.standard_normal((n, cout, oh, ow)).astype(dtype)
    one = _grads(x, w, go, stride, padding, dilation, 1)
    two = _grads(x, w, go, stride, padding, dilation, 2)
    again = _grads(x, w, go, stride, padding, dilation, 2)
    assert len(taken) == 3
    for a, b, c2 in zip(one, two, again):
        np.testing.assert_array_equal(a, b)   # same bits on one and two threads
        np.testing.assert_array_equal(b, c2)  # and run after run
    ref_x, ref_w = _reference(x, w, go, stride, padding, dilation)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for got, ref in zip(one, (ref_x, ref_w)):
        assert np.abs(got - ref).max() <= tol * np.abs(ref).max()
    # each gradient alone is the same as both together
    only_x = _grads(x, w, go, stride, padding, dilation, 2, (True, False, False))
    only_w = _grads(x, w, go, stride, padding, dilation, 2, (False, True, False))
    assert only_x[1] is None and only_w[0] is None
    np.testing.assert_array_equal(only_x[0], one[0])
    np.testing.assert_array_equal(only_w[1], one[1])


def test_large_batch_goes_by_image_chunks(monkeypatch):
    # columns over the budget: the chunked path, with the same values
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 8, 12, 12)).astype(np.float32)
    w = rng.standard_normal((5, 8, 3, 3)).astype(np.float32)
    go = rng.standard_normal((3, 5, 6, 6)).astype(np.float32)
    whole = _grads(x, w, go, (2, 2), (1, 1), (1, 1), 2)
    monkeypatch.setattr(conv_backward, "_BATCH_COLUMN_BYTES", 0)
    monkeypatch.setattr(conv_backward, "_batch_backward_gemms", None)  # must not be called
    chunked = _grads(x, w, go, (2, 2), (1, 1), (1, 1), 2)
    for a, b in zip(whole, chunked):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_strided_1x1_goes_by_image_chunks(monkeypatch):
    monkeypatch.setattr(conv_backward, "_batch_backward_gemms", None)  # must not be called
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 24, 14, 14)).astype(np.float32)
    w = rng.standard_normal((40, 24, 1, 1)).astype(np.float32)
    go = rng.standard_normal((4, 40, 7, 7)).astype(np.float32)
    got = _grads(x, w, go, (2, 2), (0, 0), (1, 1), 2)
    ref = _reference(x, w, go, (2, 2), (0, 0), (1, 1))
    for a, r in zip(got, ref):
        assert np.abs(a - r).max() <= 1e-5 * np.abs(r).max()

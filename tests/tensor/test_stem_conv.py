"""The direct kernels for convolutions of few input channels (``nn/stem_conv.py``: ResNet's
7x7/2 stem over RGB) against the convolution written out in float64 NumPy: forward with and
without bias, weight gradient, the input gradient that stays on im2col's path, and the same
bits on any number of threads."""
import numpy as np
import pytest

from ember_tensor import Array
from ember_tensor import nn as K
from ember_tensor._kernels import stem_conv as kernel
from ember_tensor.nn import stem_conv


def reference(x, w, b, stride, padding, dilation):
    """conv2d (one group) as a sum over taps of shifted, strided input planes."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    kh, kw = w.shape[2:]
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    OH = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1
    OW = (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((x.shape[0], w.shape[0], OH, OW))
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i * dh: i * dh + sh * (OH - 1) + 1: sh,
                       j * dw: j * dw + sw * (OW - 1) + 1: sw]
            out += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
    return out if b is None else out + b[None, :, None, None]


def reference_grads(dy, x, w, stride, padding, dilation):
    """(grad_input, grad_weight): the taps' patches scattered back and summed against dy."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    kh, kw = w.shape[2:]
    OH, OW = dy.shape[2:]
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    gxp = np.zeros_like(xp)
    gw = np.zeros(w.shape)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (OH - 1) + 1, sh)
            cols = slice(j * dw, j * dw + sw * (OW - 1) + 1, sw)
            gw[:, :, i, j] = np.einsum("nohw,nchw->oc", dy, xp[:, :, rows, cols])
            gxp[:, :, rows, cols] += np.einsum("nohw,oc->nchw", dy, w[:, :, i, j])
    H, W = x.shape[2:]
    return gxp[:, :, ph: ph + H, pw: pw + W], gw


# (N, C, H, W, Cout, k, stride, padding, dilation): the stem at 64 px; odd planes whose rows
# end in a partial register, several images, output channels off the kernels' blocks (13,
# 33, 70); one and four input channels, stride 1 and 3, dilation, no padding
GEOMETRIES = [
    (1, 3, 64, 64, 64, 7, 2, 3, 1),
    (2, 3, 37, 29, 33, 7, 2, 3, 1),
    (1, 3, 65, 67, 16, 7, 2, 3, 1),
    (3, 1, 20, 17, 5, 5, 1, 2, 1),
    (2, 4, 19, 23, 13, 3, 3, 1, 2),
    (2, 2, 19, 23, 70, 3, 2, 0, 1),
]


def _case(geo, dtype, seed=0):
    N, C, H, W, co, k, s, p, d = geo
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((co, C, k, k)) * 0.1
    b = rng.standard_normal(co)
    return x, w, b, ((s, s), (p, p), (d, d))


@pytest.mark.parametrize("geo", GEOMETRIES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_and_gradients_match_reference(geo, dtype):
    x, w, b, (s, p, d) = _case(geo, dtype)
    g = K.conv._Geometry(x.shape, w.shape, s, p, d, 1)
    assert stem_conv.fits(g, np.dtype(dtype)) == kernel.FASTER_THAN_BLAS
    tol = 2e-5 if dtype == np.float32 else 1e-12
    xa, wa, ba = Array(x.astype(dtype)), Array(w.astype(dtype)), Array(b.astype(dtype))
    for bias in (ba, None):
        got = K.conv2d(xa, wa, bias, s, p, d)._np
        assert got.dtype == dtype
        np.testing.assert_allclose(got, reference(x, w, None if bias is None else b, s, p, d),
                                   rtol=tol, atol=tol)
    dy = np.random.default_rng(1).standard_normal(got.shape)
    gx, gw, gb = K.conv2d_backward(Array(dy.astype(dtype)), xa, wa, s, p, d, 1)
    want_gx, want_gw = reference_grads(dy, x, w, s, p, d)
    assert gw._np.dtype == gx._np.dtype == dtype
    np.testing.assert_allclose(gw._np, want_gw, rtol=tol, atol=tol * 20)
    np.testing.assert_allclose(gx._np, want_gx, rtol=tol, atol=tol)
    np.testing.assert_allclose(gb._np, dy.sum(axis=(0, 2, 3)), rtol=tol, atol=tol * 10)


@pytest.mark.parametrize("geo", GEOMETRIES[:2] + GEOMETRIES[4:])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_of_every_copy(geo, dtype):
    """The kernels called directly: conv routes to them from AVX2 up, and the baseline copy
    (kept off the route, slower than im2col there) must be right too."""
    x, w, b, (s, p, d) = _case(geo, dtype)
    args = (w.shape[2], w.shape[3], s[0], s[1], p[0], p[1], d[0], d[1])
    want = reference(x, w, b, s, p, d)
    out = np.empty(want.shape, dtype)
    kernel.forward(x.astype(dtype), w.astype(dtype), b.astype(dtype), out, args, 2)
    tol = 2e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, want, rtol=tol, atol=tol)
    dy = np.random.default_rng(1).standard_normal(want.shape)
    gw = np.empty(w.shape, dtype)
    kernel.grad_weight(dy.astype(dtype), x.astype(dtype), gw, args, 2)
    np.testing.assert_allclose(gw, reference_grads(dy, x, w, s, p, d)[1], rtol=tol,
                               atol=tol * 20)


def test_stem_224_and_unbatched():
    """The 224-px stem (rows of seven registers, several bands) and an unbatched image."""
    x, w, b, (s, p, d) = _case((1, 3, 224, 224, 64, 7, 2, 3, 1), np.float32)
    got = K.conv2d(Array(x[0].astype(np.float32)), Array(w.astype(np.float32)),
                   Array(b.astype(np.float32)), s, p, d)._np
    want = reference(x, w, b, s, p, d)[0]
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5)
    dy = np.random.default_rng(1).standard_normal(want.shape)
    _, gw, _ = K.conv2d_backward(Array(dy.astype(np.float32)), Array(x[0].astype(np.float32)),
                                 Array(w.astype(np.float32)), s, p, d, 1, (False, True, False))
    np.testing.assert_allclose(gw._np, reference_grads(dy[None], x, w, s, p, d)[1],
                               rtol=2e-5, atol=2e-3)


@pytest.mark.parametrize("geo", [GEOMETRIES[0], GEOMETRIES[1], (2, 3, 96, 80, 64, 7, 2, 3, 1),
                                 (1, 3, 224, 224, 64, 7, 2, 3, 1)])
def test_same_bits_on_any_number_of_threads(geo):
    """The forward's bands (claimed by whichever thread is free) and the channel groups of a
    batch or of a 224-px image (whose gradient takes several bands of rows) follow the
    thread count; every element's sum runs in one order whatever they are, and one 64-px
    image's gradient bands are the shapes' (the kernels called directly, so every CPU
    level's copy is checked)."""
    x, w, b, (s, p, d) = (a if isinstance(a, tuple) else a.astype(np.float32)
                          for a in _case(geo, np.float32))
    args = (w.shape[2], w.shape[3], s[0], s[1], p[0], p[1], d[0], d[1])
    shape = K.conv2d(Array(x), Array(w), None, s, p, d)._np.shape
    dy = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    results = []
    for threads in (1, 2, 3):
        out = np.empty(shape, np.float32)
        kernel.forward(x, w, b, out, args, threads)
        gw = np.empty_like(w)
        kernel.grad_weight(dy, x, gw, args, threads)
        results.append((out, gw))
    for out, gw in results[1:]:
        np.testing.assert_array_equal(out, results[0][0])
        np.testing.assert_array_equal(gw, results[0][1])


@pytest.mark.parametrize("chunk_macs", [1, 200_000, 10**12])
def test_weight_gradient_bands_of_one_image(monkeypatch, chunk_macs):
    """One image's weight gradient cut into bands of rows with sums of their own (one row
    each; six, the last short; one band), added in band order:
    the float64 reference's values and the same bits on any number of threads."""
    x, w, _, (s, p, d) = _case((1, 3, 45, 39, 20, 7, 2, 3, 1), np.float32)
    x, w = x.astype(np.float32), w.astype(np.float32)
    args = (7, 7, 2, 2, 3, 3, 1, 1)
    dy = np.random.default_rng(1).standard_normal((1, 20, 23, 20)).astype(np.float32)
    monkeypatch.setattr(kernel, "GW_CHUNK_MACS", chunk_macs)
    results = []
    for threads in (1, 2, 3):
        gw = np.empty_like(w)
        kernel.grad_weight(dy, x, gw, args, threads)
        results.append(gw)
    np.testing.assert_allclose(results[0], reference_grads(dy, x, w, s, p, d)[1], rtol=2e-5,
                               atol=2e-4)
    for gw in results[1:]:
        np.testing.assert_array_equal(gw, results[0])


def test_input_no_tap_reads_stays_out_of_the_results():
    """An infinite input column that no output reads (the last of an even width at stride 2)
    leaves every output and weight gradient finite: the lanes computed past a row's end are
    dropped, never multiplied into a kept sum."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 3, 9, 10))
    x[..., -1] = np.inf
    w = rng.standard_normal((8, 3, 3, 3))
    xa, wa = Array(x.astype(np.float32)), Array(w.astype(np.float32))
    out = K.conv2d(xa, wa, None, 2, 0)._np
    want = reference(x[..., :-1], w, None, (2, 2), (0, 0), (1, 1))
    np.testing.assert_allclose(out, want, rtol=2e-5, atol=2e-5)
    dy = rng.standard_normal(out.shape)
    gw = K.conv2d_backward(Array(dy.astype(np.float32)), xa, wa, 2, 0, 1, 1,
                           (False, True, False))[1]._np
    want_gw = reference_grads(dy, x[..., :-1], w, (2, 2), (0, 0), (1, 1))[1]
    np.testing.assert_allclose(gw, want_gw, rtol=2e-5, atol=2e-4)


def test_routing():
    """The stem shapes go to the direct kernels; many channels, groups, 1x1s and integer
    inputs do not (they keep their own paths and errors)."""
    def fits(x_shape, w_shape, groups=1, dtype=np.float32):
        g = K.conv._Geometry(x_shape, w_shape, (2, 2), (3, 3), (1, 1), groups)
        return stem_conv.fits(g, np.dtype(dtype))
    assert fits((1, 3, 64, 64), (64, 3, 7, 7)) == kernel.FASTER_THAN_BLAS
    assert fits((8, 1, 28, 28), (6, 1, 5, 5), dtype=np.float64) == kernel.FASTER_THAN_BLAS
    assert not fits((1, 16, 64, 64), (64, 16, 7, 7))
    assert not fits((1, 4, 64, 64), (64, 2, 7, 7), groups=2)
    assert not fits((1, 3, 64, 64), (64, 3, 1, 1))
    assert not fits((1, 3, 64, 64), (64, 3, 7, 7), dtype=np.int64)


def test_kernel_checks_what_memory_safety_needs():
    x = np.zeros((1, 3, 16, 16), np.float32)
    w = np.zeros((8, 3, 7, 7), np.float32)
    args = (7, 7, 2, 2, 3, 3, 1, 1)
    with pytest.raises(RuntimeError, match="wrong shape"):
        kernel.forward(x, w, None, np.zeros((1, 8, 7, 8), np.float32), args)
    with pytest.raises(RuntimeError, match="contiguous"):
        kernel.forward(x[..., ::2], w, None, np.zeros((1, 8, 8, 8), np.float32), args)
    with pytest.raises(RuntimeError, match="weight"):
        kernel.grad_weight(np.zeros((1, 8, 8, 8), np.float32), x, w[:, :2].copy(), args)
    with pytest.raises(RuntimeError, match="bias"):
        kernel.forward(x, w, np.zeros(7, np.float32), np.zeros((1, 8, 8, 8), np.float32), args)

"""One image's convolution on two threads (``nn/conv.py``): bands of output rows or blocks
of output channels for the forward and the weight gradient, blocks of input channels for
the input gradient; the row-band im2col behind the bands; max-pool backward's fused
zero-and-scatter. Results must not depend on the thread count (bit for bit) and must match
a float64 reference."""
import numpy as np
import pytest

import ember_tensor
from ember_tensor._kernels import max_pool as max_pool_kernels
from ember_tensor._kernels.im2col import im2col
from ember_tensor.nn import conv as conv_module
from ember_tensor.nn import winograd as winograd_module
from ember_tensor.nn import winograd_grad as winograd_grad_module
from ember_tensor.nn import conv2d, conv2d_backward, max_pool2d_backward


def _reference(x, w, stride, pad):
    """conv2d, its input gradient and its weight gradient for an all-ones output gradient
    weighted by ``go``, in float64 from sliding windows."""
    x = x.astype(np.float64)
    w = w.astype(np.float64)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    k = w.shape[2]
    win = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(2, 3))
    win = win[:, :, ::stride, ::stride]  # (N, C, OH, OW, k, k)
    return np.einsum("nchwij,ocij->nohw", win, w), win


def _grads_reference(x, w, go, stride, pad):
    out, win = _reference(x, w, stride, pad)
    go = go.astype(np.float64)
    gw = np.einsum("nohw,nchwij->ocij", go, win)
    # input gradient: scatter each window's share back into the padded input
    N, C, H, W = x.shape
    k = w.shape[2]
    gxp = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    per_window = np.einsum("nohw,ocij->nchwij", go, w.astype(np.float64))
    OH, OW = go.shape[2:]
    for i in range(k):
        for j in range(k):
            gxp[:, :, i:i + stride * OH:stride, j:j + stride * OW:stride] += \
                per_window[:, :, :, :, i, j]
    return out, gxp[:, :, pad:pad + H, pad:pad + W], gw


@pytest.fixture
def always_split(monkeypatch):
    # the cases are small; make them take the split paths anyway
    for name in ("_SPLIT_MACS", "_SINGLE_SPLIT_MACS", "_BAND_MACS"):
        monkeypatch.setattr(conv_module, name, 0)
    old = ember_tensor.get_num_threads()
    yield
    ember_tensor.set_num_threads(old)


# (C, Cout, side, kernel, stride, pad): bands of output rows where the output has more
# pixels than channels, blocks of output channels where it has fewer
CASES = [
    (3, 16, 29, 7, 2, 3),    # stem-like 7x7 stride 2: bands
    (8, 16, 14, 3, 2, 1),    # 3x3 stride 2: bands
    (6, 12, 12, 1, 2, 0),    # 1x1 stride 2 (downsample): bands
    (12, 8, 9, 1, 1, 0),     # pointwise: bands over the input itself
    (5, 3, 11, 3, 1, 1),     # 3x3 stride 1, too few channels for Winograd: bands
    (24, 64, 5, 3, 2, 1),    # 9 pixels, 64 channels: output-channel blocks
    (20, 48, 4, 1, 1, 0),    # pointwise with fewer pixels than channels
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}x{c[2]}->{c[1]}k{c[3]}s{c[4]}"
                                             for c in CASES])
def test_single_image_conv_same_on_one_and_two_threads(case, always_split):
    C, Cout, side, k, stride, pad = case
    rng = np.random.default_rng(len(CASES) + side)
    x = rng.standard_normal((1, C, side, side)).astype(np.float32)
    w = rng.standard_normal((Cout, C, k, k)).astype(np.float32)
    results = []
    for threads in (1, 2):
        ember_tensor.set_num_threads(threads)
        out = np.asarray(conv2d(x, w, None, stride, pad))
        go = np.random.default_rng(7).standard_normal(out.shape).astype(np.float32)
        gx, gw, _ = conv2d_backward(go, x, w, (stride, stride), (pad, pad), (1, 1), 1,
                                    (True, True, False))
        results.append((out, np.asarray(gx), np.asarray(gw)))
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)
    for got, ref in zip(results[1], _grads_reference(x, w, go, stride, pad)):
        scale = np.abs(ref).max()
        assert np.abs(got - ref).max() <= 1e-5 * scale


# ResNet-18's convolutions of one 64x64 image (im2col + GEMM with K up to 2304, and
# layer1's Winograd): where the thread rules let a second thread take blocks of output or
# input channels, or of Winograd tiles, every bit must stay where one thread puts it
RESNET64 = [
    (3, 64, 64, 7, 2, 3),      # stem
    (64, 64, 16, 3, 1, 1),     # layer1: Winograd forward and both gradients
    (64, 128, 16, 3, 2, 1),    # layer2.0
    (128, 128, 8, 3, 1, 1),    # layer2 (too few tiles for Winograd)
    (128, 256, 8, 1, 2, 0),    # layer3.0 downsample
    (256, 256, 4, 3, 1, 1),    # layer3 (2.4 MB of weights)
]


@pytest.mark.parametrize("thresholds", ["shipped", "zero"])
@pytest.mark.parametrize("case", RESNET64, ids=[f"{c[0]}x{c[2]}->{c[1]}k{c[3]}s{c[4]}"
                                                for c in RESNET64])
def test_resnet64_shapes_same_bits_on_one_and_two_threads(case, thresholds, monkeypatch):
    # "zero": every thread rule a quiet-machine A/B may lower, at its lowest
    if thresholds == "zero":
        for module, names in ((conv_module, ("_SPLIT_MACS", "_SINGLE_SPLIT_MACS", "_BAND_MACS")),
                              (winograd_module, ("_SPLIT_MACS",)),
                              (winograd_grad_module, ("_GW_SPLIT_MACS", "_REGION_SPLIT_MACS"))):
            for name in names:
                monkeypatch.setattr(module, name, 0)
    C, Cout, side, k, stride, pad = case
    rng = np.random.default_rng(side + C)
    x = rng.standard_normal((1, C, side, side)).astype(np.float32)
    w = (rng.standard_normal((Cout, C, k, k)) * 0.05).astype(np.float32)
    old = ember_tensor.get_num_threads()
    results = []
    try:
        for threads in (1, 2):
            ember_tensor.set_num_threads(threads)
            out = np.asarray(conv2d(x, w, None, stride, pad))
            go = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
            for mask in ((True, True, False), (False, True, False)):
                gx, gw, _ = conv2d_backward(go, x, w, (stride, stride), (pad, pad), (1, 1), 1,
                                            mask)
                results.append((out, gw) if gx is None else (out, gw, gx))
    finally:
        ember_tensor.set_num_threads(old)
    half = len(results) // 2
    for one, two in zip(results[:half], results[half:]):
        for a, b in zip(one, two):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_single_image_weight_gradient_alone_and_input_gradient_alone(dtype, always_split):
    # the masks run the split paths with one of the two gradients missing
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 4, 16, 16)).astype(dtype)
    w = rng.standard_normal((8, 4, 3, 3)).astype(dtype)
    go = rng.standard_normal((1, 8, 8, 8)).astype(dtype)
    ember_tensor.set_num_threads(2)
    args = ((2, 2), (1, 1), (1, 1), 1)
    gx_only = conv2d_backward(go, x, w, *args, (True, False, False))
    gw_only = conv2d_backward(go, x, w, *args, (False, True, False))
    both = conv2d_backward(go, x, w, *args, (True, True, False))
    assert gx_only[1] is None and gw_only[0] is None
    np.testing.assert_array_equal(np.asarray(gx_only[0]), np.asarray(both[0]))
    np.testing.assert_array_equal(np.asarray(gw_only[1]), np.asarray(both[1]))
    _, ref_gx, ref_gw = _grads_reference(x, w, go, 2, 1)
    np.testing.assert_allclose(np.asarray(both[0]), ref_gx, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.asarray(both[1]), ref_gw, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("split", [False, True], ids=["whole", "bands"])
@pytest.mark.parametrize("stride", [(2, 2), (2, 3), (3, 1)])
def test_strided_one_by_one_gathers_a_subsample(stride, split, monkeypatch):
    # an unpadded 1x1 kernel's columns are the input's strided subsample (a NumPy copy,
    # not im2col); odd sides leave a last row/column the stride does not reach
    if split:
        monkeypatch.setattr(conv_module, "_BAND_MACS", 0)
    rng = np.random.default_rng(11)
    x = rng.standard_normal((1, 6, 11, 13)).astype(np.float32)
    w = rng.standard_normal((4, 6, 1, 1)).astype(np.float32)
    sub = x[:, :, ::stride[0], ::stride[1]].astype(np.float64)
    ref = np.einsum("nchw,oc->nohw", sub, w[:, :, 0, 0].astype(np.float64))
    old = ember_tensor.get_num_threads()
    try:
        for threads in (1, 2):
            ember_tensor.set_num_threads(threads)
            out = np.asarray(conv2d(x, w, None, stride, 0))
            assert out.shape == ref.shape
            np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)
            go = rng.standard_normal(out.shape).astype(np.float32)
            _, gw, _ = conv2d_backward(go, x, w, stride, (0, 0), (1, 1), 1,
                                       (False, True, False))
            ref_gw = np.einsum("nohw,nchw->oc", go.astype(np.float64), sub)
            np.testing.assert_allclose(np.asarray(gw)[:, :, 0, 0], ref_gw, rtol=1e-4,
                                       atol=1e-4)
    finally:
        ember_tensor.set_num_threads(old)


def _geometry(C, Cout, side, k, stride, pad):
    return conv_module._Geometry((1, C, side, side), (Cout, C, k, k), (stride, stride),
                                 (pad, pad), (1, 1), 1)


def test_row_bands_follow_the_shapes_not_the_threads():
    stem = conv_module._row_bands(_geometry(3, 64, 224, 7, 2, 3))
    assert len(stem) == conv_module._MAX_BANDS
    assert stem[0][0] == 0 and stem[-1][1] == 112
    assert all(a[1] == b[0] for a, b in zip(stem, stem[1:]))
    # too small to be worth a second thread: whole, as one GEMM
    small = _geometry(3, 16, 16, 3, 2, 1)
    assert conv_module._row_bands(small) is None


def test_row_bands_of_a_small_output(always_split):
    # 64 pixels: two bands of 32 columns, still enough for a GEMM each
    assert conv_module._row_bands(_geometry(3, 16, 16, 3, 2, 1)) == [(0, 4), (4, 8)]
    # late ResNet layers: the weights dominate, split by output channels instead
    assert conv_module._row_bands(_geometry(512, 512, 7, 3, 1, 1)) is None
    assert conv_module._row_bands(_geometry(4, 4, 1, 1, 1, 0)) is None  # a single row


@pytest.mark.parametrize("geometry", [
    # (nb, C, H, W, kh, kw, sh, sw, ph, pw)
    (1, 3, 17, 15, 7, 7, 2, 2, 3, 3),
    (2, 5, 6, 6, 3, 3, 1, 1, 1, 1),    # small planes: the offset-table path
    (3, 4, 5, 5, 1, 1, 2, 2, 0, 0),
])
def test_im2col_row_band_is_a_slice_of_the_full_columns(geometry):
    nb, C, H, W, kh, kw, sh, sw, ph, pw = geometry
    x = np.random.default_rng(0).standard_normal((nb, C, H, W)).astype(np.float32)
    OH = (H + 2 * ph - kh) // sh + 1
    OW = (W + 2 * pw - kw) // sw + 1
    args = (kh, kw, sh, sw, ph, pw, 1, 1, OH, OW)
    full = np.empty((C * kh * kw, nb * OH * OW), np.float32)
    im2col(x, full, args)
    full = full.reshape(-1, nb, OH, OW)
    for oh0, oh1 in [(0, OH), (1, OH - 1), (0, 1), (OH - 1, OH)]:
        band = np.full((C * kh * kw, nb * (oh1 - oh0) * OW), np.nan, np.float32)
        im2col(x, band, args, (oh0, oh1))
        np.testing.assert_array_equal(band.reshape(-1, nb, oh1 - oh0, OW),
                                      full[:, :, oh0:oh1])


def test_im2col_row_band_refuses_bad_rows_and_buffers():
    x = np.zeros((1, 2, 6, 6), np.float32)
    args = (3, 3, 1, 1, 1, 1, 1, 1, 6, 6)
    with pytest.raises(RuntimeError, match="output rows"):
        im2col(x, np.empty((18, 6), np.float32), args, (5, 7))
    with pytest.raises(RuntimeError, match="does not match"):
        im2col(x, np.empty((18, 36), np.float32), args, (0, 2))


def test_max_pool_backward_overwrites_and_checks_indices():
    go = np.ones((2, 2, 2), np.float32)
    idx = np.zeros((2, 2, 2), np.int64)
    idx[1, 1, 1] = 8
    gx = np.full((2, 3, 3), 7.0, np.float32)  # stale values must not survive
    max_pool_kernels.max_pool2d_backward(go, idx, gx)
    expected = np.zeros((2, 3, 3), np.float32)
    expected[0, 0, 0] = 4
    expected[1, 0, 0] = 3
    expected[1, 2, 2] = 1
    np.testing.assert_array_equal(gx, expected)
    idx[1, 1, 1] = 9
    with pytest.raises(RuntimeError, match="out of range"):
        max_pool_kernels.max_pool2d_backward(go, idx, gx)
    idx[1, 1, 1] = -1
    with pytest.raises(RuntimeError, match="out of range"):
        max_pool_kernels.max_pool2d_backward(go, idx, gx)


def test_max_pool_backward_through_the_nn_function():
    x = np.random.default_rng(1).standard_normal((1, 3, 9, 9)).astype(np.float32)
    ember_tensor.set_num_threads(2)
    from ember_tensor.nn import max_pool2d_with_indices
    out, idx = max_pool2d_with_indices(x, 3, 2, 1)
    go = np.random.default_rng(2).standard_normal(np.asarray(out).shape).astype(np.float32)
    gx = np.asarray(max_pool2d_backward(go, x, idx))
    expected = np.zeros(9 * 9 * 3)
    flat = np.asarray(idx).reshape(3, -1) + (np.arange(3) * 81)[:, None]
    np.add.at(expected, flat.ravel(), go.reshape(3, -1).ravel().astype(np.float64))
    np.testing.assert_allclose(gx.ravel(), expected, rtol=1e-6, atol=1e-6)



@pytest.mark.parametrize("layout", ["batch", "unbatched", "bias", "strided_view"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", [(64, 128, 16, 2), (128, 256, 8, 2), (256, 512, 4, 2),
                                  (6, 5, 7, 2), (6, 5, 7, 1)],
                         ids=lambda c: f"{c[0]}x{c[2]}->{c[1]}s{c[3]}")
def test_one_image_one_by_one_route(case, dtype, layout):
    # one image's unpadded 1x1 (ResNet's downsamples) skips _forward's dispatch
    # (_ONE_IMAGE_1X1); a non-contiguous input takes the general route. Against a float64
    # reference, and the same bits on 1 and 2 threads
    C, Cout, side, s = case
    rng = np.random.default_rng(C + side)
    x = rng.standard_normal((1, C, side, side * (2 if layout == "strided_view" else 1)))
    x = x.astype(dtype)[..., ::2] if layout == "strided_view" else x.astype(dtype)
    w = (rng.standard_normal((Cout, C, 1, 1)) * 0.05).astype(dtype)
    b = rng.standard_normal(Cout).astype(dtype) if layout == "bias" else None
    ref = np.einsum("nchw,oc->nohw", x[:, :, ::s, ::s].astype(np.float64),
                    w[:, :, 0, 0].astype(np.float64))
    if b is not None:
        ref += b.astype(np.float64)[:, None, None]
    xin = x[0] if layout == "unbatched" else x
    _, route = conv_module._plan(np.asarray(xin), w, b, (s, s), (0, 0), (1, 1), 1)
    assert route == conv_module._ONE_IMAGE_1X1
    old = ember_tensor.get_num_threads()
    try:
        outs = []
        for threads in (1, 2):
            ember_tensor.set_num_threads(threads)
            outs.append(np.asarray(conv2d(xin, w, b, s, 0)))
    finally:
        ember_tensor.set_num_threads(old)
    np.testing.assert_array_equal(outs[0], outs[1])
    got = outs[1][None] if layout == "unbatched" else outs[1]
    assert got.dtype == dtype and got.shape == ref.shape
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert np.abs(got - ref).max() <= tol * np.abs(ref).max()

"""Depthwise convolution's direct kernels (conv2d with groups == in_channels) against grouped
convolution written out in NumPy (``reference``, also used by the autograd tests)."""
import numpy as np
import pytest

from ember_tensor import Array
from ember_tensor import nn as K

# (N, C, H, W, multiplier, (kh, kw), stride, padding, dilation)
GEOMETRIES = [
    (2, 3, 7, 8, 1, (3, 3), (1, 1), (1, 1), (1, 1)),   # MobileNet 3x3 stride 1
    (2, 4, 9, 7, 1, (3, 3), (2, 2), (1, 1), (1, 1)),   # ... stride 2, odd planes
    (1, 5, 9, 9, 1, (5, 5), (2, 2), (2, 2), (1, 1)),   # EfficientNet 5x5
    (2, 3, 10, 11, 2, (3, 3), (2, 1), (0, 2), (2, 1)),  # depth multiplier, dilation
    (3, 2, 5, 4, 3, (3, 2), (1, 2), (1, 0), (1, 2)),
    (1, 3, 4, 4, 1, (1, 1), (1, 1), (0, 0), (1, 1)),
    (2, 16, 40, 40, 1, (3, 3), (1, 1), (1, 1), (1, 1)),  # enough work for the threaded loops
]


def reference(x, w, b, stride, padding, dilation):
    """Direct grouped convolution, one output channel reading input channel oc // mult."""
    N, C, H, W = x.shape
    CO, _, kh, kw = w.shape
    mult = CO // C
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    OH = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    OW = (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((N, CO, OH, OW)) + b[None, :, None, None]
    for oc in range(CO):
        for i in range(kh):
            for j in range(kw):
                patch = xp[:, oc // mult, i * dh: i * dh + sh * (OH - 1) + 1: sh,
                           j * dw: j * dw + sw * (OW - 1) + 1: sw]
                out[:, oc] += w[oc, 0, i, j] * patch
    return out


def _forward(geo, dtype, rng):
    """(x, w, b) drawn in float64 for geometry ``geo`` and Ember's forward of them in dtype."""
    N, C, H, W, m, k, s, p, d = geo
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((C * m, 1) + k)
    b = rng.standard_normal(C * m)
    got = K.conv2d(Array(x.astype(dtype)), Array(w.astype(dtype)), Array(b.astype(dtype)), s,
                   p, d, C)._np
    assert got.dtype == dtype
    return x, w, b, got


@pytest.mark.parametrize("geo", GEOMETRIES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_reference(geo, dtype):
    _N, _C, _H, _W, _m, _k, s, p, d = geo
    x, w, b, got = _forward(geo, dtype, np.random.default_rng(0))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, reference(x, w, b, s, p, d), rtol=tol, atol=tol)


def test_backward_is_the_adjoint_of_the_forward():
    """grad_input and grad_weight are adjoints of the forward: <dy, conv(x, w)> is linear in
    each, so <dy, conv(dx, w)> == <grad_input(dy), dx> and likewise for w."""
    rng = np.random.default_rng(3)
    for N, C, H, W, m, k, s, p, d in GEOMETRIES:
        x = rng.standard_normal((N, C, H, W))
        w = rng.standard_normal((C * m, 1) + k)
        y = reference(x, w, np.zeros(C * m), s, p, d)
        dy = rng.standard_normal(y.shape)
        gx, gw, gb = K.conv2d_backward(Array(dy), Array(x), Array(w), s, p, d, C)
        np.testing.assert_allclose(np.vdot(gx._np, x), np.vdot(dy, y), rtol=1e-10)
        np.testing.assert_allclose(np.vdot(gw._np, w), np.vdot(dy, y), rtol=1e-10)
        np.testing.assert_allclose(gb._np, dy.sum(axis=(0, 2, 3)), rtol=1e-12)


# Stride-1 planes take the register-block gather (forward, and grad-input with the kernel
# flipped): widths around its 16-column blocks (a partial last block, exactly one, one more),
# heights around its 4-row groups, padding 0..3 (3 > (k - 1) * d: the grad-input gather's
# padding goes negative), dilation, non-square kernels, and a depth multiplier (grad-input
# then adds each multiplier's plane into the same gx plane); two channels or more, as one
# would be an ordinary convolution.
STRIDE1 = [
    (1, 2, 5, 15, 1, (3, 3), (1, 1), (1, 1), (1, 1)),
    (1, 2, 4, 16, 1, (3, 3), (1, 1), (0, 0), (1, 1)),
    (2, 2, 9, 17, 1, (3, 3), (1, 1), (2, 2), (1, 1)),
    (1, 2, 7, 33, 1, (5, 5), (1, 1), (2, 2), (1, 1)),
    (1, 2, 11, 20, 1, (3, 3), (1, 1), (1, 2), (2, 2)),
    (1, 2, 6, 18, 1, (3, 3), (1, 1), (3, 3), (1, 1)),
    (1, 2, 3, 3, 1, (1, 1), (1, 1), (1, 1), (1, 1)),
    (1, 2, 8, 19, 2, (1, 7), (1, 1), (0, 3), (1, 1)),
    (2, 2, 6, 21, 3, (3, 3), (1, 1), (1, 1), (1, 1)),
    # the 3x3/5x5 row kernel's last block of exactly half a register (AVX-512 float: 24
    # columns; AVX2 float and AVX-512 double: 28), and EfficientNet's 28-column 5x5 rows
    (1, 2, 6, 24, 1, (3, 3), (1, 1), (1, 1), (1, 1)),
    (1, 2, 9, 28, 1, (5, 5), (1, 1), (2, 2), (1, 1)),
    # the 5x5 kernel rolls down bands of 32 output rows: three bands, the last short, and a
    # 13-column block (a masked full AVX-512 register); fewer rows than the kernel (every
    # step tests which rows exist) with a depth multiplier, so grad-input's gather adds into
    # its planes, over 16 + 16 + 8 columns (a half register last); a band of 2 rows after
    # one of 32, padding 1, three multipliers
    (1, 2, 70, 13, 1, (5, 5), (1, 1), (2, 2), (1, 1)),
    (2, 2, 3, 40, 2, (5, 5), (1, 1), (2, 2), (1, 1)),
    (1, 2, 36, 20, 3, (5, 5), (1, 1), (1, 1), (1, 1)),
]


def reference_grad_input(dy, w, x_shape, stride, padding, dilation):
    """The forward's taps scattered back, in NumPy: each tap adds w * dy into a padded plane."""
    N, C, H, W = x_shape
    CO, _, kh, kw = w.shape
    mult = CO // C
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    OH, OW = dy.shape[2:]
    gxp = np.zeros((N, C, H + 2 * ph, W + 2 * pw))
    for oc in range(CO):
        for i in range(kh):
            for j in range(kw):
                gxp[:, oc // mult, i * dh: i * dh + sh * (OH - 1) + 1: sh,
                    j * dw: j * dw + sw * (OW - 1) + 1: sw] += w[oc, 0, i, j] * dy[:, oc]
    return gxp[:, :, ph: ph + H, pw: pw + W]


def reference_grad_weight(dy, x, w_shape, stride, padding, dilation):
    """Each tap's weight gradient as a sum over the patch the forward read with it."""
    CO, _, kh, kw = w_shape
    mult = CO // x.shape[1]
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    OH, OW = dy.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    gw = np.zeros(w_shape)
    for oc in range(CO):
        for i in range(kh):
            for j in range(kw):
                patch = xp[:, oc // mult, i * dh: i * dh + sh * (OH - 1) + 1: sh,
                           j * dw: j * dw + sw * (OW - 1) + 1: sw]
                gw[oc, 0, i, j] = np.sum(dy[:, oc] * patch)
    return gw


# Every stride lays the input out as zero-bordered column phases: the weight gradient sums
# up to 12 taps per sweep (25 and 49 taps: several sweeps, 13 taps: two of uneven size) with
# a masked last register per row (output widths around 4/8/16 lanes), and strided
# grad-input adds each tap into the phases and copies them back (strides 2 and 3, mixed,
# with dilation, odd planes, padding 0..2, a depth multiplier adding into one plane).
PHASES = [
    (1, 2, 9, 9, 1, (3, 3), (2, 2), (0, 0), (1, 1)),
    (2, 3, 13, 11, 1, (3, 3), (2, 2), (1, 1), (1, 1)),
    (1, 2, 15, 17, 1, (5, 5), (2, 2), (2, 2), (1, 1)),
    (1, 2, 16, 35, 2, (3, 3), (2, 2), (1, 2), (2, 2)),
    (1, 2, 11, 31, 1, (3, 5), (3, 3), (2, 1), (1, 1)),
    (2, 2, 9, 20, 1, (3, 3), (1, 2), (1, 1), (1, 3)),
    (1, 2, 12, 12, 1, (7, 7), (1, 1), (3, 3), (1, 1)),
    (1, 2, 5, 23, 1, (1, 13), (1, 1), (0, 6), (1, 1)),
    (1, 2, 6, 1, 1, (3, 1), (2, 1), (1, 0), (1, 1)),
]


@pytest.mark.parametrize("geo", STRIDE1 + PHASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_grad_input_grad_weight(geo, dtype):
    _N, C, _H, _W, _m, _k, s, p, d = geo
    rng = np.random.default_rng(5)
    x, w, b, got = _forward(geo, dtype, rng)
    tol = 2e-5 if dtype == np.float32 else 1e-12
    want = reference(x, w, b, s, p, d)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    dy = rng.standard_normal(want.shape)
    gx, gw, _ = K.conv2d_backward(Array(dy.astype(dtype)), Array(x.astype(dtype)),
                                  Array(w.astype(dtype)), s, p, d, C)
    assert gx._np.dtype == gw._np.dtype == dtype
    np.testing.assert_allclose(gx._np, reference_grad_input(dy, w, x.shape, s, p, d),
                               rtol=tol, atol=tol)
    np.testing.assert_allclose(gw._np, reference_grad_weight(dy, x, w.shape, s, p, d),
                               rtol=tol, atol=tol * 10)


@pytest.mark.parametrize("stride", [1, 2])
def test_grad_weight_ignores_input_no_tap_reads(stride):
    """An infinite input where a tap never reads it leaves that tap's gradient finite: the
    lanes past a row's end are masked, not multiplied by zero (0 * inf is NaN)."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((1, 2, 6, 20))
    x[0, :, :, -1] = np.inf
    w = rng.standard_normal((2, 1, 3, 3))
    y = reference(np.nan_to_num(x, posinf=0.0), w, np.zeros(2), (stride,) * 2, (1, 1), (1, 1))
    dy = rng.standard_normal(y.shape)
    _gx, gw, _ = K.conv2d_backward(Array(dy.astype(np.float32)), Array(x.astype(np.float32)),
                                   Array(w.astype(np.float32)), stride, 1, 1, 2)
    with np.errstate(invalid="ignore"):
        want = reference_grad_weight(dy, x, w.shape, (stride,) * 2, (1, 1), (1, 1))
    assert np.isfinite(want[..., 0]).all() and not np.isfinite(want[..., 1:]).all()
    np.testing.assert_array_equal(np.isfinite(gw._np), np.isfinite(want))
    np.testing.assert_allclose(gw._np[..., 0], want[..., 0], rtol=1e-5)


@pytest.mark.parametrize("k", [3, 5])
def test_same_bits_on_one_and_two_threads(k):
    """Planes are split between threads whole, each summed by the same loops: the forward
    and both gradients are bit for bit the same on one thread and two (the 5x5 roll kernel
    and the 3x3 rows, with enough work that two threads really split it)."""
    import ember_tensor

    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 6, 28, 28)).astype(np.float32)
    w = rng.standard_normal((6, 1, k, k)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    dy = rng.standard_normal((2, 6, 28, 28)).astype(np.float32)
    old = ember_tensor.get_num_threads()
    results = []
    try:
        for n in (1, 2):
            ember_tensor.set_num_threads(n)
            y = K.conv2d(Array(x), Array(w), Array(b), 1, k // 2, 1, 6)
            gx, gw, _ = K.conv2d_backward(Array(dy), Array(x), Array(w), 1, k // 2, 1, 6)
            results.append([y._np, gx._np, gw._np])
    finally:
        ember_tensor.set_num_threads(old)
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)

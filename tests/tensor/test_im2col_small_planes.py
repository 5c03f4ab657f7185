"""im2col/col2im against a NumPy reference, with the small-plane (offset table) path and the
row path both exercised: 1x1, 2x2 and 4x4 maps, stride, padding, dilation, many planes."""
import numpy as np
import pytest

from ember_tensor._kernels.im2col import col2im, im2col


def _out(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def _reference_cols(x, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW):
    nb, C, H, W = x.shape
    xp = np.zeros((nb, C, H + 2 * ph, W + 2 * pw), x.dtype)
    xp[:, :, ph:ph + H, pw:pw + W] = x
    cols = np.empty((C, kh, kw, nb, OH, OW), x.dtype)
    for i in range(kh):
        for j in range(kw):
            win = xp[:, :, i * dh:i * dh + (OH - 1) * sh + 1:sh,
                     j * dw:j * dw + (OW - 1) * sw + 1:sw]
            cols[:, i, j] = win.transpose(1, 0, 2, 3)
    return cols.reshape(C * kh * kw, nb * OH * OW)


def _reference_col2im(cols, shape, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW):
    nb, C, H, W = shape
    gp = np.zeros((nb, C, H + 2 * ph, W + 2 * pw), cols.dtype)
    c6 = cols.reshape(C, kh, kw, nb, OH, OW)
    for i in range(kh):
        for j in range(kw):
            gp[:, :, i * dh:i * dh + (OH - 1) * sh + 1:sh,
               j * dw:j * dw + (OW - 1) * sw + 1:sw] += c6[:, i, j].transpose(1, 0, 2, 3)
    return gp[:, :, ph:ph + H, pw:pw + W]


CASES = [
    # (nb, C, H, W, k, stride, pad, dil)
    (4, 8, 1, 1, 1, 1, 0, 1),
    (4, 8, 1, 1, 3, 1, 1, 1),
    (3, 16, 2, 2, 3, 1, 1, 1),
    (3, 16, 2, 2, 3, 2, 1, 1),
    (2, 5, 2, 2, 2, 1, 0, 1),
    (3, 7, 4, 4, 3, 1, 1, 1),
    (3, 7, 4, 4, 3, 2, 1, 1),
    (2, 6, 4, 4, 3, 1, 2, 2),
    (2, 6, 4, 5, 3, 1, 0, 1),
    (2, 4, 8, 8, 3, 2, 1, 1),
    (2, 4, 7, 9, 2, 3, 1, 2),
    (1, 3, 20, 20, 3, 1, 1, 1),   # row path: wide output rows
    (2, 3, 17, 13, 5, 2, 2, 1),   # row path with stride
    (1, 2, 3, 3, 3, 1, 4, 1),     # padding wider than the map: whole taps in padding
    (1, 1, 2, 2, 3, 1, 1, 1),     # one plane: below the table's minimum plane count
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nb,C,H,W,k,s,p,d", CASES)
def test_im2col_and_col2im_match_reference(nb, C, H, W, k, s, p, d, dtype):
    rng = np.random.default_rng(nb * 1000 + C * 100 + H * 10 + k)
    OH, OW = _out(H, k, s, p, d), _out(W, k, s, p, d)
    geom = (k, k, s, s, p, p, d, d, OH, OW)
    x = rng.standard_normal((nb, C, H, W)).astype(dtype)
    cols = np.full((C * k * k, nb * OH * OW), np.nan, dtype)
    im2col(x, cols, geom)
    np.testing.assert_array_equal(cols, _reference_cols(x, *geom))

    g = rng.standard_normal(cols.shape).astype(dtype)
    gx = np.ones_like(x)          # col2im accumulates: the ones must survive
    col2im(g, gx, geom)
    want = 1 + _reference_col2im(g, x.shape, *geom)
    np.testing.assert_allclose(gx, want, rtol=1e-6 if dtype == np.float32 else 1e-12,
                               atol=1e-6 if dtype == np.float32 else 1e-12)


def test_non_square_kernel_and_mixed_geometry():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 5, 4, 6)).astype(np.float32)
    kh, kw, sh, sw, ph, pw, dh, dw = 1, 3, 2, 1, 0, 2, 1, 2
    OH, OW = _out(4, kh, sh, ph, dh), _out(6, kw, sw, pw, dw)
    geom = (kh, kw, sh, sw, ph, pw, dh, dw, OH, OW)
    cols = np.empty((5 * kh * kw, 3 * OH * OW), np.float32)
    im2col(x, cols, geom)
    np.testing.assert_array_equal(cols, _reference_cols(x, *geom))


def test_small_plane_results_do_not_depend_on_chunking():
    # the table is per call: gathering images one at a time must give the same columns
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 32, 2, 2)).astype(np.float32)
    geom = (3, 3, 1, 1, 1, 1, 1, 1, 2, 2)
    whole = np.empty((32 * 9, 6 * 4), np.float32)
    im2col(x, whole, geom)
    for n in range(6):
        one = np.empty((32 * 9, 4), np.float32)
        im2col(x[n:n + 1], one, geom)
        np.testing.assert_array_equal(one, whole[:, n * 4:(n + 1) * 4])


def test_bad_inputs_raise_runtime_error():
    x = np.zeros((2, 3, 2, 2), np.float32)
    geom = (3, 3, 1, 1, 1, 1, 1, 1, 2, 2)
    with pytest.raises(RuntimeError, match="does not match"):
        im2col(x, np.empty((27, 7), np.float32), geom)
    with pytest.raises(RuntimeError, match="dtype"):
        im2col(x, np.empty((27, 8), np.float64), geom)
    with pytest.raises(RuntimeError, match="contiguous"):
        im2col(x, np.empty((27, 16), np.float32)[:, ::2], geom)
    with pytest.raises(RuntimeError, match="output height"):
        im2col(x, np.empty((27, 2 * 9), np.float32), (3, 3, 1, 1, 1, 1, 1, 1, 3, 3))
    with pytest.raises(RuntimeError, match="4-D"):
        col2im(np.empty((27, 8), np.float32), x[0], geom)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nb,C,H,W,k,s,p,d", CASES + [
    (2, 5, 8, 8, 3, 1, 1, 1),      # the zero-bordered path's own size (ResNet's 8x8 layer2)
    (1, 4, 14, 11, 3, 1, 1, 1),    # rows of 14 and 11 outputs, non-square
    (1, 3, 12, 12, 3, 1, 2, 2),    # dilated, padding 2
])
def test_zero_bordered_path_writes_what_the_others_write(nb, C, H, W, k, s, p, d, dtype):
    # padded=True forces the zero-bordered scratch path, False the table / row paths; both
    # must write the reference's columns, for whole outputs and for a band of output rows
    x = np.random.default_rng(C * H + W).standard_normal((nb, C, H, W)).astype(dtype)
    OH, OW = _out(H, k, s, p, d), _out(W, k, s, p, d)
    geometry = (k, k, s, s, p, p, d, d, OH, OW)
    ref = _reference_cols(x, k, k, s, s, p, p, d, d, OH, OW)
    for padded in (True, False, None):
        cols = np.full((C * k * k, nb * OH * OW), np.nan, dtype)
        im2col(x, cols, geometry, padded=padded)
        np.testing.assert_array_equal(cols, ref)
        if OH >= 2:
            band = np.full((C * k * k, nb * (OH - 1) * OW), np.nan, dtype)
            im2col(x, band, geometry, (1, OH), padded=padded)
            np.testing.assert_array_equal(
                band.reshape(-1, nb, OH - 1, OW),
                ref.reshape(-1, nb, OH, OW)[:, :, 1:])

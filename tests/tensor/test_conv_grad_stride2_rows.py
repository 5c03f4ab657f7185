"""The stride-2 rows of im2col and col2im (float32 by AVX-512 masks, ``im2col_s2.h``) give
the same bits as a NumPy reference that gathers, and adds tap by tap in the scalar loop's
order, at whatever CPU level the kernels were loaded (CI runs the suite at each
``EMBER_CPU``). Row lengths around the 16-lane chunks (1, 7, 14, 15, 16, 17, 31, 32, 33)
and every tap's padding range are covered, with col2im adding into a non-zero input."""
import numpy as np
import pytest

from ember_tensor._kernels.im2col import col2im, im2col


def _out(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def _windows(a, i, j, geometry):
    kh, kw, sh, sw, ph, pw, dh, dw, OH, OW = geometry
    return a[:, :, i * dh:i * dh + (OH - 1) * sh + 1:sh, j * dw:j * dw + (OW - 1) * sw + 1:sw]


def _pad(x, ph, pw):
    nb, C, H, W = x.shape
    xp = np.zeros((nb, C, H + 2 * ph, W + 2 * pw), x.dtype)
    xp[:, :, ph:ph + H, pw:pw + W] = x
    return xp


def _geometry(H, W, k, s, p, d):
    return (k, k, s, s, p, p, d, d, _out(H, k, s, p, d), _out(W, k, s, p, d))


def _case(case, dtype, seed):
    """The geometry, a random input and random columns of one case."""
    nb, C, H, W, k, s, p, d = case
    geometry = _geometry(H, W, k, s, p, d)
    OH, OW = geometry[-2:]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((nb, C, H, W)).astype(dtype)
    cols = rng.standard_normal((C * k * k, nb * OH * OW)).astype(dtype)
    return geometry, x, cols


# (nb, C, H, W, k, stride, pad, dilation): output rows of 1..33 pixels
CASES = [
    (2, 3, 56, 56, 3, 2, 1, 1),    # ResNet layer2.0: rows of 28
    (2, 3, 28, 28, 3, 2, 1, 1),    # layer3.0: rows of 14
    (2, 3, 14, 14, 3, 2, 1, 1),    # layer4.0: rows of 7 (offset table)
    (1, 2, 9, 30, 3, 2, 1, 1),     # 15
    (1, 2, 9, 32, 3, 2, 1, 1),     # 16
    (1, 2, 9, 34, 3, 2, 1, 1),     # 17
    (1, 2, 7, 63, 3, 2, 1, 1),     # 32
    (1, 2, 7, 66, 3, 2, 1, 1),     # 33
    (1, 2, 7, 61, 3, 2, 0, 1),     # 30, no padding
    (1, 2, 8, 67, 5, 2, 2, 1),     # 5x5 taps, 34
    (1, 2, 9, 40, 3, 2, 2, 2),     # dilation 2
    (2, 2, 16, 16, 1, 2, 0, 1),    # 1x1 stride 2
    (1, 2, 3, 3, 3, 2, 1, 1),      # rows of 2
    (1, 1, 4, 2, 3, 2, 1, 1),      # rows of 1
    (3, 5, 13, 29, 7, 2, 3, 1),    # stem-like 7x7
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_im2col_and_col2im_stride2_match_reference_bits(case, dtype):
    nb, C, H, W, k, s, p, d = case
    geometry, x, cols = _case(case, dtype, 0)
    OH, OW = geometry[-2:]
    gathered = np.full_like(cols, np.nan)
    im2col(x, gathered, geometry)
    gx = x.copy()
    col2im(cols, gx, geometry)
    xp = _pad(x, p, p)
    ref = np.empty((C, k, k, nb, OH, OW), dtype)
    # col2im's reference adds tap by tap, in (i, j) order, onto the starting values: the
    # kernel's order of additions
    acc = xp.copy()
    c6 = cols.reshape(C, k, k, nb, OH, OW)
    for i in range(k):
        for j in range(k):
            ref[:, i, j] = _windows(xp, i, j, geometry).transpose(1, 0, 2, 3)
            _windows(acc, i, j, geometry)[...] += c6[:, i, j].transpose(1, 0, 2, 3)
    np.testing.assert_array_equal(gathered, ref.reshape(cols.shape))
    np.testing.assert_array_equal(gx, acc[:, :, p:p + H, p:p + W])


def test_col2im_stride2_leaves_other_planes_and_neighbours():
    # the masks must keep the vector stores inside each row's taps: a strided plane view is
    # not allowed (contiguous only), so check that a sliced batch leaves its neighbours alone
    geometry = _geometry(28, 28, 3, 2, 1, 1)
    OH, OW = geometry[-2:]
    big = np.full((3, 4, 28, 28), 7.0, np.float32)
    cols = np.ones((4 * 9, OH * OW), np.float32)
    col2im(cols, big[1:2], geometry)
    assert (big[0] == 7.0).all() and (big[2] == 7.0).all()
    assert (big[1] > 7.0).any()

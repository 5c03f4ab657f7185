"""The strided subsample copy (``_kernels/subsample.pyx``) that feeds the unpadded strided 1x1
convolutions (ResNet's downsamples) against NumPy slicing, and those convolutions through it,
one image and a batch, against the product written out in float64."""
import numpy as np
import pytest

import ember_tensor
from ember_tensor import Array
from ember_tensor import nn as K
from ember_tensor._kernels.subsample import subsample


# (x shape, sh, sw, oh0, oh1, OW): stride 2 (a downsample's, 8 and 7 columns), 1 (a plain
# copy of rows), 3 and mixed strides, bands starting past row 0, an empty band
CASES = [
    ((1, 64, 16, 16), 2, 2, 0, 8, 8),
    ((2, 3, 15, 13), 2, 2, 0, 8, 7),
    ((1, 4, 9, 10), 1, 1, 2, 7, 10),
    ((3, 2, 11, 14), 3, 2, 1, 4, 7),
    ((1, 5, 12, 17), 2, 3, 3, 6, 6),
    ((1, 2, 4, 4), 2, 2, 1, 1, 2),
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_numpy_slicing(case, dtype):
    shape, sh, sw, oh0, oh1, OW = case
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    want = x[:, :, oh0 * sh:oh1 * sh:sh, :OW * sw:sw]
    out = np.full(want.size, np.nan, dtype)
    subsample(x, out, sh, sw, oh0, oh1, OW)
    np.testing.assert_array_equal(out.reshape(want.shape), want)



@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stride_two_rows_of_every_length(dtype):
    """Stride 2 copies rows in blocks of two overlapping vector loads (8 and 4 floats, 4
    and 2 doubles) and a scalar tail: every row length through those blocks, the input as
    narrow as the row allows (its last element the last one read)."""
    rng = np.random.default_rng(3)
    for OW in range(1, 21):
        for W in (2 * OW - 1, 2 * OW):
            x = rng.standard_normal((2, 3, 5, W)).astype(dtype)
            want = x[:, :, 0:6:2, :2 * OW:2]
            out = np.full(want.size, np.nan, dtype)
            subsample(x, out, 2, 2, 0, 3, OW)
            np.testing.assert_array_equal(out.reshape(want.shape), want)

def test_large_copy_on_two_threads():
    """Enough output for the planes to be shared out on the team: the same copy."""
    x = np.random.default_rng(1).standard_normal((2, 32, 130, 129)).astype(np.float32)
    out = np.empty((2, 32, 65, 65), np.float32)
    old = ember_tensor.get_num_threads()
    try:
        ember_tensor.set_num_threads(2)
        subsample(x, out, 2, 2, 0, 65, 65)
    finally:
        ember_tensor.set_num_threads(old)
    np.testing.assert_array_equal(out, x[:, :, ::2, ::2])


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_team_copy_of_any_size(case, threads):
    """``team=True`` (a product on the team follows) shares even a small copy's planes out
    on the team: the same elements on any thread count."""
    shape, sh, sw, oh0, oh1, OW = case
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    want = x[:, :, oh0 * sh:oh1 * sh:sh, :OW * sw:sw]
    out = np.full(want.size, np.nan, np.float32)
    old = ember_tensor.get_num_threads()
    try:
        ember_tensor.set_num_threads(threads)
        subsample(x, out, sh, sw, oh0, oh1, OW, True)
    finally:
        ember_tensor.set_num_threads(old)
    np.testing.assert_array_equal(out.reshape(want.shape), want)


def test_refuses_what_would_read_or_write_out_of_bounds():
    x = np.zeros((1, 2, 8, 8), np.float32)
    with pytest.raises(RuntimeError, match="outside"):
        subsample(x, np.empty(2 * 5 * 4, np.float32), 2, 2, 0, 5, 4)
    with pytest.raises(RuntimeError, match="outside"):
        subsample(x, np.empty(2 * 4 * 5, np.float32), 2, 2, 0, 4, 5)
    with pytest.raises(RuntimeError, match="wrong size"):
        subsample(x, np.empty(7, np.float32), 2, 2, 0, 4, 4)
    with pytest.raises(RuntimeError, match="float32 or both float64"):
        subsample(x, np.empty(32, np.float64), 2, 2, 0, 4, 4)
    with pytest.raises(RuntimeError, match="contiguous"):
        subsample(x[..., ::2], np.empty(2 * 4 * 2, np.float32), 2, 2, 0, 4, 2)


@pytest.mark.parametrize("n", [1, 3])
@pytest.mark.parametrize("stride", [2, 3])
def test_strided_1x1_convolution(n, stride):
    """One image (its columns gathered for one GEMM) and a batch (subsampled at once), both
    gradients too: the weight gradient gathers the same columns."""
    rng = np.random.default_rng(stride)
    x = rng.standard_normal((n, 6, 11, 13))
    w = rng.standard_normal((5, 6, 1, 1))
    xs = x[:, :, ::stride, ::stride]
    want = np.einsum("nchw,oc->nohw", xs, w[:, :, 0, 0])
    xa, wa = Array(x.astype(np.float32)), Array(w.astype(np.float32))
    np.testing.assert_allclose(K.conv2d(xa, wa, None, stride, 0)._np, want, rtol=1e-5,
                               atol=1e-5)
    dy = rng.standard_normal(want.shape)
    gx, gw, _ = K.conv2d_backward(Array(dy.astype(np.float32)), xa, wa, stride, 0, 1, 1)
    np.testing.assert_allclose(gw._np[:, :, 0, 0], np.einsum("nohw,nchw->oc", dy, xs),
                               rtol=1e-5, atol=1e-4)
    want_gx = np.zeros_like(x)
    want_gx[:, :, ::stride, ::stride] = np.einsum("nohw,oc->nchw", dy, w[:, :, 0, 0])
    np.testing.assert_allclose(gx._np, want_gx, rtol=1e-5, atol=1e-5)


# (N, C, H, W, Cout, stride): layer4.0's downsample at 224 px (a smaller batch), odd planes
# (8x7 and 7x7 outputs), channel counts off the vector, stride 3
@pytest.mark.parametrize("case", [
    (3, 256, 14, 14, 512, 2), (2, 260, 15, 13, 37, 2), (2, 256, 21, 22, 20, 3),
])
def test_strided_1x1_batch_on_convgemm(monkeypatch, case):
    """A batch of strided 1x1 convolutions with 256+ input channels and 49+ output pixels
    an image runs on convgemm (its AVX-512 copy; the subsample and OpenBLAS elsewhere):
    the float64 product's numbers at every CPU level, the same bits on 1, 2 and 3 threads."""
    from ember_tensor.nn import conv

    n, c, h, w_, cout, s = case
    rng = np.random.default_rng(c + cout)
    x = rng.standard_normal((n, c, h, w_), dtype=np.float32)
    w = rng.standard_normal((cout, c, 1, 1), dtype=np.float32)
    want = np.einsum("nchw,oc->nohw", x[:, :, ::s, ::s].astype(np.float64),
                     w[:, :, 0, 0].astype(np.float64))
    calls = []
    kernel = conv._convgemm
    monkeypatch.setattr(conv, "_convgemm", lambda *a: calls.append(1) or kernel(*a))
    old = ember_tensor.get_num_threads()
    outs = []
    try:
        for threads in (1, 2, 3):
            ember_tensor.set_num_threads(threads)
            outs.append(K.conv2d(Array(x), Array(w), None, s, 0)._np)
    finally:
        ember_tensor.set_num_threads(old)
    assert bool(calls) == conv._CONVGEMM_FASTER
    assert np.abs(outs[0] - want).max() <= 1e-5 * np.abs(want).max()
    for out in outs[1:]:
        np.testing.assert_array_equal(out, outs[0])


def test_strided_1x1_batch_rule_reads_the_shapes():
    """Few input channels or small planes keep the subsample and OpenBLAS."""
    from ember_tensor.nn import conv

    def routed(n, c, h, cout):
        g = conv._Geometry((n, c, h, h), (cout, c, 1, 1), (2, 2), (0, 0), (1, 1), 1)
        return conv._pointwise_on_convgemm(g, np.float32)

    assert routed(16, 256, 14, 512) == routed(2, 300, 13, 40) == conv._CONVGEMM_FASTER
    assert not routed(16, 128, 28, 256)
    assert not routed(16, 64, 56, 128)
    assert not routed(32, 128, 8, 256)
    assert not routed(32, 256, 4, 512)

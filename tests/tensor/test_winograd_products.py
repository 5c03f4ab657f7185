"""Winograd's own float32 products (``_kernels/winograd_gemm.h`` through
``winograd.products``), the forward's default in the AVX-512 copy instead of BLAS.

Every CPU level compiles the kernel (a plain fmaf loop below AVX-512), so these tests run
it at each level. References: float64 matmul (the products of float32 operands measured
~1e-7..6e-7 of the largest magnitude here), and the kernel itself on a different cut of
the same columns and rows (each element is one multiply-add chain over K in order, so the
bits must not move).
"""
import numpy as np
import pytest

import ember_tensor
from ember_tensor.nn import conv, winograd
from ember_tensor._kernels import winograd as kernels
from ember_tensor import from_numpy


def _stack(rows, cols, pad, rng, fill=None):
    """16 (rows, cols) float32 matrices ``rows*cols + pad`` elements apart."""
    ks = rows * cols + pad
    buf = np.full(16 * ks, np.nan, np.float32)
    a = np.ndarray((16, rows, cols), np.float32, buffer=buf,
                   strides=(ks * 4, cols * 4, 4))
    a[...] = rng.standard_normal(a.shape) if fill is None else fill
    return a


# R (rows), K (sum length), T (columns): row tails (R % 8), column tails of every kind
# around the 16/32/48-column panels, K = 1
PRODUCT_SHAPES = [(1, 1, 1), (8, 1, 16), (13, 7, 37), (9, 17, 49), (3, 5, 16), (20, 30, 33),
                  (64, 64, 144), (7, 64, 47), (16, 40, 48), (17, 3, 17), (5, 9, 32),
                  (24, 256, 64)]


@pytest.mark.parametrize("R, K, T", PRODUCT_SHAPES)
@pytest.mark.parametrize("pad", [0, 5])
def test_products_match_float64(R, K, T, pad):
    rng = np.random.default_rng(R * 1000 + K * 10 + T)
    U, V = _stack(R, K, pad, rng), _stack(K, T, pad, rng)
    M = _stack(R, T, pad, rng, np.nan)
    kernels.products(U, V, M)
    ref = np.matmul(U.astype(np.float64), V.astype(np.float64))
    err = np.abs(M - ref).max() / np.abs(ref).max()
    assert err < 1e-5
    if pad:  # the gaps between the matrices are never written
        base = M.base if M.base is not None else M
        ks = M.strides[0] // 4
        gaps = np.stack([base[k * ks + R * T:(k + 1) * ks] for k in range(16)])
        assert np.isnan(gaps).all()


@pytest.mark.parametrize("R, K, T", [(13, 7, 37), (20, 30, 100), (64, 64, 144)])
def test_products_bits_do_not_depend_on_the_cut(R, K, T):
    # conv3x3 cuts columns into blocks by the thread count: a column's (and a row's) values
    # must come out the same from any cut
    rng = np.random.default_rng(3)
    U, V = _stack(R, K, 0, rng), _stack(K, T, 0, rng)
    whole = _stack(R, T, 0, rng, 0)
    kernels.products(U, V, whole)
    for a in (1, 16, 17, 33, T // 2):
        for lo, hi in ((0, a), (a, T)):
            part = _stack(R, hi - lo, 0, rng, 0)
            kernels.products(U, np.ascontiguousarray(V[:, :, lo:hi]), part)
            np.testing.assert_array_equal(part, whole[:, :, lo:hi])
    rows = _stack(R - 5, T, 0, rng, 0)
    kernels.products(np.ascontiguousarray(U[:, 5:]), V, rows)
    np.testing.assert_array_equal(rows, whole[:, 5:])


def test_products_empty_sums_and_bad_arguments():
    rng = np.random.default_rng(0)
    M = _stack(3, 4, 0, rng)
    kernels.products(_stack(3, 0, 0, rng), _stack(0, 4, 0, rng), M)
    assert not M.any()
    U, V = _stack(3, 2, 0, rng), _stack(2, 4, 0, rng)
    with pytest.raises(RuntimeError, match="float32"):
        kernels.products(U.astype(np.float64), V.astype(np.float64), M.astype(np.float64))
    with pytest.raises(RuntimeError, match="shape"):
        kernels.products(U, V, _stack(3, 5, 0, rng))
    with pytest.raises(RuntimeError, match="shape"):
        kernels.products(U, _stack(3, 4, 0, rng), M)
    with pytest.raises(RuntimeError, match="C-contiguous"):
        kernels.products(U, V, np.ascontiguousarray(M.transpose(0, 2, 1)).transpose(0, 2, 1))


def test_products_are_the_default_where_they_win():
    assert winograd._OWN_PRODUCTS == kernels.PRODUCTS_FAST
    level = ember_tensor.cpu_level()
    if level in ("baseline", "avx2", "avx512"):
        assert kernels.PRODUCTS_FAST == (level == "avx512")


@pytest.mark.parametrize("channels, own", [(63, False), (64, True)])
def test_own_products_from_64_input_channels(channels, own, monkeypatch):
    monkeypatch.setattr(winograd, "_OWN_PRODUCTS", True)
    calls = []
    monkeypatch.setattr(winograd, "forward_float",
                        lambda *a: calls.append(1) or kernels.forward_float(*a))
    rng = np.random.default_rng(channels)
    x = rng.standard_normal((1, channels, 8, 8)).astype(np.float32)
    w = rng.standard_normal((16, channels, 3, 3)).astype(np.float32)
    b = np.zeros(16, np.float32)
    out = np.empty((1, 16, 8, 8), np.float32)
    winograd.conv3x3(x, w, out, b)
    assert bool(calls) == own
    ref = _reference(x, w, b)
    assert np.abs(out - ref).max() / np.abs(ref).max() < 1e-5


@pytest.fixture
def own_products(monkeypatch):
    monkeypatch.delenv("EMBER_WINOGRAD", raising=False)
    monkeypatch.setattr(winograd, "_OWN_PRODUCTS", True)
    monkeypatch.setattr(winograd, "_OWN_MIN_CHANNELS", 0)


def _reference(x, w, b):
    out = conv.conv2d(from_numpy(x.astype(np.float64)), from_numpy(w.astype(np.float64)),
                      from_numpy(b.astype(np.float64)), 1, 1)
    return out._np


@pytest.mark.parametrize("shape", [(1, 1, 1, 1, 1), (3, 7, 9, 7, 7), (2, 70, 33, 14, 14),
                                   (3, 40, 36, 6, 11), (32, 16, 24, 4, 4)])
def test_conv3x3_on_own_products(shape, own_products):
    N, C, Cout, H, W = shape
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    w = rng.standard_normal((Cout, C, 3, 3)).astype(np.float32)
    b = rng.standard_normal(Cout).astype(np.float32)
    out = np.empty((N, Cout, H, W), np.float32)
    winograd.conv3x3(x, w, out, b)
    ref = _reference(x, w, b)
    assert np.abs(out - ref).max() / np.abs(ref).max() < 1e-5


@pytest.fixture
def restore_threads():
    old = ember_tensor.get_num_threads()
    yield
    ember_tensor.set_num_threads(old)


def test_own_products_same_bits_on_one_and_two_threads(own_products, restore_threads,
                                                       monkeypatch):
    # 32 images of 16x16: 13 blocks on one thread, 14 on two
    monkeypatch.setattr(winograd, "_OWN_SPLIT_MACS", 0)
    rng = np.random.default_rng(8)
    x = rng.standard_normal((32, 16, 16, 16)).astype(np.float32)
    w = rng.standard_normal((20, 16, 3, 3)).astype(np.float32)
    b = rng.standard_normal(20).astype(np.float32)
    outs = {t: np.empty((32, 20, 16, 16), np.float32) for t in (1, 2)}
    for threads, out in outs.items():
        ember_tensor.set_num_threads(threads)
        winograd.conv3x3(x, w, out, b)
    np.testing.assert_array_equal(outs[1], outs[2])
    ref = _reference(x, w, b)
    assert np.abs(outs[1] - ref).max() / np.abs(ref).max() < 1e-5


@pytest.mark.parametrize("shape", [(1, 64, 64, 16, 16), (2, 20, 9, 7, 5), (3, 16, 24, 6, 11),
                                   (1, 1, 1, 1, 1)])
@pytest.mark.parametrize("flipped", [False, True])
@pytest.mark.parametrize("threads", [1, 2])
def test_one_region_forward_same_bits_as_tasks(shape, flipped, threads, own_products,
                                               restore_threads, monkeypatch):
    # forward_float runs the same transforms and kernel as the Python tasks, in one OpenMP
    # region: the bits must not move, whatever the blocks and threads
    N, C, Cout, H, W = shape
    monkeypatch.setattr(winograd, "_OWN_SPLIT_MACS", 0)
    monkeypatch.setattr(winograd, "_OWN_SPLIT_TILES", 1)
    ember_tensor.set_num_threads(threads)
    rng = np.random.default_rng(sum(shape) + flipped)
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    w_shape = (C, Cout, 3, 3) if flipped else (Cout, C, 3, 3)
    w = rng.standard_normal(w_shape).astype(np.float32)
    b = None if flipped else rng.standard_normal(Cout).astype(np.float32)
    outs = []
    for one in (True, False):
        monkeypatch.setattr(winograd, "_ONE_REGION", one)
        out = np.full((N, Cout, H, W), np.nan, np.float32)
        winograd.conv3x3(x, w, out, b, flipped=flipped)
        outs.append(out)
    np.testing.assert_array_equal(outs[0], outs[1])
    wf = np.ascontiguousarray(w.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1]) if flipped else w
    ref = _reference(x, wf, np.zeros(Cout, np.float32) if b is None else b)
    assert np.abs(outs[0] - ref).max() / np.abs(ref).max() < 1e-5


def test_one_region_forward_bad_arguments():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 4, 6, 6)).astype(np.float32)
    w = rng.standard_normal((5, 4, 3, 3)).astype(np.float32)
    y = np.empty((1, 5, 6, 6), np.float32)
    U = _stack(5, 4, 0, rng)
    big = np.empty(16 * 5 * 9 * 2, np.float32)
    kernels.forward_float(x, w, U, big, big.copy(), y, None, 3, 1)  # rows 3: fine
    with pytest.raises(RuntimeError, match="block count"):
        kernels.forward_float(x, w, U, big, big.copy(), y, None, 4, 1)
    with pytest.raises(RuntimeError, match="too small"):
        kernels.forward_float(x, w, U, big[:16 * 4 * 3], big.copy(), y, None, 1, 1)
    with pytest.raises(RuntimeError, match="do not match"):
        kernels.forward_float(x, w, U, big, big.copy(), y, None, 1, 1, True)
    with pytest.raises(RuntimeError, match="bias"):
        kernels.forward_float(x, w, U, big, big.copy(), y, np.zeros(4, np.float32), 1, 1)
    with pytest.raises(RuntimeError, match="float32"):
        kernels.forward_float(x.astype(np.float64), w.astype(np.float64),
                              U.astype(np.float64), big.astype(np.float64),
                              big.astype(np.float64), y.astype(np.float64), None, 1, 1)

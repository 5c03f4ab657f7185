"""The Winograd weight gradient in one OpenMP region (_kernels/winograd_grad.pyx, .h).

The kernel runs at every CPU level (its products are a plain fmaf loop below AVX-512, where
nn/winograd_grad.py keeps the Python tasks); against a float64 reference it measured
~5e-8..1.2e-6 of the largest gradient over these shapes (the bound asserted is 1e-5, as for
the tasks). Its sums run in one fixed order, so the blocks and the thread count never change
a bit, nor does the CPU level.
"""
import numpy as np
import pytest

import ember_tensor
from ember_tensor._kernels import winograd_grad as kernels
from ember_tensor.nn import winograd_grad

SHAPES = [  # N, Cin, Cout, H, W
    (1, 1, 1, 1, 1),
    (2, 3, 5, 7, 9),
    (1, 17, 33, 5, 6),
    (3, 40, 70, 11, 14),
    (1, 64, 64, 16, 16),
    (2, 16, 48, 8, 8),
    (1, 33, 16, 32, 3),
]


def _data(shape, seed, dtype=np.float32):
    N, C, Cout, H, W = shape
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((N, C, H, W)).astype(dtype),
            rng.standard_normal((N, Cout, H, W)).astype(dtype))


def _reference(x, g):
    # the float64 tasks (np.matmul in float64), checked against im2col in test_winograd.py
    gw = np.empty((g.shape[1], x.shape[1], 3, 3))
    winograd_grad.conv3x3_grad_weight(x.astype(np.float64), g.astype(np.float64), gw)
    return gw


def _rel_err(got, want):
    return np.abs(got - want).max() / max(np.abs(want).max(), 1e-30)


def _region(x, g, per, threads):
    N, C, H, W = x.shape
    Cout = g.shape[1]
    most = min(per, (H + 1) // 2) * ((W + 1) // 2)
    V = np.full(16 * (C * most + 3), np.nan, np.float32)
    Vt = np.full(16 * (C * most + 5), np.nan, np.float32)
    Z = np.full(16 * (Cout * most + 7), np.nan, np.float32)
    dU = np.full(16 * Cout * C, np.nan, np.float32)
    gw = np.full((Cout, C, 3, 3), np.nan, np.float32)
    kernels.grad_weight_float(x, g, gw, V, Vt, Z, dU, per, threads)
    return gw


@pytest.mark.parametrize("shape", SHAPES)
def test_region_matches_float64_and_never_changes_its_bits(shape):
    x, g = _data(shape, 1)
    first = _region(x, g, 100, 1)
    assert _rel_err(first, _reference(x, g)) < 1e-5
    for per in (1, 3, 100):
        for threads in (1, 2, 3):
            np.testing.assert_array_equal(_region(x, g, per, threads), first)


def test_region_of_one_tile_by_hand():
    # one 2x2 image, one channel: dW[p, q] = sum over outputs (i, j) of g[i, j] x[i+p-1, j+q-1]
    x = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32).reshape(1, 1, 2, 2)
    g = np.array([[1.0, -1.0], [0.5, 2.0]], np.float32).reshape(1, 1, 2, 2)
    xp = np.pad(x[0, 0], 1)
    expected = np.array([[(g[0, 0] * xp[p:p + 2, q:q + 2]).sum() for q in range(3)]
                         for p in range(3)])
    np.testing.assert_allclose(_region(x, g, 1, 2)[0, 0], expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("one_region", [False, True])
@pytest.mark.parametrize("shape", SHAPES[1:5])
def test_both_paths_through_the_entry_point(shape, one_region, monkeypatch):
    monkeypatch.setattr(winograd_grad, "_ONE_REGION", one_region)
    monkeypatch.setattr(winograd_grad, "_REGION_TARGET_TILES", 8)  # several blocks an image
    x, g = _data(shape, 2)
    gw = np.full((g.shape[1], x.shape[1], 3, 3), np.nan, np.float32)
    winograd_grad.conv3x3_grad_weight(x, g, gw)
    assert _rel_err(gw, _reference(x, g)) < 1e-5


@pytest.mark.parametrize("split", [0, 10**12])
def test_entry_point_same_bits_on_one_and_two_threads(split, monkeypatch):
    monkeypatch.setattr(winograd_grad, "_ONE_REGION", True)
    monkeypatch.setattr(winograd_grad, "_REGION_SPLIT_MACS", split)
    x, g = _data((2, 64, 64, 16, 16), 3)
    old = ember_tensor.get_num_threads()
    got = []
    try:
        for threads in (1, 2):
            ember_tensor.set_num_threads(threads)
            gw = np.empty((64, 64, 3, 3), np.float32)
            winograd_grad.conv3x3_grad_weight(x, g, gw)
            got.append(gw)
    finally:
        ember_tensor.set_num_threads(old)
    np.testing.assert_array_equal(got[0], got[1])
    np.testing.assert_array_equal(got[0], _region(x, g, 1, 1))


def test_region_rejects_bad_arguments():
    x, g = _data((1, 4, 6, 8, 8), 4)
    gw = np.empty((6, 4, 3, 3), np.float32)
    good = [x, g, gw, np.empty(16 * 4 * 16, np.float32), np.empty(16 * 4 * 16, np.float32),
            np.empty(16 * 6 * 16, np.float32), np.empty(16 * 24, np.float32)]
    kernels.grad_weight_float(*good, 4, 2)
    for i, bad in [(0, x.astype(np.float64)), (1, g[:, :5]), (2, gw[:5]),
                   (1, np.asfortranarray(g)), (3, good[3][:-1]), (5, good[5][:16 * 95]),
                   (6, good[6][:16 * 23]), (4, good[4].reshape(16, -1))]:
        args = list(good)
        args[i] = bad
        with pytest.raises(RuntimeError, match="grad_weight_float"):
            kernels.grad_weight_float(*args, 4, 2)
    for per, threads in [(0, 1), (1, 0)]:
        with pytest.raises(RuntimeError, match="bad thread or block"):
            kernels.grad_weight_float(*good, per, threads)


@pytest.mark.parametrize("H, region", [(8, True), (12, False)])
def test_big_carried_sums_over_two_blocks_go_to_the_tasks(H, region, monkeypatch):
    # dU of 16*8*8 floats made "too big", 8-tile blocks: 2 blocks take the region, 3 the tasks
    monkeypatch.setattr(winograd_grad, "_ONE_REGION", True)
    monkeypatch.setattr(winograd_grad, "_REGION_TARGET_TILES", 8)
    monkeypatch.setattr(winograd_grad, "_REGION_MAX_CARRIED_BYTES", 16 * 8 * 8 * 4 - 1)
    ran = []
    original = winograd_grad._grad_weight_region
    monkeypatch.setattr(winograd_grad, "_grad_weight_region",
                        lambda *args: ran.append(1) or original(*args))
    x, g = _data((1, 8, 8, H, 8), 5)  # 4x4 tiles (2 blocks) or 6x4 (3 blocks)
    gw = np.empty((8, 8, 3, 3), np.float32)
    winograd_grad.conv3x3_grad_weight(x, g, gw)
    assert bool(ran) == region
    assert _rel_err(gw, _reference(x, g)) < 1e-5
    monkeypatch.setattr(winograd_grad, "_REGION_MAX_CARRIED_BYTES", 16 * 8 * 8 * 4)
    ran.clear()
    winograd_grad.conv3x3_grad_weight(x, g, gw)
    assert ran  # small enough: the region whatever the tiles

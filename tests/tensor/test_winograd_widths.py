"""The fixed-width copies of the Winograd transforms (winograd.h's *_row functions: input
and gradient rows 4, 7, 8 and 14 wide, output rows of 4 and 7 whole tiles) against the
general loops, bit for bit.

A plane widened by zero columns to a width without a fixed copy goes through the general
loops, and its first tiles of each tile row read the same values (the extra columns are
zeros, as the padding was) through the same operations, so they must be the same bits, but
for the sign of a zero: the gradient transform's odd last tile negates a scratch zero where
the widened plane negates its transformed zero column (-0.0 in one of the scratch rows), so
zeros are compared as zeros.
"""
import numpy as np
import pytest

from ember_tensor._kernels import winograd as kernels

FIXED_WIDTHS = [4, 7, 8, 9, 14, 15]  # 9 and 15: 4 and 7 whole output tiles and an odd one


def _stack(rows, cols, dtype):
    return np.full((16, rows, cols), np.nan, dtype)


def _widened(a, W):
    """``a`` (N, C, H, w) with zero columns up to width W."""
    out = np.zeros(a.shape[:3] + (W,), a.dtype)
    out[..., :a.shape[3]] = a
    return out


def _general_width(W):
    # 10, 12 and 18 columns have no fixed copy (5, 6 and 9 tiles a row)
    return {4: 10, 7: 10, 8: 10, 9: 12, 14: 18, 15: 18}[W]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("W", FIXED_WIDTHS)
@pytest.mark.parametrize("H", [1, 4, 7])
@pytest.mark.parametrize("grad", [False, True])
def test_tile_transforms_match_general_width(dtype, W, H, grad):
    rng = np.random.default_rng(W * 10 + H)
    N, C = 3, 5
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    Wg = _general_width(W)
    TH, TW = kernels.tiles(H, W)
    TWg = kernels.tiles(H, Wg)[1]
    fn = kernels.grad_output_transform if grad else kernels.input_transform
    for row0, row1 in ((0, N * TH), (1, N * TH)):
        V = _stack(C, (row1 - row0) * TW, dtype)
        Vg = _stack(C, (row1 - row0) * TWg, dtype)
        fn(x, V, row0, row1)
        fn(_widened(x, Wg), Vg, row0, row1)
        Vg = Vg.reshape(16, C, row1 - row0, TWg)[..., :TW].reshape(V.shape)
        assert (V + 0).tobytes() == (Vg + 0).tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("W", FIXED_WIDTHS)
@pytest.mark.parametrize("H", [1, 4, 7])
@pytest.mark.parametrize("with_bias", [False, True])
def test_output_transform_matches_general_width(dtype, W, H, with_bias):
    rng = np.random.default_rng(W * 10 + H + 1)
    N, C = 3, 5
    Wg = _general_width(W)
    TH, TW = kernels.tiles(H, W)
    TWg = kernels.tiles(H, Wg)[1]
    bias = rng.standard_normal(C).astype(dtype) if with_bias else None
    for row0, row1 in ((0, N * TH), (1, N * TH)):
        M = rng.standard_normal((16, C, (row1 - row0) * TW)).astype(dtype)
        # the general width's M: the same tiles, then tiles whose outputs are cut off
        Mg = rng.standard_normal((16, C, row1 - row0, TWg)).astype(dtype)
        Mg[..., :TW] = M.reshape(16, C, row1 - row0, TW)
        y = np.full((N, C, H, W), np.nan, dtype)
        yg = np.full((N, C, H, Wg), np.nan, dtype)
        kernels.output_transform(M, y, bias, row0, row1)
        kernels.output_transform(Mg.reshape(16, C, -1), yg, bias, row0, row1)
        assert y.tobytes() == np.ascontiguousarray(yg[..., :W]).tobytes()

"""F.grid_sample / F.affine_grid against torch's values stored by
tools/make_golden_grid_sample.py (no torch needed): bilinear and nearest outputs bit for bit,
bicubic outputs and all gradients to rounding."""
import pathlib

import numpy as np
import pytest

import ember
import ember.nn.functional as F

GOLDEN = np.load(pathlib.Path(__file__).parent / "golden" / "grid_sample.npz")
CASES = [(m, p, a) for m in ("bilinear", "nearest", "bicubic") for p in ("zeros", "border", "reflection")
         for a in (False, True)]


@pytest.mark.parametrize("mode, padding_mode, align_corners", CASES)
def test_grid_sample_matches_golden(mode, padding_mode, align_corners):
    key = f"{mode}-{padding_mode}-{int(align_corners)}"
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    out32 = F.grid_sample(ember.tensor(GOLDEN["x"], dtype=ember.float32),
                          ember.tensor(GOLDEN["grid"], dtype=ember.float32), **kw)
    check = np.testing.assert_array_equal
    if mode == "bicubic":  # to rounding: torch's fused multiply-adds are not reproduced
        def check(a, b):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 if a.dtype == np.float32
                                       else 1e-13)
    check(out32.numpy(), GOLDEN[f"{key}/out32"])
    x = ember.tensor(GOLDEN["x"], requires_grad=True)
    g = ember.tensor(GOLDEN["grid"], requires_grad=True)
    out = F.grid_sample(x, g, **kw)
    assert type(out.grad_fn).__name__ == "GridSampler2DBackward0"
    out.backward(ember.tensor(GOLDEN["go"]))
    check(out.detach().numpy(), GOLDEN[f"{key}/out64"])
    np.testing.assert_allclose(x.grad.numpy(), GOLDEN[f"{key}/gx"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g.grad.numpy(), GOLDEN[f"{key}/ggrid"], rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_matches_golden(align_corners):
    key = f"affine-{int(align_corners)}"
    theta = ember.tensor(GOLDEN["theta"], requires_grad=True)
    grid = F.affine_grid(theta, [2, 1, 3, 5], align_corners=align_corners)
    assert type(grid.grad_fn).__name__ == "AffineGridGeneratorBackward0"
    grid.backward(ember.tensor(GOLDEN["grid_go"]))
    np.testing.assert_allclose(grid.detach().numpy(), GOLDEN[f"{key}/grid"], rtol=1e-14,
                               atol=1e-15)
    np.testing.assert_allclose(theta.grad.numpy(), GOLDEN[f"{key}/gtheta"], rtol=1e-12,
                               atol=1e-12)
    grid32 = F.affine_grid(ember.tensor(GOLDEN["theta"], dtype=ember.float32), [2, 1, 3, 5],
                           align_corners=align_corners)
    np.testing.assert_array_equal(grid32.numpy(), GOLDEN[f"{key}/grid32"])


def _float32_sample(prefix, kw):
    return F.grid_sample(ember.tensor(GOLDEN[f"{prefix}x"], dtype=ember.float32),
                         ember.tensor(GOLDEN[f"{prefix}grid"], dtype=ember.float32),
                         **kw).numpy()


@pytest.mark.parametrize("case", [c for c in CASES if c[0] != "bicubic"],
                         ids=lambda c: f"{c[0]}-{c[1]}-{int(c[2])}")
def test_grid_sample_rows_longer_than_a_block_match_golden(case):
    # 70-point rows: one full 64-point block of the kernel and a tail
    mode, padding_mode, align_corners = case
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    key = f"blocks/{mode}-{padding_mode}-{int(align_corners)}"
    np.testing.assert_array_equal(_float32_sample("blocks/", kw), GOLDEN[f"{key}/out32"])
    if mode == "bilinear":
        x = ember.tensor(GOLDEN["blocks/x"], requires_grad=True)
        g = ember.tensor(GOLDEN["blocks/grid"], requires_grad=True)
        F.grid_sample(x, g, **kw).backward(ember.tensor(GOLDEN["blocks/go"]))
        for name, got in (("gx", x.grad), ("ggrid", g.grad)):
            np.testing.assert_allclose(got.numpy(), GOLDEN[f"{key}/{name}"], rtol=1e-12,
                                       atol=1e-12)

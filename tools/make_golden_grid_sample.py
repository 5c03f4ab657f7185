"""Write tests/autograd/nn/golden/grid_sample.npz: torch's F.grid_sample (every 2-D mode,
padding and align_corners; float32 outputs, float64 gradients) and F.affine_grid on small
inputs, for tests/autograd/nn/test_grid_sample_golden.py to replay without torch.

Run with torch installed: ``python tools/make_golden_grid_sample.py``.
"""
import pathlib

import numpy as np
import torch
import torch.nn.functional as F

OUT = (pathlib.Path(__file__).resolve().parents[1] / "tests" / "autograd" / "nn" / "golden"
       / "grid_sample.npz")
MODES = ("bilinear", "nearest", "bicubic")
PADDINGS = ("zeros", "border", "reflection")


def main():
    rng = np.random.default_rng(42)
    arrays = {"x": rng.standard_normal((2, 2, 4, 5)),
              # past [-1, 1] so that the paddings matter
              "grid": rng.uniform(-1.4, 1.4, (2, 3, 4, 2)),
              "go": rng.standard_normal((2, 2, 3, 4)),
              "theta": rng.standard_normal((2, 2, 3)),
              "grid_go": rng.standard_normal((2, 3, 5, 2))}
    for mode in MODES:
        for pad in PADDINGS:
            for align in (False, True):
                key = f"{mode}-{pad}-{int(align)}"
                kw = dict(mode=mode, padding_mode=pad, align_corners=align)
                x32 = torch.tensor(arrays["x"], dtype=torch.float32)
                g32 = torch.tensor(arrays["grid"], dtype=torch.float32)
                arrays[f"{key}/out32"] = F.grid_sample(x32, g32, **kw).numpy()
                x = torch.tensor(arrays["x"], requires_grad=True)
                g = torch.tensor(arrays["grid"], requires_grad=True)
                out = F.grid_sample(x, g, **kw)
                out.backward(torch.tensor(arrays["go"]))
                arrays[f"{key}/out64"] = out.detach().numpy()
                arrays[f"{key}/gx"] = x.grad.numpy()
                arrays[f"{key}/ggrid"] = g.grad.numpy()
    for align in (False, True):
        theta = torch.tensor(arrays["theta"], requires_grad=True)
        grid = F.affine_grid(theta, [2, 1, 3, 5], align_corners=align)
        grid.backward(torch.tensor(arrays["grid_go"]))
        arrays[f"affine-{int(align)}/grid"] = grid.detach().numpy()
        arrays[f"affine-{int(align)}/gtheta"] = theta.grad.numpy()
        theta32 = torch.tensor(arrays["theta"], dtype=torch.float32)
        arrays[f"affine-{int(align)}/grid32"] = F.affine_grid(
            theta32, [2, 1, 3, 5], align_corners=align).numpy()
    _blocks(arrays)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


def _blocks(arrays):
    """Rows longer than the kernel's 64-point blocks (70: a full block and a tail), three
    channels, a batch of two: bilinear and nearest float32 outputs, bilinear float64
    gradients."""
    rng = np.random.default_rng(7)
    arrays["blocks/x"] = rng.standard_normal((2, 3, 5, 7))
    arrays["blocks/grid"] = rng.uniform(-1.3, 1.3, (2, 1, 70, 2))
    arrays["blocks/go"] = rng.standard_normal((2, 3, 1, 70))
    for mode in ("bilinear", "nearest"):
        for pad in PADDINGS:
            for align in (False, True):
                key = f"blocks/{mode}-{pad}-{int(align)}"
                kw = dict(mode=mode, padding_mode=pad, align_corners=align)
                arrays[f"{key}/out32"] = F.grid_sample(
                    torch.tensor(arrays["blocks/x"], dtype=torch.float32),
                    torch.tensor(arrays["blocks/grid"], dtype=torch.float32), **kw).numpy()
                if mode == "bilinear":
                    x = torch.tensor(arrays["blocks/x"], requires_grad=True)
                    g = torch.tensor(arrays["blocks/grid"], requires_grad=True)
                    F.grid_sample(x, g, **kw).backward(torch.tensor(arrays["blocks/go"]))
                    arrays[f"{key}/gx"] = x.grad.numpy()
                    arrays[f"{key}/ggrid"] = g.grad.numpy()


if __name__ == "__main__":
    main()

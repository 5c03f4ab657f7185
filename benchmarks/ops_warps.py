"""Cases for ``benchmarks/run.py``: the tensor warps of ``transforms.functional`` (rotate,
affine, perspective; bilinear) on a 3x224x224 image, uint8 and float32, through each
framework's public API: ember_vision against torchvision, both sampling with their
grid_sample kernel. Also ``F.grid_sample`` itself, forward and forward + both gradients."""
import sys
import types

import numpy as np
from frameworks import module

SIDE = 224
START = [[0, 0], [SIDE - 1, 0], [SIDE - 1, SIDE - 1], [0, SIDE - 1]]
END = [[10, 5], [SIDE - 14, 12], [SIDE - 4, SIDE - 9], [3, SIDE - 24]]


def _vision(lib):
    if lib == "torch":
        # torchvision's wheel here is a CUDA build whose compiled-op registrations fail
        # beside CPU torch; the warps need none of them (tests/conftest.py's
        # import_torchvision)
        sys.modules.setdefault("torchvision._meta_registrations",
                               types.ModuleType("torchvision._meta_registrations"))
    return module(lib, "transforms_functional")


def cases(lib):
    T = __import__(lib)
    F = T.nn.functional
    VF = _vision(lib)
    bilinear = VF.InterpolationMode.BILINEAR
    rng = np.random.default_rng(0)
    images = {"uint8": T.tensor(rng.integers(0, 256, (3, SIDE, SIDE), dtype=np.uint8)),
              "float32": T.tensor(rng.random((3, SIDE, SIDE), dtype=np.float32))}
    out = []
    for kind, img in images.items():
        shape = f"3x{SIDE}x{SIDE} {kind}"
        out.append({"name": f"warp rotate 30 bilinear {shape}",
                    "fn": lambda img=img: VF.rotate(img, 30.0, interpolation=bilinear)})
        out.append({"name": f"warp affine bilinear {shape}",
                    "fn": lambda img=img: VF.affine(img, 15.0, [5, -3], 0.9, [10.0, 0.0],
                                                    interpolation=bilinear)})
        out.append({"name": f"warp perspective bilinear {shape}",
                    "fn": lambda img=img: VF.perspective(img, START, END,
                                                         interpolation=bilinear)})
    x = T.tensor(rng.standard_normal((8, 16, 64, 64), dtype=np.float32)).requires_grad_(True)
    theta = T.tensor([[[0.8, -0.6, 0.1], [0.6, 0.8, -0.05]]] * 8)
    grid = F.affine_grid(theta, [8, 16, 64, 64], align_corners=False).requires_grad_(True)
    g = T.tensor(rng.standard_normal((8, 16, 64, 64), dtype=np.float32))
    with T.no_grad():
        out.append({"name": "grid_sample fwd 8x16x64x64 bilinear",
                    "fn": lambda: F.grid_sample(x, grid, align_corners=False)})
    out.append({"name": "grid_sample fwd+bwd 8x16x64x64 bilinear",
                "fn": lambda: T.autograd.grad(F.grid_sample(x, grid, align_corners=False),
                                              (x, grid), g)})
    return out

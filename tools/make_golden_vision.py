"""Write tests/vision/golden/*: torchvision's ResNet reprs and state-dict layout, and torch's
antialiased tensor-resize values, so the vision tests mean something without torch.

torchvision cannot be imported beside this torch build, so the ResNet reference is
tools/torch_resnet.py (plain torch, torchvision's names and structure). Run:

    python tools/make_golden_vision.py
"""
import json
import pathlib
import sys

import numpy as np
import torch
import torch.nn.functional as F

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "vision" / "golden"
sys.path.insert(0, str(ROOT / "tools"))

import torch_resnet  # noqa: E402


def model_goldens():
    for name in ("resnet18", "resnet50"):
        model = getattr(torch_resnet, name)()
        (OUT / f"{name}_repr.txt").write_text(repr(model) + "\n")
        layout = {
            "state_dict": [[k, list(v.shape), str(v.dtype).replace("torch.", "")]
                           for k, v in model.state_dict().items()],
            "parameters": [[k, list(p.shape)] for k, p in model.named_parameters()],
            "num_params": sum(p.numel() for p in model.parameters()),
            "children": [[n, repr(c).splitlines()[0]] for n, c in model.named_children()],
        }
        (OUT / f"{name}_layout.json").write_text(json.dumps(layout, indent=1) + "\n")


def resize_goldens():
    rng = np.random.default_rng(0)
    img = rng.random((3, 13, 17), dtype=np.float32)
    img_u8 = rng.integers(0, 256, (3, 20, 11), dtype=np.uint8)
    t = torch.from_numpy(img)[None]
    out = {"float_image": img, "uint8_image": img_u8}
    for h, w in ((7, 9), (5, 30), (26, 34)):
        out[f"bilinear_aa_{h}x{w}"] = F.interpolate(
            t, size=(h, w), mode="bilinear", antialias=True, align_corners=False)[0].numpy()
        out[f"bicubic_aa_{h}x{w}"] = F.interpolate(
            t, size=(h, w), mode="bicubic", antialias=True, align_corners=False)[0].numpy()
        out[f"nearest_{h}x{w}"] = F.interpolate(t, size=(h, w), mode="nearest")[0].numpy()
    # torchvision's uint8 tensor path: interpolate in float, round, clamp, cast back
    u = torch.from_numpy(img_u8)[None].float()
    r = F.interpolate(u, size=(8, 5), mode="bilinear", antialias=True, align_corners=False)
    out["uint8_bilinear_aa_8x5"] = r.round().clamp(0, 255).to(torch.uint8)[0].numpy()
    np.savez_compressed(OUT / "resize.npz", **out)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    model_goldens()
    resize_goldens()
    print(f"wrote {sorted(p.name for p in OUT.iterdir())}")


if __name__ == "__main__":
    main()

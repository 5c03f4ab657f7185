"""Write tests/autograd/golden/autograd_ops.npz: torch's values, grad_fn names and gradients
for the op cases in tests/autograd/test_ops_cases.py, so the default suite checks Ember's
autograd without torch. Run: python tools/make_golden_autograd.py (needs torch)."""
import json
import pathlib
import sys

import numpy as np
import torch

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "autograd"))

from test_ops_cases import CASES, inputs_for  # noqa: E402


def main():
    arrays, meta = {}, {}
    for name, (shapes, fn, kw) in CASES.items():
        data = inputs_for(name, shapes, kw)
        ts = [torch.tensor(d, requires_grad=True) for d in data]
        out = fn(torch, *ts)
        outs = out if isinstance(out, tuple) else (out,)
        total = sum((o * (k + 1.0)).sum() for k, o in enumerate(outs) if o.requires_grad)
        total.backward()
        for i, d in enumerate(data):
            arrays[f"{name}/in{i}"] = d
            if ts[i].grad is not None:
                arrays[f"{name}/grad{i}"] = ts[i].grad.numpy()
        for k, o in enumerate(outs):
            arrays[f"{name}/out{k}"] = o.detach().numpy()
        meta[name] = [type(o.grad_fn).__name__ if o.grad_fn is not None else None for o in outs]
    out_dir = ROOT / "tests" / "autograd" / "golden"
    out_dir.mkdir(exist_ok=True)
    np.savez_compressed(out_dir / "autograd_ops.npz", **arrays)
    (out_dir / "autograd_ops.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(meta)} cases")


if __name__ == "__main__":
    main()

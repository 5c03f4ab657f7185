"""Write tests/autograd/nn/golden/vision_ops.{npz,json}: torch's results for the vision-model
ops (``tests/autograd/nn/vision_ops_cases.py``) and its module reprs.

Run with torch installed: ``python tools/make_golden_vision_ops.py``. The default suite
(``tests/autograd/nn/test_vision_ops_golden.py``) replays the cases on Ember without torch.
Inputs are not stored: ``nn_cases.make_inputs`` remakes them from the seed.
"""
import json
import pathlib
import sys

import numpy as np
import torch
import torch.nn.functional as TF

ROOT = pathlib.Path(__file__).resolve().parents[1]
HERE = ROOT / "tests" / "autograd" / "nn"
sys.path.insert(0, str(HERE))

from nn_compare import run_case  # noqa: E402
from vision_ops_cases import CASES, REPRS  # noqa: E402


def main():
    out = HERE / "golden"
    arrays, names = {}, {}
    for name, specs, fn in CASES:
        values, grad_fns, grads, _ = run_case(torch, TF, specs, fn, seed=7)
        for i, v in enumerate(values):
            arrays[f"{name}/out{i}"] = v
        for i, g in enumerate(grads):
            if g is not None:
                arrays[f"{name}/grad{i}"] = g
        names[name] = grad_fns
    np.savez_compressed(out / "vision_ops.npz", **arrays)
    meta = {"grad_fns": names, "reprs": [repr(make(torch.nn)) for make in REPRS]}
    (out / "vision_ops.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {len(arrays)} arrays and {len(REPRS)} reprs to {out}")


if __name__ == "__main__":
    main()

"""Write tests/autograd/nn/golden/: torch's results for every nn case, and module reprs.

Run with torch installed: ``python tools/make_golden_nn_modules.py``. The default test suite
(``tests/autograd/nn/test_nn_golden.py``) replays the same inputs on Ember without torch.
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

from nn_cases import CASES  # noqa: E402
from nn_compare import run_case  # noqa: E402
from nn_models import REPRS, _build, _strip_bias  # noqa: E402


def main():
    out = HERE / "golden"
    out.mkdir(exist_ok=True)
    arrays, names = {}, {}
    for name, specs, fn in CASES:
        values, grad_fns, grads, inputs = run_case(torch, TF, specs, fn, seed=7)
        for i, a in enumerate(inputs):
            arrays[f"{name}/in{i}"] = a
        for i, v in enumerate(values):
            arrays[f"{name}/out{i}"] = v
        for i, g in enumerate(grads):
            if g is not None:
                arrays[f"{name}/grad{i}"] = g
        names[name] = grad_fns
    np.savez_compressed(out / "nn_functional.npz", **arrays)
    model = _build(torch.nn)
    sd = model.state_dict()
    meta = {
        "grad_fns": names,
        "reprs": [_strip_bias(repr(make(torch.nn))) for make in REPRS],
        "model_repr": _strip_bias(repr(model)),
        "state_dict_keys": list(sd.keys()),
        "metadata": {k: v for k, v in sd._metadata.items()},
    }
    (out / "nn_modules.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {len(arrays)} arrays and {len(REPRS)} reprs to {out}")


if __name__ == "__main__":
    main()

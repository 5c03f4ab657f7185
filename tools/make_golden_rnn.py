"""Write tests/autograd/nn/golden/rnn.npz: torch's outputs and gradients for every RNN case.

Run with torch installed: ``python tools/make_golden_rnn.py``. The default suite
(``tests/autograd/nn/test_rnn.py``) replays the same seeded cases on Ember without torch.
"""
import pathlib
import sys

import numpy as np
import torch

HERE = pathlib.Path(__file__).resolve().parents[1] / "tests" / "autograd" / "nn"
sys.path.insert(0, str(HERE))

from rnn_cases import CASES, run_rnn_case  # noqa: E402


def main():
    arrays = {}
    for name in CASES:
        values, grads = run_rnn_case(torch, name)
        for i, v in enumerate(values):
            arrays[f"{name}/out{i}"] = v
        for i, g in enumerate(grads):
            arrays[f"{name}/grad{i}"] = g
    np.savez_compressed(HERE / "golden" / "rnn.npz", **arrays)
    print(f"wrote {len(arrays)} arrays for {len(CASES)} cases")


if __name__ == "__main__":
    main()

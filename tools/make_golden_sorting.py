"""Write tests/autograd/golden/sorting.json: what torch prints (or raises) for each case in
tests/autograd/sorting_cases.py (issue 14's sorting, scatter, counting and diagonal ops), so
that tests/autograd/test_ops_sorting.py checks Ember's values, indices, dtypes, return types,
grad_fn names, gradients and errors without torch.
Run: python tools/make_golden_sorting.py (needs torch)."""
import json
import pathlib
import sys
import warnings

import torch

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "autograd"))

from dropin_helpers import outcome  # noqa: E402
from sorting_cases import ALL_CASES  # noqa: E402

OUT = ROOT / "tests" / "autograd" / "golden" / "sorting.json"


def main():
    golden = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scatter(reduce=)'s deprecation; tested on its own
        for name, fn in ALL_CASES.items():
            golden[name] = list(outcome(torch, fn))
    OUT.write_text(json.dumps(golden, indent=0, sort_keys=True) + "\n")
    print(f"wrote {len(golden)} cases to {OUT}")


if __name__ == "__main__":
    main()

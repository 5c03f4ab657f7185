"""Write tests/autograd/nn/golden/backward_hooks.json: what torch's module backward hooks see.

Run with torch installed: ``python tools/make_golden_backward_hooks.py``. The default suite
(``tests/autograd/nn/test_module_backward_hooks.py``) replays the scenarios on Ember.
"""
import json
import pathlib
import sys

import torch

HERE = pathlib.Path(__file__).resolve().parents[1] / "tests" / "autograd" / "nn"
sys.path.insert(0, str(HERE))

from backward_hook_cases import SCENARIOS  # noqa: E402


def main():
    logs = {s.__name__: s(torch) for s in SCENARIOS}
    (HERE / "golden" / "backward_hooks.json").write_text(json.dumps(logs, indent=1) + "\n")
    print(f"wrote {len(logs)} scenarios")


if __name__ == "__main__":
    main()

"""Write tests/autograd/golden/ops_extra.json: torch's outputs, input gradients, grad_fn
names and errors for the cases of tests/autograd/ops_extra_cases.py (log10, lerp, addcmul,
addcdiv, softmax forms, torch.linalg, einsum, the new random/out=/error rules).
Run: ``python tools/make_golden_ops_extra.py`` (needs torch)."""
import json
import pathlib
import sys

import torch

TESTS = pathlib.Path(__file__).resolve().parents[1] / "tests" / "autograd"
sys.path.insert(0, str(TESTS))
import ops_extra_cases as C  # noqa: E402

OUT = TESTS / "golden" / "ops_extra.json"


def main():
    torch.set_default_dtype(torch.float32)
    golden = {"cases": {}, "errors": {}}
    for name in C.CASES:
        outs, grads, names = C.run(torch, name)
        golden["cases"][name] = {"outputs": [o.tolist() for o in outs],
                                 "grads": [g.tolist() for g in grads], "grad_fns": names}
    for name in C.ERRORS:
        golden["errors"][name] = C.error(torch, name)
    OUT.write_text(json.dumps(golden, indent=0, sort_keys=True) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()

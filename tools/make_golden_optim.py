"""Write tests/autograd/optim/golden/: torch's optimizer trajectories, reprs, state-dict
layouts and learning-rate schedules, so the default (torch-free) suite checks ember.optim
against torch's numbers.

    python tools/make_golden_optim.py

The cases are defined in tests/autograd/optim/optim_cases.py, shared with the tests.
"""
import importlib.util
import json
import pathlib

import numpy as np
import torch

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "autograd" / "optim" / "golden"
_spec = importlib.util.spec_from_file_location(
    "optim_cases", ROOT / "tests" / "autograd" / "optim" / "optim_cases.py")
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for name, cls, kwargs in cases.OPTIMIZER_CASES:
        arrays.update({f"{name}/{k}": v for k, v in cases.run_trajectory(torch, cls, kwargs).items()})
    np.savez_compressed(OUT / "optim_trajectories.npz", **arrays)

    meta = {"reprs": {}, "schedules": {}, "state_keys": {}}
    for name, cls, kwargs in cases.REPR_CASES:
        meta["reprs"][name] = repr(getattr(torch.optim, cls)(cases.repr_params(torch), **kwargs))
    for name, cls, kwargs in cases.OPTIMIZER_CASES:
        meta["state_keys"][name] = cases.state_layout(torch, cls, kwargs)
    for name, sched, kwargs, opt in cases.SCHEDULE_CASES:
        meta["schedules"][name] = cases.run_schedule(torch, sched, kwargs, opt)
    (OUT / "optim_meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(arrays)} arrays and {sum(len(v) for v in meta.values())} entries to {OUT}")


if __name__ == "__main__":
    main()

"""Runs one tutorial script with a chosen framework, in a scratch folder."""
import pathlib
import random
import runpy

import numpy as np

import tutorial_imports

HERE = pathlib.Path(__file__).parent
TUTORIALS = sorted(p.stem for p in (HERE / "tutorials").glob("*.py"))

# scripts stopped by something Ember lacks: strict, so each flips to a failure (and this
# entry must go) as soon as the missing piece lands
MISSING: dict[str, str] = {}


def run_tutorial(name, torch, torchvision, data, workdir, monkeypatch):
    monkeypatch.setattr(tutorial_imports, "torch", torch)
    monkeypatch.setattr(tutorial_imports, "torchvision", torchvision)
    monkeypatch.setattr(tutorial_imports, "DATA", data)
    monkeypatch.chdir(workdir)
    torch.manual_seed(0)
    random.seed(0)
    np.random.seed(0)
    return runpy.run_path(str(HERE / "tutorials" / f"{name}.py"), run_name="__main__")

"""No package's modules import each other in a loop at import time (tools/check_import_cycles.py).

A cycle makes the import order fragile (a module sees its partner half-initialised) and is what
pushed ember into sys.modules look-ups and function-level imports; this keeps new ones out.
"""
import importlib.util
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "check_import_cycles", ROOT / "tools" / "check_import_cycles.py")
checker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(checker)

# How many cycles each package still has; 0 is the goal. ember's one: ember.autograd.functional,
# ember.autograd.gradcheck and ember.nn.functional ``import ember`` (the package being
# initialised), so every module below them that is imported through ember.autograd or ember.nn
# closes a loop through ember/__init__.py. Its membership grows with each new op module, so
# only the count is pinned, and the bottom layer is pinned to stay out of it.
KNOWN_CYCLE_COUNT = {"tensor": 0, "autograd": 1, "vision": 0}
# ember.Tensor and what it stands on, plus the graph machinery: never in a cycle.
BOTTOM = ("ember._tensor", "ember._grad_mode", "ember._hooks", "ember._device", "ember._creation",
          "ember.autograd._graph", "ember.autograd.node", "ember.autograd.views",
          "ember.autograd.engine", "ember.autograd.grad_mode", "ember.autograd.anomaly_mode")


@pytest.mark.parametrize("folder", sorted(checker.PACKAGES))
def test_no_import_cycle_inside_the_package(folder):
    edges, _ = checker.graph(folder)
    found = checker.cycles(edges)
    assert len(found) == KNOWN_CYCLE_COUNT[folder], found
    in_cycles = {m for component in found for m in component}
    assert not in_cycles & set(BOTTOM)


def test_the_checker_finds_a_cycle_and_ignores_function_level_imports(tmp_path, monkeypatch):
    pkg = tmp_path / "packages" / "demo" / "src" / "demo"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .b import f\n")
    (pkg / "b.py").write_text("from . import a\n\ndef f():\n    from .c import g\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                              "    from .b import f\nimport demo.b\n")
    monkeypatch.setattr(checker, "ROOT", tmp_path)
    monkeypatch.setitem(checker.PACKAGES, "demo", "demo")
    edges, late = checker.graph("demo")
    assert edges["demo.c"] == {"demo.b"}
    assert checker.cycles(edges) == [["demo.a", "demo.b"]]
    assert late == ["packages/demo/src/demo/b.py:4: demo.c"]

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

# ember.Tensor and what it stands on, plus the graph machinery every op records through
# (ember._core, below ember.autograd so that importing it never runs autograd's __init__).
BOTTOM = ("ember._tensor", "ember._generated_tensor_ops", "ember._grad_mode",
          "ember._anomaly_mode", "ember._hooks", "ember._device", "ember._creation",
          "ember._core", "ember._core.tensor_base", "ember._core.graph_base", "ember._core._graph",
          "ember._core.node", "ember._core.views", "ember._core.engine", "ember._core.entry",
          "ember._core._backward_steps", "ember._core._record_compiled",
          "ember._core._engine_compiled")


@pytest.mark.parametrize("folder", sorted(checker.PACKAGES))
def test_no_import_cycle_inside_the_package(folder):
    edges, _ = checker.graph(folder)
    found = checker.cycles(edges)
    assert found == []


def test_the_bottom_imports_nothing_above_it():
    """What every op imports must not reach ember.autograd, ember.nn or the ops themselves
    at import time: those import the bottom, so any such edge would close a cycle."""
    edges, _ = checker.graph("autograd")
    for module in BOTTOM:
        assert edges[module] <= set(BOTTOM), module


def test_the_checker_finds_a_cycle_and_ignores_function_level_imports(tmp_path, monkeypatch):
    pkg = tmp_path / "packages" / "demo" / "src" / "demo"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .b import f\n")
    (pkg / "b.py").write_text("from . import a\n\ndef f():\n    from .c import g\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                              "    from .b import f\nimport demo.b\n")
    # a Cython module's parenthesised name list over several lines
    (pkg / "d.pyx").write_text("from demo.a import (\n    f,\n)\n")
    monkeypatch.setattr(checker, "ROOT", tmp_path)
    monkeypatch.setitem(checker.PACKAGES, "demo", "demo")
    edges, late = checker.graph("demo")
    assert edges["demo.c"] == {"demo.b"}
    assert edges["demo.d"] == {"demo.a"}
    assert checker.cycles(edges) == [["demo.a", "demo.b"]]
    assert late == ["packages/demo/src/demo/b.py:4: demo.c"]

"""Each benchmark worker imports only its own framework: the case files take its modules by
role from benchmarks/frameworks.py, and run.py's worker checks nothing else came in."""
import importlib.util
import pathlib
import subprocess
import sys

import pytest

BENCH = pathlib.Path(__file__).resolve().parents[2] / "benchmarks"


def _run_module():
    spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_check_alone_refuses_the_other_framework():
    run = _run_module()
    run.check_alone("ember", {"ember": 1, "numpy": 1})
    run.check_alone("torch", {"torch": 1})
    with pytest.raises(RuntimeError, match="the ember worker imported torch"):
        run.check_alone("ember", {"ember": 1, "torch": 1})
    with pytest.raises(RuntimeError, match="the torch worker imported ember_tensor"):
        run.check_alone("torch", {"torch": 1, "ember_tensor": 1})


@pytest.mark.parametrize("name", ["ops_elementwise", "ops_conv", "e2e"])
def test_ember_cases_never_import_torch(name):
    """In a fresh process, as a worker runs them: build the ember cases, then check."""
    code = f"""
import importlib.util, sys
sys.path[:0] = [{str(BENCH)!r}, {str(BENCH.parent / "tools")!r}]
def load(name):
    spec = importlib.util.spec_from_file_location(name, {str(BENCH)!r} + "/" + name + ".py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
cases = load({name!r}).cases
made = cases("ember", quick=True) if {name!r} == "e2e" else cases("ember")
assert made
load("run").check_alone("ember")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]

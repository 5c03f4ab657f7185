"""The compiled core (``ember/_core/*.pyx``) and its readable pure-Python reference
(``EMBER_PURE_PYTHON_CORE=1``) give the same gradients on graphs that exercise every path of
``record`` and the engine: multiple outputs, views and in-place ops, hooks, double backward,
retain_graph, accumulation, captured inputs with broadcasting, custom Functions, a CNN step.

The switch is read at import, so each side runs core_reference_cases.py in a process of its
own."""
import os
import pathlib
import pickle
import subprocess
import sys

import numpy as np

CASES = pathlib.Path(__file__).with_name("core_reference_cases.py")


def _run(tmp_path, pure):
    env = dict(os.environ)
    env.pop("EMBER_PURE_PYTHON_CORE", None)
    if pure:
        env["EMBER_PURE_PYTHON_CORE"] = "1"
    out = tmp_path / ("pure.pkl" if pure else "compiled.pkl")
    subprocess.run([sys.executable, str(CASES), str(out)], env=env, check=True, timeout=120)
    with open(out, "rb") as f:
        return pickle.load(f)


def test_reference_and_compiled_core_give_identical_gradients(tmp_path):
    compiled = _run(tmp_path, pure=False)
    pure = _run(tmp_path, pure=True)
    # each side really ran the implementation it names
    assert compiled.pop("compiled") == ["cython_function_or_method"] * 2
    assert pure.pop("compiled") == ["function", "function"]
    assert compiled.keys() == pure.keys() and len(compiled) == 9
    for name, grads in compiled.items():
        assert len(grads) == len(pure[name]) > 0, name
        for k, (a, b) in enumerate(zip(grads, pure[name])):
            assert a.dtype == b.dtype and a.shape == b.shape, (name, k)
            np.testing.assert_array_equal(a, b, err_msg=f"{name}[{k}]")

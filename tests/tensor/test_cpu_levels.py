"""The portable build's per-CPU-level kernel copies: which one loads, and EMBER_CPU's rules.

Each level's numbers are checked by running the whole kernel suite under it (the ``levels``
tox env, ``tools/run_cpu_levels.py``); here, that the choice itself is right.
"""
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import ember_tensor as et
from ember_tensor import _kernels
from ember_tensor._kernels import cpu_features

KERNEL_MODULES = ("binary", "unary", "strided", "reduce", "softmax", "layer_norm", "norm",
                  "max_pool", "avg_pool", "pool_windows", "im2col", "winograd", "optim",
                  "nll_loss", "embedding", "parallel")
PORTABLE = not cpu_features.native_build()


def _run(code, level=None):
    env = {k: v for k, v in os.environ.items() if k != "EMBER_CPU"}
    if level is not None:
        env["EMBER_CPU"] = level
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120)


def test_supported_levels_are_a_prefix_of_the_ladder():
    levels = et.supported_cpu_levels()
    assert levels == _kernels.LEVELS[:len(levels)] and levels[0] == "baseline"
    if not cpu_features.is_x86_64():
        assert levels == ("baseline",)


@pytest.mark.skipif(not PORTABLE, reason="an EMBER_NATIVE=1 build has one copy")
def test_unforced_choice_is_the_best_level_this_cpu_runs():
    if os.environ.get("EMBER_CPU"):
        assert et.cpu_level() == os.environ["EMBER_CPU"]
    else:
        assert et.cpu_level() == et.supported_cpu_levels()[-1]


@pytest.mark.skipif(not PORTABLE, reason="an EMBER_NATIVE=1 build has one copy")
def test_every_kernel_module_comes_from_the_chosen_levels_folder():
    folder = pathlib.Path(_kernels.__file__).parent
    if et.cpu_level() != "baseline":
        folder = folder / f"_{et.cpu_level()}"
    for name in KERNEL_MODULES:
        module = sys.modules.get(f"ember_tensor._kernels.{name}")
        if module is None:
            module = __import__(f"ember_tensor._kernels.{name}", fromlist=["_"])
        assert pathlib.Path(module.__file__).parent == folder, name
    # the chooser itself is only ever the baseline copy
    assert pathlib.Path(cpu_features.__file__).parent == pathlib.Path(_kernels.__file__).parent


@pytest.mark.skipif(not PORTABLE, reason="an EMBER_NATIVE=1 build has one copy")
@pytest.mark.parametrize("level", ["baseline", "avx2", "avx512"])
def test_forced_level_loads_that_copy_and_computes(level):
    if level not in et.supported_cpu_levels():
        pytest.skip(f"this CPU does not run {level}")
    code = ("import sys, numpy as np, ember_tensor as et, ember_tensor._kernels.softmax\n"
            "x = et.from_numpy(np.linspace(-3, 3, 1001, dtype=np.float32))\n"
            "print(et.cpu_level(), sys.modules['ember_tensor._kernels.softmax'].__file__)\n"
            "print(repr(float(x.exp().sum())))\n")
    proc = _run(code, level)
    assert proc.returncode == 0, proc.stderr
    first, total = proc.stdout.splitlines()
    name, path = first.split()
    assert name == level
    assert (f"_{level}" in pathlib.Path(path).parent.name) == (level != "baseline")
    want = float(np.exp(np.linspace(-3, 3, 1001, dtype=np.float64)).sum())
    assert float(total) == pytest.approx(want, rel=1e-5)


@pytest.mark.parametrize("value", ["sse9", "AVX-512", "native"])
def test_unknown_level_is_refused_at_import(value):
    proc = _run("import ember_tensor", value)
    assert proc.returncode != 0
    if PORTABLE:
        assert "EMBER_CPU must be one of baseline, avx2, avx512" in proc.stderr
    assert "RuntimeError" in proc.stderr


def test_level_names_are_case_insensitive():
    proc = _run("import ember_tensor as et; print(et.cpu_level())", "BASELINE")
    if PORTABLE:
        assert proc.returncode == 0 and proc.stdout.strip() == "baseline"


def test_a_level_the_cpu_lacks_is_refused_not_run(monkeypatch):
    # as on an AVX2-only machine: asking for AVX-512 must not reach an illegal instruction
    monkeypatch.setattr(cpu_features, "supported_levels", lambda: ("baseline", "avx2"))
    monkeypatch.setattr(cpu_features, "native_build", lambda: False)
    with pytest.raises(RuntimeError, match="cannot execute.*baseline, avx2"):
        _kernels._choose_level("avx512")
    monkeypatch.setattr(_kernels, "_complete", lambda level: True)
    assert _kernels._choose_level("") == "avx2"
    assert _kernels._choose_level("baseline") == "baseline"


def test_a_missing_copy_falls_back_or_is_refused_when_asked_for(monkeypatch):
    monkeypatch.setattr(cpu_features, "supported_levels",
                        lambda: ("baseline", "avx2", "avx512"))
    monkeypatch.setattr(cpu_features, "native_build", lambda: False)
    monkeypatch.setattr(_kernels, "_complete", lambda level: level != "avx512")
    assert _kernels._choose_level("") == "avx2"
    with pytest.raises(RuntimeError, match="no avx512 kernels"):
        _kernels._choose_level("avx512")


def test_a_native_build_refuses_a_forced_level(monkeypatch):
    monkeypatch.setattr(cpu_features, "native_build", lambda: True)
    assert _kernels._choose_level("") == "native"
    with pytest.raises(RuntimeError, match="EMBER_NATIVE=1"):
        _kernels._choose_level("avx2")

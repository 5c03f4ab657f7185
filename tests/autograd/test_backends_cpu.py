"""``ember.backends.cpu.get_cpu_capability`` names the kernel copy in use as torch does."""
import os
import subprocess
import sys

import pytest

import ember
import ember.backends.cpu
import ember_tensor


def test_capability_names_the_loaded_level():
    names = {"baseline": "DEFAULT", "avx2": "AVX2", "avx512": "AVX512"}
    level = ember_tensor.cpu_level()
    expected = names[ember_tensor.supported_cpu_levels()[-1] if level == "native" else level]
    assert ember.backends.cpu.get_cpu_capability() == expected


@pytest.mark.parametrize("level,name", [("baseline", "DEFAULT"), ("avx2", "AVX2")])
def test_capability_follows_a_forced_level(level, name):
    if level not in ember_tensor.supported_cpu_levels() or ember_tensor.cpu_level() == "native":
        pytest.skip(f"{level} cannot be forced on this CPU or build")
    proc = subprocess.run(
        [sys.executable, "-c", "import ember; print(ember.backends.cpu.get_cpu_capability())"],
        env={**os.environ, "EMBER_CPU": level}, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == name

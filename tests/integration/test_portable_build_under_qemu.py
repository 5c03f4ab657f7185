"""The installed build runs on older x86-64 CPUs: a ResNet-18 training step under emulation.

A build that compiled its kernels for the building machine (``-march=native``) dies with
SIGILL at import on a CPU without that machine's instructions. Here the installed packages
(built with the default, portable settings) run under ``qemu-x86_64 -cpu Haswell`` (AVX2, no
AVX-512) and ``-cpu Nehalem`` (SSE4.2, no AVX: NumPy's own minimum), and must pick the
matching kernel copy and train. CI installs qemu-user (``.ci/run``); there a missing emulator
is a failure, elsewhere a skip.
"""
import os
import platform
import shutil
import subprocess
import sys

import numpy as np
import pytest

from ember_tensor._kernels import cpu_features

QEMU = shutil.which("qemu-x86_64")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"),
                       reason="the kernel levels are x86-64's"),
    pytest.mark.skipif(cpu_features.native_build(),
                       reason="an EMBER_NATIVE=1 build is for its building CPU only"),
]

TRAINING_STEP = """
import ember, ember_tensor
from ember import nn, optim
from ember_vision.models import resnet18

ember.manual_seed(0)
model = resnet18(num_classes=4)
opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
x, y = ember.randn(2, 3, 32, 32), ember.tensor([1, 3])
before = model.fc.weight.detach().clone()
loss = nn.functional.cross_entropy(model(x), y)
opt.zero_grad()
loss.backward()
opt.step()
moved = float((model.fc.weight.detach() - before).abs().sum())
print(ember_tensor.cpu_level(), float(loss), moved)
"""


def _emulated(cpu, code):
    if QEMU is None:
        if os.environ.get("CI"):
            pytest.fail("qemu-x86_64 is missing in CI: .ci/run installs Debian's qemu-user")
        pytest.skip("qemu-x86_64 not installed (Debian package qemu-user)")
    # The emulated CPU is another machine: settings that pin a library to the host's CPU
    # (OpenBLAS's core type, set on some hosts here; NumPy's or Ember's level) would run
    # the host's instructions on it. Each library detects the emulated CPU itself instead.
    host_only = ("EMBER_CPU", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "NPY_DISABLE_CPU_FEATURES")
    env = {k: v for k, v in os.environ.items() if k not in host_only}
    # qemu warns once per CPUID feature its TCG lacks; those lines are not the program's
    proc = subprocess.run([QEMU, "-cpu", cpu, sys.executable, "-c", code], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-3000:])
    return proc.stdout.split()


def test_resnet18_training_step_on_an_avx2_cpu():
    level, loss, moved = _emulated("Haswell", TRAINING_STEP)
    assert level == "avx2"
    # finite, near ln(4) for a fresh 4-class head, and the step changed the weights
    assert 0.1 < float(loss) < 10 and float(moved) > 0


def test_baseline_kernels_on_a_cpu_without_avx():
    code = ("import numpy as np, ember, ember_tensor\n"
            "x = ember.tensor(np.linspace(-2, 2, 4096, dtype=np.float32), requires_grad=True)\n"
            "y = (x.exp() * x.sigmoid()).sum()\n"
            "y.backward()\n"
            "print(ember_tensor.cpu_level(), float(y), float(x.grad.sum()))\n")
    level, value, grad = _emulated("Nehalem", code)
    assert level == "baseline"
    xs = np.linspace(-2, 2, 4096, dtype=np.float32).astype(np.float64)
    want = float((np.exp(xs) / (1 + np.exp(-xs))).sum())
    assert float(value) == pytest.approx(want, rel=1e-5)
    assert float(grad) > 0

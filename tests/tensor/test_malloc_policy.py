"""ember_tensor's malloc policy (_malloc_policy): big freed blocks stay with glibc for reuse,
unless the user set malloc's thresholds; reused memory never shows stale contents where
zeros are due."""
import os
import platform
import subprocess
import sys

import numpy as np
import pytest

from ember_tensor import _malloc_policy, from_numpy
from ember_tensor.nn import pooling

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt only")

# In a fresh process: minor page faults of a second 64 MiB np.ones after the first was
# freed, and whether the policy was applied.
_REUSE = """
import resource, numpy as np, ember_tensor
from ember_tensor import _malloc_policy
n = 16 << 20
a = np.ones(n, np.float32); del a
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
b = np.ones(n, np.float32)
print(_malloc_policy.applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""

_MALLOC_VARS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")


def _reuse(**env_changes):
    env = {k: v for k, v in os.environ.items() if k not in _MALLOC_VARS}
    env.update(env_changes)
    out = subprocess.run([sys.executable, "-c", _REUSE], env=env, capture_output=True,
                         text=True, check=True)
    applied, faults = out.stdout.split()
    return applied == "True", int(faults)


@glibc
def test_a_freed_big_block_is_reused_without_faults():
    applied, faults = _reuse()
    assert applied
    # 64 MiB fresh from the kernel: 16384 faults (32 with huge pages); reused: none
    assert faults <= 8


@glibc
@pytest.mark.parametrize("given", [{"MALLOC_TRIM_THRESHOLD_": "0"},
                                   {"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=131072"}])
def test_the_users_malloc_settings_are_kept(given):
    applied, faults = _reuse(**given)
    assert not applied
    assert faults > 8  # the block went back to the kernel and came back fresh


@pytest.mark.parametrize("environ,expected", [
    ({}, False),
    ({"GLIBC_TUNABLES": "glibc.pthread.rseq=0"}, False),
    ({"GLIBC_TUNABLES": "glibc.pthread.rseq=0:glibc.malloc.trim_threshold=0"}, True),
    ({"MALLOC_MMAP_THRESHOLD_": "65536"}, True),
    ({"MALLOC_TRIM_THRESHOLD_": "0"}, True),
])
def test_user_set(environ, expected):
    assert _malloc_policy.user_set(environ) is expected


def test_calloc_of_a_reused_block_is_zero():
    n = 12 << 20  # 48 MiB: above glibc's default mmap ceiling
    a = np.full(n, np.nan, np.float32)
    del a
    assert not np.zeros(n, np.float32).any()


@pytest.mark.parametrize("zeroed_bytes", [None, 0])
def test_max_pool_backward_on_a_reused_block_starts_from_zeros(monkeypatch, zeroed_bytes):
    # grad_input of 16x64x56x56 float32 (12.8 MB) lands where the NaN block was freed
    monkeypatch.setattr(pooling, "ZEROED_ALLOCATION_BYTES", zeroed_bytes)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((16, 64, 56, 56)).astype(np.float32)
    out, idx = pooling.max_pool2d_with_indices(from_numpy(x), 3, 2, 1)
    go = rng.standard_normal(out.shape).astype(np.float32)
    junk = np.full(x.size, np.nan, np.float32)
    del junk
    gx = pooling.max_pool2d_backward(from_numpy(go), from_numpy(x), idx)._np
    want = np.zeros(x.shape, np.float32).reshape(16 * 64, -1)
    for p in range(want.shape[0]):
        np.add.at(want[p], idx._np.reshape(16 * 64, -1)[p], go.reshape(16 * 64, -1)[p])
    np.testing.assert_allclose(gx, want.reshape(x.shape), rtol=1e-6, atol=1e-6)
    assert not np.isnan(gx).any()

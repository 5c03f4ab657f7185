"""The OpenMP wait variables: Ember's own pool needs none and sets none (they would reach a
torch in the same process); a build on another OpenMP runtime sets its brief-spin policy
before that runtime starts."""
import os
import subprocess
import sys

import pytest

from ember_tensor._kernels import parallel

_SHOW = ("import os, ember_tensor; "
         "print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT'))")


def _run(**env_changes):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env.update(env_changes)
    out = subprocess.run([sys.executable, "-c", _SHOW], env=env, capture_output=True,
                         text=True, check=True)
    return out.stdout.split()


_CASES = [
    # (the user's settings, what Ember's pool leaves, what a libgomp build sets)
    ({}, ["None", "None"], ["PASSIVE", "1000"]),
    ({"GOMP_SPINCOUNT": "50"}, ["None", "50"], ["PASSIVE", "50"]),
    ({"OMP_WAIT_POLICY": "ACTIVE"}, ["ACTIVE", "None"], ["ACTIVE", "None"]),
]


@pytest.mark.parametrize("given,with_pool,with_libgomp", _CASES)
def test_wait_policy_defaults(given, with_pool, with_libgomp):
    expected = with_pool if parallel.own_pool() else with_libgomp
    assert _run(**given) == expected

"""The OpenMP wait policy ember_tensor sets before any OpenMP runtime starts."""
import os
import subprocess
import sys

import pytest

_SHOW = ("import os, ember_tensor; "
         "print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT'))")


def _run(**env_changes):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env.update(env_changes)
    out = subprocess.run([sys.executable, "-c", _SHOW], env=env, capture_output=True,
                         text=True, check=True)
    return out.stdout.split()


@pytest.mark.parametrize("given,expected", [
    ({}, ["PASSIVE", "1000"]),                       # brief spin, then sleep
    ({"GOMP_SPINCOUNT": "50"}, ["PASSIVE", "50"]),   # the user's spin count stays
    ({"OMP_WAIT_POLICY": "ACTIVE"}, ["ACTIVE", "None"]),  # the user's policy rules alone
])
def test_wait_policy_defaults(given, expected):
    assert _run(**given) == expected

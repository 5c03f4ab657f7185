"""Module backward-hook scenarios run live on torch and Ember, logs compared."""
import pathlib
import sys

import pytest

import ember

torch = pytest.importorskip("torch")
sys.path.insert(0, str(pathlib.Path(__file__).parent))

from backward_hook_cases import SCENARIOS  # noqa: E402


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_scenario_matches_torch(scenario):
    assert scenario(ember) == scenario(torch)

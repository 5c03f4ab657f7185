"""Each official-tutorial script of tests/compat/tutorials runs end to end on Ember
(``import ember as torch``, ``import ember_vision as torchvision``) on small local data."""
import pytest

import ember
import ember_vision
from tutorial_runner import MISSING, TUTORIALS, run_tutorial


def _param(name):
    marks = [pytest.mark.xfail(strict=True, reason=MISSING[name])] if name in MISSING else []
    return pytest.param(name, marks=marks)


@pytest.mark.parametrize("name", [_param(n) for n in TUTORIALS])
def test_tutorial_runs_on_ember(name, tutorial_data, tmp_path, monkeypatch):
    run_tutorial(name, ember, ember_vision, tutorial_data, tmp_path, monkeypatch)

"""The tutorial scripts' helpers (tutorial_imports, tutorial_runner) on sys.path, and the
small local datasets, made once per session."""
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))

from tutorial_data import make_tutorial_data  # noqa: E402


@pytest.fixture(scope="session")
def tutorial_data(tmp_path_factory):
    return make_tutorial_data(tmp_path_factory.mktemp("tutorial_data"))

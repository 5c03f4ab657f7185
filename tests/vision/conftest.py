"""Fixtures the finetune command's test files share."""
import importlib.util
import pathlib

import pytest


@pytest.fixture(scope="session")
def cli_helpers():
    """test_cli.py's helpers (_colour_tree, _run, main): the suite imports test files by
    path (--import-mode=importlib), so they are loaded the same way."""
    spec = importlib.util.spec_from_file_location(
        "vision_test_cli_helpers", pathlib.Path(__file__).with_name("test_cli.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def no_training_plot(monkeypatch):
    """training.png (matplotlib) costs more than a tiny run; test_cli checks it is made."""
    import ember_vision.finetune

    monkeypatch.setattr(ember_vision.finetune, "_plot", lambda history, path: False)

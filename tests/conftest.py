"""Suite-wide pytest configuration.

Files named ``test_torch_*.py`` need live torch: they carry the ``torch`` marker, so the
``torch`` tox env selects them with ``-m torch`` and the other envs run them only when torch
is importable (they skip themselves otherwise).
"""
import os
import pathlib

import pytest

SHARED = pathlib.Path(__file__).resolve().parents[1].parent / "shared"


def pytest_configure(config):
    config.addinivalue_line("markers", "torch: needs torch installed (the oracle)")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name.startswith("test_torch_"):
            item.add_marker(pytest.mark.torch)


@pytest.fixture(scope="session")
def shared_dir():
    """``../shared`` beside the clone (CI and developers' machines); tests skip without it."""
    path = pathlib.Path(os.environ.get("EMBER_SHARED_DIR", SHARED))
    if not path.is_dir():
        pytest.skip("../shared is not present beside this clone")
    return path


def import_torchvision():
    """torchvision's Python parts (models, transforms, datasets, utils) beside CPU torch.

    The torchvision wheel on these machines is a CUDA build whose compiled ops do not load
    beside torch's CPU build; importing it fails while registering their meta kernels
    (``operator torchvision::nms does not exist``). The Python parts the oracle tests use
    need none of those ops, so the registration module is replaced by an empty one first.
    Skips the calling test when torch or torchvision is not installed.
    """
    import sys
    import types

    pytest.importorskip("torch")
    if "torchvision" not in sys.modules:
        sys.modules.setdefault(
            "torchvision._meta_registrations",
            types.ModuleType("torchvision._meta_registrations"))
    return pytest.importorskip("torchvision")


@pytest.fixture(scope="session")
def torchvision():
    """The torchvision oracle (see ``import_torchvision``)."""
    return import_torchvision()

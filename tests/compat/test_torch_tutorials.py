"""The same tutorial scripts under real torch and torchvision: they are faithful to the
tutorials' API, so anything that fails on Ember but passes here is Ember's gap."""
import pytest

from tutorial_runner import TUTORIALS, run_tutorial


@pytest.mark.parametrize("name", TUTORIALS)
def test_tutorial_runs_on_torch(name, torchvision, tutorial_data, tmp_path, monkeypatch):
    # ``torchvision``: tests/conftest.py's fixture (skips without torch/torchvision)
    import torch

    if name == "basics_data":
        _skip_without_torchvision_image_ops(torchvision)
    run_tutorial(name, torch, torchvision, tutorial_data, tmp_path, monkeypatch)


def _skip_without_torchvision_image_ops(torchvision):
    """torchvision.io.read_image needs torchvision's compiled image extension, which does
    not load when the torchvision wheel is a CUDA build beside CPU torch (these machines)."""
    import torch

    try:
        torchvision.io.decode_png(torch.zeros(0, dtype=torch.uint8))
    except RuntimeError as err:
        if "image extension" in str(err):
            pytest.skip("torchvision's compiled image extension does not load here")
    except Exception:
        pass  # the extension loaded and refused the empty input, as it should

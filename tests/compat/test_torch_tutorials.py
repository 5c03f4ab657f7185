"""The same tutorial scripts under real torch and torchvision: they are faithful to the
tutorials' API, so anything that fails on Ember but passes here is Ember's gap. Then both
runs' results are compared where they do not depend on random streams: the reprs of the
modules the script ends with, and its tensors' dtypes, shapes and grad_fn names."""
import re

import pytest

import ember
import ember_vision
from tutorial_runner import MISSING, TUTORIALS, run_tutorial


@pytest.mark.parametrize("name", TUTORIALS)
def test_tutorial_runs_on_torch(name, torchvision, tutorial_data, tmp_path, monkeypatch):
    # ``torchvision``: tests/conftest.py's fixture (skips without torch/torchvision)
    import torch

    if name == "basics_data":
        _skip_without_torchvision_image_ops(torchvision)
    run_tutorial(name, torch, torchvision, tutorial_data, tmp_path, monkeypatch)


@pytest.mark.parametrize("name", [n for n in TUTORIALS if n not in MISSING])
def test_tutorial_ends_as_on_torch(name, torchvision, tutorial_data, tmp_path, monkeypatch):
    import torch

    if name == "basics_data":
        _skip_without_torchvision_image_ops(torchvision)
    (tmp_path / "torch").mkdir()
    (tmp_path / "ember").mkdir()
    theirs = run_tutorial(name, torch, torchvision, tutorial_data, tmp_path / "torch",
                          monkeypatch)
    ours = run_tutorial(name, ember, ember_vision, tutorial_data, tmp_path / "ember",
                        monkeypatch)
    compared = 0
    for key in sorted(set(theirs) & set(ours)):
        t, e = theirs[key], ours[key]
        if isinstance(t, torch.nn.Module) and isinstance(e, ember.nn.Module):
            assert repr(e) == _as_ember(repr(t)), key
            compared += 1
        elif isinstance(t, torch.Tensor) and isinstance(e, ember.Tensor):
            facts = _tensor_facts(t)
            if facts[3] == "<kernel>":
                facts = facts[:3] + (_tensor_facts(e)[3],)
            assert _tensor_facts(e) == facts, key
            compared += 1
    assert compared


# grad_fn names that name one of torch's backend kernels rather than an op: Ember composes
# the recurrent layers from Tensor ops (README, "Where Ember differs ... on purpose")
_KERNEL_NODES = {"MkldnnRnnLayerBackward0"}


def _tensor_facts(t):
    grad_fn = type(t.grad_fn).__name__ if t.grad_fn is not None else None
    if grad_fn in _KERNEL_NODES:
        grad_fn = "<kernel>"
    return str(t.dtype).split(".")[-1], tuple(t.shape), t.requires_grad, grad_fn


def _as_ember(text):
    """torch's repr in Ember's words: the module prefix, and BatchNorm without torch
    2.13's ``bias=True`` (README, "Where Ember differs from PyTorch, on purpose")."""
    text = text.replace("torch.", "ember.")
    return "\n".join(re.sub(r", bias=True\b", "", line) if "BatchNorm" in line else line
                     for line in text.split("\n"))


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

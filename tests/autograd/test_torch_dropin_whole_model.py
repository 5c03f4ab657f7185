"""Whole-model files against live torch: both refuse a pickled module by default with an
UnpicklingError that starts alike, and both load it with weights_only=False; Ember refuses
torch's own pickled modules (torch classes) with an explanation."""
import pickle

import pytest

torch = pytest.importorskip("torch")

import ember  # noqa: E402


def test_same_refusal_kind(tmp_path):
    ember.save(ember.nn.Linear(2, 2), tmp_path / "e.pth")
    torch.save(torch.nn.Linear(2, 2), tmp_path / "t.pth")
    errors = []
    for lib, path in ((ember, "e.pth"), (torch, "t.pth")):
        with pytest.raises(pickle.UnpicklingError) as info:
            lib.load(tmp_path / path)
        errors.append(str(info.value))
    assert all(e.startswith("Weights only load failed. This file can still be loaded")
               for e in errors)
    assert all("WeightsUnpickler error: Unsupported global: GLOBAL " in e for e in errors)


def test_both_load_their_own_model(tmp_path):
    ember.save(ember.nn.Linear(2, 3), tmp_path / "e.pth")
    torch.save(torch.nn.Linear(2, 3), tmp_path / "t.pth")
    assert repr(ember.load(tmp_path / "e.pth", weights_only=False)) == repr(
        torch.load(tmp_path / "t.pth", weights_only=False))


def test_torch_model_file_is_explained(tmp_path):
    torch.save(torch.nn.Linear(2, 3), tmp_path / "t.pth")
    with pytest.raises(pickle.UnpicklingError, match="state_dict"):
        ember.load(tmp_path / "t.pth", weights_only=False)


def test_torch_state_dict_with_weights_only_false(tmp_path):
    torch.save(torch.nn.Linear(2, 3).state_dict(), tmp_path / "t.pth")
    state = ember.load(tmp_path / "t.pth", weights_only=False)
    model = ember.nn.Linear(2, 3)
    model.load_state_dict(state)
    assert model.weight.tolist() == state["weight"].tolist()

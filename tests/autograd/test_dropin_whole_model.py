"""Whole-model files, as tutorials write them: ``ember.save(model, PATH)`` pickles the module
and ``ember.load(PATH, weights_only=False)`` gives it back; the default loader
(weights_only=True) refuses such a file, as torch 2.6+ does, saying how to load it."""
import pickle

import pytest

import ember
import ember.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.BatchNorm1d(8))
        self.head = nn.Linear(8, 2)
        self.head_again = self.head  # shared: must come back as one module
        self.scale = 0.5
        self.register_buffer("steps", ember.tensor(7))

    def forward(self, x):
        return self.head(self.body(x)) * self.scale


def test_round_trip(tmp_path):
    ember.manual_seed(0)
    model = Net()
    model.body[2].running_mean.add_(1.0)
    model.eval()
    ember.save(model, tmp_path / "model.pth")
    back = ember.load(tmp_path / "model.pth", weights_only=False)
    assert type(back) is Net and not back.training
    assert back.head_again is back.head and back.scale == 0.5
    assert repr(back) == repr(model)
    x = ember.randn(3, 4)
    assert ember.equal(back(x), model(x))
    assert list(back.state_dict()) == list(model.state_dict())
    assert back.steps.item() == 7 and back.body[2].running_mean.tolist() == [1.0] * 8
    assert isinstance(back.head.weight, nn.Parameter) and back.head.weight.requires_grad
    # it trains: gradients reach the loaded parameters
    back.train()
    back(x).sum().backward()
    assert back.head.weight.grad is not None


def test_model_inside_a_checkpoint(tmp_path):
    model = nn.Linear(2, 2)
    ember.save({"epoch": 3, "model": model}, tmp_path / "ckpt.pth")
    back = ember.load(tmp_path / "ckpt.pth", weights_only=False)
    assert back["epoch"] == 3 and ember.equal(back["model"].weight, model.weight)


def test_default_loader_refuses_a_pickled_module(tmp_path):
    ember.save(nn.Linear(2, 2), tmp_path / "model.pth")
    with pytest.raises(pickle.UnpicklingError) as info:
        ember.load(tmp_path / "model.pth")
    text = str(info.value)
    assert text.startswith("Weights only load failed.")
    assert "`weights_only` set to `False`" in text
    assert "GLOBAL ember.nn.modules.linear.Linear" in text


def test_objects_other_than_modules_are_still_refused(tmp_path):
    with pytest.raises(TypeError, match="cannot serialize an object of type"):
        ember.save({"f": lambda x: x}, tmp_path / "x.pth")

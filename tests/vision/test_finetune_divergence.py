"""A run that diverges stops with a clear message, the last finite weights and status 1, and
predict refuses a model with non-finite outputs instead of printing nan%.

Divergence is forced on purpose: a NaN loss injected at a chosen step (exact, independent of
rounding), an lr of 1e30 (overflow by dozens of orders of magnitude), NaN weights on disk.
"""
import importlib.util
import json
import pathlib

import numpy as np
import pytest

import ember
import ember_vision.finetune as finetune_module
from ember import nn
from ember_vision import _divergence
from ember_vision.errors import TrainingDiverged
from ember_vision.finetune import _batch_slices, finetune
from ember_vision.models import resnet18

# the suite imports test files by path (--import-mode=importlib): load test_cli's helpers so
_spec = importlib.util.spec_from_file_location(
    "vision_test_cli", pathlib.Path(__file__).with_name("test_cli.py"))
_cli_tests = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_cli_tests)
_colour_tree, _run = _cli_tests._colour_tree, _cli_tests._run


def _strict_json(path):
    """metrics.json must be JSON, which has no NaN or Infinity."""
    def refuse(name):
        raise AssertionError(f"{path} holds {name}, which is not JSON")
    return json.loads(path.read_text(), parse_constant=refuse)


def _finite(state):
    return all(np.isfinite(v.numpy()).all() for v in state.values())


class _NaNAtTrainingStep:
    """CrossEntropyLoss whose n-th training call (grad enabled) returns NaN; it records the
    model's state at every training call, so the test knows what "before the step" was."""

    real_loss = nn.CrossEntropyLoss  # the class, taken before the test patches the name

    def __init__(self, model_box, bad_call, seen):
        self.real, self.box, self.bad_call, self.seen = self.real_loss(), model_box, \
            bad_call, seen

    def __call__(self, logits, target):
        loss = self.real(logits, target)
        if not ember.is_grad_enabled():  # validation
            return loss
        state = self.box["model"].state_dict()
        self.seen.append({k: v.detach().numpy().copy() for k, v in state.items()})
        return loss * float("nan") if len(self.seen) == self.bad_call else loss


def test_nan_loss_stops_at_that_step_and_saves_the_weights_from_before_it(
        tmp_path, capsys, monkeypatch):
    box, seen = {}, []

    def tracked_get_model(name, **kwargs):  # the command builds every --arch through this
        assert name == "resnet18"
        box["model"] = resnet18(**kwargs)
        return box["model"]

    monkeypatch.setattr(finetune_module, "get_model", tracked_get_model)
    monkeypatch.setattr(finetune_module.nn, "CrossEntropyLoss",
                        lambda: _NaNAtTrainingStep(box, 3, seen))
    data = _colour_tree(tmp_path / "data")  # 10 training images: 2 steps of 5 per epoch
    out = tmp_path / "run"
    code, text, err = _run(["finetune", "--data", str(data), "--weights", "none", "--epochs",
                            "3", "--batch-size", "5", "--lr", "0.001", "--image-size", "16",
                            "--no-progress", "--out", str(out)], capsys)
    assert code == 1 and len(seen) == 3
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("ember-vision: error: training diverged at epoch 2/3, step 1/2: "
                          "the training loss is nan; likely cause: batch too small for "
                          "BatchNorm (layer4 normalises 5 values per channel")
    assert str(out / "model.pth") in err and "metrics.json" in err
    assert "epoch 1/3:" in text and "epoch 2/3:" not in text
    metrics = _strict_json(out / "metrics.json")
    assert metrics["diverged"] == {
        "epoch": 2, "epochs": 3, "step": 1, "steps_per_epoch": 2, "phase": "train",
        "what": "the training loss is nan",
        "reason": "batch too small for BatchNorm (layer4 normalises 5 values per channel: "
                  "batches of 5 at 16 px)",
        "advice": "try --batch-size 16 or more (or a larger --image-size), or a smaller --lr",
        "kept": "the weights from before this step"}
    assert [r["epoch"] for r in metrics["history"]] == [1]
    assert (out / "training.png").exists() == (metrics["history"] != [])
    # parameters as the failing step found them (after step 2); BatchNorm statistics as
    # they were before its forward pass updated them (after step 2's forward)
    saved = ember.load(str(out / "model.pth"))
    for name, value in saved.items():
        buffer = "running_" in name or "num_batches_tracked" in name
        want = seen[1][name] if buffer else seen[2][name]
        np.testing.assert_array_equal(value.numpy(), want, err_msg=name)
    assert not np.array_equal(seen[1]["bn1.running_mean"], seen[2]["bn1.running_mean"])


def test_a_huge_lr_diverges_with_status_1_and_finite_weights(tmp_path, capsys):
    """lr 1e30: the second forward squares values of ~1e30 inside BatchNorm, far beyond
    float32's 3e38, on any CPU; where exactly it shows (a step's loss or the validation)
    is not asserted."""
    data = _colour_tree(tmp_path / "data")
    out = tmp_path / "run"
    code, _, err = _run(["finetune", "--data", str(data), "--weights", "none", "--epochs",
                         "2", "--batch-size", "2", "--lr", "1e30", "--image-size", "16",
                         "--no-progress", "--out", str(out)], capsys)
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("ember-vision: error: training diverged at epoch ")
    assert "learning rate too high (--lr 1e+30)" in err
    metrics = _strict_json(out / "metrics.json")
    entry = metrics["diverged"]
    assert entry["phase"] in ("train", "validation") and entry["reason"].startswith(
        "learning rate too high (--lr 1e+30), and batch too small for BatchNorm")
    assert metrics["lr"] == 1e30 and len(metrics["history"]) < 2
    assert _finite(ember.load(str(out / "model.pth")))


def test_frozen_backbone_divergence_saves_a_plain_finite_resnet(tmp_path):
    """lr 1e300 is infinite in float32, so the first step's update is inf or NaN on any CPU:
    the run stops at epoch 1, step 1, and saves the starting fc (folded), finite."""
    data = _colour_tree(tmp_path / "data", per_class=3)
    ember.manual_seed(1)
    start = tmp_path / "start.pth"
    ember.save(resnet18().state_dict(), str(start))
    with pytest.raises(TrainingDiverged) as info:
        finetune(data=str(data), weights=str(start), epochs=2, lr=1e300, image_size=16,
                 out=str(tmp_path / "run"), progress=False, log=lambda *a: None)
    entry = info.value.report
    assert entry == {"epoch": 1, "epochs": 2, "step": 1, "steps_per_epoch": 1,
                     "phase": "train", "what": "a step made the weights non-finite (the "
                     "gradient or the update overflowed)",
                     "reason": "learning rate too high (--lr 1e+300)",
                     "advice": "try a smaller --lr (this run: 1e+300)",
                     "kept": "the weights from before this step"}
    assert info.value.metrics["diverged"] == entry and info.value.metrics["frozen_backbone"]
    assert info.value.metrics["history"] == []
    saved = ember.load(str(tmp_path / "run" / "model.pth"))
    assert _finite(saved) and tuple(saved["fc.weight"].shape) == (2, 512)
    # the backbone is the starting one, bit for bit
    np.testing.assert_array_equal(saved["layer3.1.conv2.weight"].numpy(),
                                  ember.load(str(start))["layer3.1.conv2.weight"].numpy())
    assert _strict_json(tmp_path / "run" / "metrics.json")["diverged"] == entry
    assert not (tmp_path / "run" / "training.png").exists()


def test_predict_refuses_a_model_with_nan_weights(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.json").write_text(json.dumps({"classes": ["a", "b"], "image_size": 16}))
    ember.manual_seed(0)
    model = resnet18(num_classes=2)
    with ember.no_grad():
        model.fc.weight[0, 0] = float("nan")
    ember.save(model.state_dict(), str(run / "model.pth"))
    image = tmp_path / "x.png"
    _colour_tree(tmp_path / "d", classes=("red",), per_class=1)
    (tmp_path / "d" / "red" / "0.png").rename(image)
    code, out, err = _run(["predict", "--model", str(run), str(image)], capsys)
    assert code == 1 and out == "" and "nan%" not in err
    assert err == (f"ember-vision: error: the model in {run} gives non-finite outputs (nan) "
                   f"for {image}, so it has no probabilities to show: its training diverged "
                   "(see metrics.json); finetune again with a smaller --lr or a larger "
                   "--batch-size\n")


def test_predict_refuses_a_broken_metrics_file(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.json").write_text("{not json")
    ember.save(resnet18(num_classes=2).state_dict(), str(run / "model.pth"))
    code, _, err = _run(["predict", "--model", str(run), "x.png"], capsys)
    assert code == 2 and err.count("\n") == 1 and "is not a finetune metrics file" in err


@pytest.mark.parametrize("n,batch,sizes", [
    (10, 4, [3, 3, 4]), (10, 10, [10]), (10, 64, [10]), (3, 2, [3]), (5, 2, [2, 3]),
    (2, 2, [2]), (1, 64, [1]), (0, 4, []),
])
def test_batches_are_near_equal_and_never_single_when_avoidable(n, batch, sizes):
    slices = _batch_slices(n, batch)
    assert [b - a for a, b in slices] == sizes
    assert [i for a, b in slices for i in range(a, b)] == list(range(n))


def test_default_digits_batches():
    sizes = [b - a for a, b in _batch_slices(1437, 64)]
    assert len(sizes) == 23 and min(sizes) == 62 and max(sizes) == 63


def test_weight_keeper_restores_parameters_and_buffers():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    keeper = _divergence.WeightKeeper(model, model.parameters())
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    keeper.keep()
    model.train()
    model(ember.randn(8, 3))  # moves the running statistics
    with ember.no_grad():
        model[0].weight.fill_(float("nan"))
    assert not keeper.params_finite()
    keeper.restore()
    assert keeper.params_finite()
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k], err_msg=k)


def test_huge_but_finite_weights_are_not_called_non_finite():
    lin = nn.Linear(1000, 1000)
    with ember.no_grad():
        lin.weight.fill_(3e38)  # every value finite; their float32 sum is not
    keeper = _divergence.WeightKeeper(lin, lin.parameters())
    assert keeper.params_finite()
    with ember.no_grad():
        lin.bias[3] = float("inf")
    assert not keeper.params_finite()


@pytest.mark.parametrize("lr,whole,batch,size,reason", [
    (0.01, True, 4, 16, "batch too small for BatchNorm (layer4 normalises 4 values"),
    (0.01, True, 4, 112, "learning rate too high (--lr 0.01)"),  # 4 x 4x4 = 64 values
    (0.01, False, 4, 16, "learning rate too high"),  # no BatchNorm trains
    (0.5, True, 4, 16, "learning rate too high (--lr 0.5), and batch too small"),
])
def test_explanations(lr, whole, batch, size, reason):
    assert _divergence.explain(lr, whole, batch, size)[0].startswith(reason)

"""ReduceLROnPlateau, torch-free: rate trajectories and messages read off torch 2.13
(test_torch_dropin_plateau.py checks many more sequences against live torch)."""
import pytest

import ember
from ember.optim.lr_scheduler import ReduceLROnPlateau


def _rates(config, metrics):
    opt = ember.optim.SGD([ember.nn.Parameter(ember.zeros(1))], lr=0.1)
    sched = ReduceLROnPlateau(opt, **config)
    out = []
    for m in metrics:
        sched.step(m)
        out.append(sched.get_last_lr()[0])
    return out


def test_patience_factor_cooldown():
    metrics = [1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5, 0.5, 0.5, 0.5]
    assert _rates({"patience": 2, "factor": 0.5, "cooldown": 1}, metrics) == [
        0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.025]


def test_max_abs_threshold_min_lr():
    metrics = [0.1, 0.15, 0.2, 0.25, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
    config = {"mode": "max", "patience": 1, "threshold_mode": "abs", "threshold": 0.1,
              "min_lr": 0.002}
    assert _rates(config, metrics) == [0.1, 0.1, 0.010000000000000002, 0.010000000000000002,
                                       0.010000000000000002, 0.010000000000000002, 0.002,
                                       0.002, 0.002, 0.002]


def test_tensor_metric_and_state_dict():
    opt = ember.optim.SGD([ember.nn.Parameter(ember.zeros(1))], lr=0.1)
    sched = ReduceLROnPlateau(opt, patience=0)
    sched.step(ember.tensor(1.0))
    sched.step(ember.tensor(1.0))
    assert opt.param_groups[0]["lr"] == 0.010000000000000002
    state = sched.state_dict()
    assert list(state) == ["factor", "default_min_lr", "min_lrs", "patience", "cooldown", "eps",
                           "last_epoch", "_last_lr", "mode_worse", "mode", "threshold",
                           "threshold_mode", "best", "cooldown_counter", "num_bad_epochs"]
    assert (state["best"], state["last_epoch"], state["_last_lr"]) == (
        1.0, 2, [0.010000000000000002])
    other = ReduceLROnPlateau(opt, mode="max")
    other.load_state_dict(state)
    assert (other.mode, other.mode_worse, other.best) == ("min", float("inf"), 1.0)


@pytest.mark.parametrize("kwargs, exc, text", [
    ({"factor": 1.0}, ValueError, "Factor should be < 1.0."),
    ({"mode": "avg"}, ValueError, "mode avg is unknown!"),
    ({"threshold_mode": "pct"}, ValueError, "threshold mode pct is unknown!"),
    ({"min_lr": [0.1, 0.2]}, ValueError, "expected 1 min_lrs, got 2"),
])
def test_errors(kwargs, exc, text):
    opt = ember.optim.SGD([ember.nn.Parameter(ember.zeros(1))], lr=0.1)
    with pytest.raises(exc) as info:
        ReduceLROnPlateau(opt, **kwargs)
    assert str(info.value) == text

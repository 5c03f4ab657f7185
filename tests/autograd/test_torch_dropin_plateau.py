"""ReduceLROnPlateau against live torch: the rates after every step of scripted metric
sequences, for each mode, threshold mode, patience, cooldown, min_lr and eps; state_dict
round trips; argument errors."""
import math

import pytest

torch = pytest.importorskip("torch")

import ember  # noqa: E402
from dropin_helpers import same  # noqa: E402

SEQUENCES = {
    "falling_then_flat": [1.0, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8],
    "noisy": [1.0, 1.2, 0.99995, 0.7, 0.71, 0.69, 0.7, 0.72, 0.5, 0.51, 0.52, 0.53, 0.54, 0.49,
              0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6],
    "rising": [0.1, 0.2, 0.3, 0.3, 0.3001, 0.29, 0.31, 0.31, 0.31, 0.31, 0.4, 0.4, 0.4, 0.4],
    "flat": [1.0] * 30,
}

CONFIGS = [
    {},
    {"patience": 0},
    {"patience": 2, "factor": 0.5},
    {"patience": 1, "cooldown": 2},
    {"patience": 1, "threshold": 0.05},
    {"patience": 1, "threshold": 0.05, "threshold_mode": "abs"},
    {"mode": "max", "patience": 1},
    {"mode": "max", "patience": 1, "threshold_mode": "abs", "threshold": 0.01},
    {"patience": 0, "min_lr": 0.004},
    {"patience": 0, "min_lr": [0.05, 0.0001]},
    {"patience": 0, "factor": 0.9, "eps": 0.02},
]


def _trajectory(L, config, metrics, tensor_metric=False):
    params = [L.nn.Parameter(L.zeros(2)), L.nn.Parameter(L.zeros(1))]
    opt = L.optim.SGD([{"params": params[:1]}, {"params": params[1:], "lr": 0.01}], lr=0.1)
    sched = L.optim.lr_scheduler.ReduceLROnPlateau(opt, **config)
    out = []
    for m in metrics:
        opt.step()
        sched.step(L.tensor(m) if tensor_metric else m)
        out.append((sched.get_last_lr(), [g["lr"] for g in opt.param_groups],
                    sched.num_bad_epochs, sched.cooldown_counter, sched.last_epoch))
    return out


@pytest.mark.parametrize("metrics", list(SEQUENCES.values()), ids=list(SEQUENCES))
@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_trajectory(config, metrics):
    assert _trajectory(ember, config, metrics) == _trajectory(torch, config, metrics)


def test_tensor_metric():
    metrics = SEQUENCES["noisy"]
    assert (_trajectory(ember, {"patience": 1}, metrics, True)
            == _trajectory(torch, {"patience": 1}, metrics, True))


def _state(L):
    params = [L.nn.Parameter(L.zeros(2))]
    opt = L.optim.SGD(params, lr=0.1)
    sched = L.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", patience=1, cooldown=1)
    for m in [1.0, 0.5, 0.4, 0.3]:
        sched.step(m)
    return sched.state_dict()


def test_state_dict_as_torch():
    ours, theirs = _state(ember), _state(torch)
    assert list(ours) == list(theirs)
    assert ours == theirs


def test_load_state_dict_resumes():
    def run(L):
        opt = L.optim.SGD([L.nn.Parameter(L.zeros(2))], lr=0.1)
        first = L.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1, threshold_mode="abs")
        for m in [1.0, 1.0]:
            first.step(m)
        second = L.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max")
        second.load_state_dict(first.state_dict())
        rates = []
        for m in [1.0, 1.0, 0.5, 1.0, 1.0]:
            second.step(m)
            rates.append(opt.param_groups[0]["lr"])
        return rates, second.mode, second.mode_worse
    same(torch, run)


@pytest.mark.parametrize("kwargs", [
    {"factor": 1.0}, {"factor": 2}, {"mode": "avg"}, {"threshold_mode": "pct"},
    {"min_lr": [0.1]}, {"min_lr": (0.1, 0.2, 0.3)},
])
def test_argument_errors(kwargs):
    def run(L):
        opt = L.optim.SGD([L.nn.Parameter(L.zeros(1)), L.nn.Parameter(L.zeros(1))], lr=0.1)
        return L.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs).state_dict()
    same(torch, run)


def test_not_an_optimizer():
    same(torch, lambda L: L.optim.lr_scheduler.ReduceLROnPlateau(object()))


def test_group_added_later():
    def run(L, min_lr):
        opt = L.optim.SGD([L.nn.Parameter(L.zeros(1))], lr=0.1)
        sched = L.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, min_lr=min_lr)
        opt.add_param_group({"params": [L.nn.Parameter(L.zeros(1))], "lr": 0.5})
        sched.step(1.0)
        sched.step(2.0)
        return [g["lr"] for g in opt.param_groups], sched.min_lrs
    same(torch, lambda L: run(L, 0.001))
    same(torch, lambda L: run(L, [0.001]))


def test_epoch_argument_warns():
    for L in (ember, torch):
        opt = L.optim.SGD([L.nn.Parameter(L.zeros(1))], lr=0.1)
        sched = L.optim.lr_scheduler.ReduceLROnPlateau(opt)
        with pytest.warns(UserWarning, match="The epoch parameter"):
            sched.step(1.0, epoch=5)
        assert sched.last_epoch == 5
        assert math.isinf(sched.mode_worse)

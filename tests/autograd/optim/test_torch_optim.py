"""ember.optim against live torch: trajectories, reprs, errors and schedules side by side."""
import importlib.util
import pathlib

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

HERE = pathlib.Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("optim_cases", HERE / "optim_cases.py")
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)

EXTRA_CASES = [
    ("sgd_all", "SGD", {"lr": 0.03, "momentum": 0.7, "weight_decay": 0.2, "nesterov": True,
                        "maximize": True}),
    ("adam_wd_maximize_amsgrad", "Adam", {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True,
                                          "maximize": True, "eps": 1e-3}),
    ("adamw_maximize", "AdamW", {"lr": 0.05, "maximize": True, "betas": (0.6, 0.7)}),
    ("rmsprop_momentum_only", "RMSprop", {"lr": 0.02, "momentum": 0.5, "alpha": 0.8}),
    ("rmsprop_centered_maximize", "RMSprop", {"lr": 0.02, "centered": True, "maximize": True}),
]


@pytest.mark.parametrize("name,cls,kwargs", cases.OPTIMIZER_CASES + EXTRA_CASES,
                         ids=[c[0] for c in cases.OPTIMIZER_CASES + EXTRA_CASES])
def test_trajectory_equals_torch(name, cls, kwargs):
    got = cases.run_trajectory(ember, cls, kwargs)
    want = cases.run_trajectory(torch, cls, kwargs)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-5, atol=1e-5, err_msg=key)


@pytest.mark.parametrize("cls,kwargs,match", [
    ("SGD", {"lr": -1}, "Invalid learning rate: -1"),
    ("SGD", {"lr": 0.1, "momentum": -1}, "Invalid momentum value: -1"),
    ("SGD", {"lr": 0.1, "weight_decay": -0.5}, "Invalid weight_decay value: -0.5"),
    ("SGD", {"lr": 0.1, "nesterov": True}, "Nesterov momentum requires a momentum and zero dampening"),
    ("SGD", {"lr": 0.1, "nesterov": True, "momentum": 0.9, "dampening": 0.1},
     "Nesterov momentum requires a momentum and zero dampening"),
    ("Adam", {"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0: 1.0"),
    ("Adam", {"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
    ("Adam", {"eps": -1e-8}, "Invalid epsilon value: -1e-08"),
    ("Adam", {"lr": -0.5}, "Invalid learning rate: -0.5"),
    ("AdamW", {"weight_decay": -1}, "Invalid weight_decay value: -1"),
    ("RMSprop", {"alpha": -0.1}, "Invalid alpha value: -0.1"),
    ("RMSprop", {"momentum": -0.1}, "Invalid momentum value: -0.1"),
])
def test_validation_errors_equal_torch(cls, kwargs, match):
    with pytest.raises(ValueError) as want:
        getattr(torch.optim, cls)(cases.repr_params(torch), **kwargs)
    with pytest.raises(ValueError) as got:
        getattr(ember.optim, cls)(cases.repr_params(ember), **kwargs)
    assert str(got.value) == str(want.value) == match


@pytest.mark.parametrize("cls,kwargs", [
    ("SGD", {"lr": 0.5, "momentum": 0.9, "dampening": 0.1, "weight_decay": 1e-4}),
    ("Adam", {"lr": 3e-4, "betas": (0.8, 0.99), "amsgrad": True}),
    ("AdamW", {"lr": 0.1, "weight_decay": 0.05}),
    ("RMSprop", {"lr": 0.1, "centered": True, "momentum": 0.3}),
])
def test_repr_equals_torch(cls, kwargs):
    want = repr(getattr(torch.optim, cls)(cases.repr_params(torch), **kwargs))
    assert repr(getattr(ember.optim, cls)(cases.repr_params(ember), **kwargs)) == want


def _schedule(lib, make, steps=15):
    opt = lib.optim.SGD(cases.repr_params(lib), lr=0.2, momentum=0.9)
    sched = make(lib, opt)
    out = [sched.get_last_lr()[0]]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append(sched.get_last_lr()[0])
    return out


@pytest.mark.parametrize("make", [
    lambda lib, o: lib.optim.lr_scheduler.StepLR(o, step_size=4),
    lambda lib, o: lib.optim.lr_scheduler.MultiStepLR(o, [1, 3, 3, 10], gamma=0.5),
    lambda lib, o: lib.optim.lr_scheduler.ExponentialLR(o, 0.7),
    lambda lib, o: lib.optim.lr_scheduler.CosineAnnealingLR(o, T_max=4),
    lambda lib, o: lib.optim.lr_scheduler.LambdaLR(o, lambda e: 1 / (e + 1)),
    lambda lib, o: lib.optim.lr_scheduler.OneCycleLR(o, max_lr=1.0, epochs=4, steps_per_epoch=4),
], ids=["step", "multistep", "exponential", "cosine", "lambda", "onecycle"])
def test_schedules_equal_torch(make):
    np.testing.assert_allclose(_schedule(ember, make), _schedule(torch, make), rtol=1e-12)


def test_onecycle_overrun_error_equals_torch():
    msgs = []
    for lib in (torch, ember):
        opt = lib.optim.SGD(cases.repr_params(lib), lr=0.1, momentum=0.9)
        sched = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=2)
        opt.step()
        sched.step()
        sched.step()
        with pytest.raises(ValueError) as err:
            sched.step()
        msgs.append(str(err.value))
    assert msgs[0] == msgs[1]


def test_state_dict_loads_across_libraries_values():
    """A torch optimizer's state, copied value by value, continues the same trajectory."""
    tparams = [torch.tensor(p, requires_grad=True) for p in cases.initial_params()]
    topt = torch.optim.Adam(tparams, lr=0.05)
    grads = cases.fixed_grads()
    for p, g in zip(tparams, grads[0]):
        p.grad = torch.tensor(g)
    topt.step()
    sd = topt.state_dict()
    converted = {"param_groups": sd["param_groups"], "state": {
        k: {n: ember.tensor(v.tolist(), dtype=ember.float32) for n, v in s.items()}
        for k, s in sd["state"].items()}}
    eparams = [ember.tensor(p.detach().tolist(), requires_grad=True) for p in tparams]
    eopt = ember.optim.Adam(eparams, lr=0.05)
    eopt.load_state_dict(converted)
    for lib_params, opt, mk in ((tparams, topt, torch.tensor), (eparams, eopt, ember.tensor)):
        for p, g in zip(lib_params, grads[1]):
            p.grad = mk(g.tolist())
        opt.step()
    for ep, tp in zip(eparams, tparams):
        np.testing.assert_allclose(np.array(ep.detach().tolist()), tp.detach().numpy(),
                                   rtol=1e-5, atol=1e-6)

"""ember.optim against torch's recorded numbers (tools/make_golden_optim.py): ten-step
trajectories, reprs, state-dict layouts and learning-rate schedules."""
import importlib.util
import json
import pathlib

import numpy as np
import pytest

import ember

HERE = pathlib.Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("optim_cases", HERE / "optim_cases.py")
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)

TRAJECTORIES = np.load(HERE / "golden" / "optim_trajectories.npz")
META = json.loads((HERE / "golden" / "optim_meta.json").read_text())


@pytest.mark.parametrize("name,cls,kwargs", cases.OPTIMIZER_CASES,
                         ids=[c[0] for c in cases.OPTIMIZER_CASES])
def test_trajectory_matches_torch(name, cls, kwargs):
    got = cases.run_trajectory(ember, cls, kwargs)
    for key, value in got.items():
        np.testing.assert_allclose(value, TRAJECTORIES[f"{name}/{key}"], rtol=1e-5, atol=1e-5,
                                   err_msg=f"{name} {key}")


@pytest.mark.parametrize("name,cls,kwargs", cases.REPR_CASES, ids=[c[0] for c in cases.REPR_CASES])
def test_repr_matches_torch(name, cls, kwargs):
    assert repr(getattr(ember.optim, cls)(cases.repr_params(ember), **kwargs)) == META["reprs"][name]


def test_tutorial_sgd_repr_is_exact():
    opt = ember.optim.SGD(cases.repr_params(ember), lr=1e-2, momentum=0.95)
    assert repr(opt) == (
        "SGD (\nParameter Group 0\n    dampening: 0\n    differentiable: False\n"
        "    foreach: None\n    fused: None\n    lr: 0.01\n    maximize: False\n"
        "    momentum: 0.95\n    nesterov: False\n    weight_decay: 0\n)"
    )


@pytest.mark.parametrize("name,cls,kwargs", cases.OPTIMIZER_CASES,
                         ids=[c[0] for c in cases.OPTIMIZER_CASES])
def test_state_dict_layout_matches_torch(name, cls, kwargs):
    assert cases.state_layout(ember, cls, kwargs) == META["state_keys"][name]


@pytest.mark.parametrize("name,sched,kwargs,opt_kwargs", cases.SCHEDULE_CASES,
                         ids=[c[0] for c in cases.SCHEDULE_CASES])
def test_schedule_matches_torch(name, sched, kwargs, opt_kwargs):
    got = cases.run_schedule(ember, sched, kwargs, opt_kwargs)
    want = META["schedules"][name]
    np.testing.assert_allclose(got["lr"], want["lr"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got["momentum"], want["momentum"], rtol=1e-12, atol=1e-15)

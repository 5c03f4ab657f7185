"""Optimizer bookkeeping: groups, state dicts, zero_grad, frozen parameters, errors, hooks,
and the scheduler base."""
import copy

import numpy as np
import pytest

import ember
from ember import optim


def _param(values):
    return ember.tensor(values, dtype=ember.float32, requires_grad=True)


def _values(t):
    return np.array(t.detach().tolist(), dtype=np.float32)


def _set_grad(p, values):
    p.grad = ember.tensor(values, dtype=ember.float32)


def test_frozen_parameters_are_not_touched_and_get_no_state():
    live, frozen = _param([1.0, 2.0]), _param([3.0, 4.0])
    opt = optim.SGD([live, frozen], lr=0.1, momentum=0.9)
    _set_grad(live, [1.0, 1.0])
    version = frozen._version
    opt.step()
    np.testing.assert_allclose(_values(live), [0.9, 1.9], rtol=1e-6)
    np.testing.assert_array_equal(_values(frozen), [3.0, 4.0])
    assert frozen._version == version
    assert list(opt.state_dict()["state"]) == [0]


def test_step_bumps_the_parameter_version_once():
    p = _param([1.0])
    opt = optim.SGD([p], lr=0.1)
    _set_grad(p, [1.0])
    before = p._version
    opt.step()
    assert p._version == before + 1


def test_zero_grad_sets_to_none_by_default_and_zeros_on_request():
    p = _param([1.0, 2.0])
    opt = optim.SGD([p], lr=0.1)
    _set_grad(p, [5.0, 6.0])
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(_values(p.grad), [0.0, 0.0])
    opt.zero_grad()
    assert p.grad is None


def test_param_groups_inherit_defaults_and_keep_their_own():
    a, b = _param([1.0]), _param([2.0])
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.5
    assert opt.param_groups[1]["params"] == [b]
    assert opt.param_groups[1]["momentum"] == 0.9
    assert "Parameter Group 1\n" in repr(opt)


def test_duplicate_parameter_across_groups_is_an_error():
    a = _param([1.0])
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        optim.SGD([{"params": [a]}, {"params": [a]}], lr=0.1)
    opt = optim.Adam([a])
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [a]})


def test_duplicate_parameter_within_a_group_warns():
    a = _param([1.0])
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([a, a], lr=0.1)


def test_bad_params_arguments():
    a = _param([1.0])
    with pytest.raises(TypeError, match="should be an iterable of Tensors or dicts, but got "
                                        "ember.FloatTensor"):
        optim.SGD(a, lr=0.1)
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors, but one of the "
                                        "params is int"):
        optim.SGD([1], lr=0.1)
    with pytest.raises(TypeError, match="ordering of tensors in sets"):
        optim.SGD([{"params": {a}}], lr=0.1)
    with pytest.raises(TypeError, match="param_group must be a dict"):
        optim.SGD([a], lr=0.1).add_param_group([a])


def test_non_leaf_tensor_is_refused():
    a = _param([1.0])
    b = a * 2
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([b], lr=0.1)


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    lambda ps: optim.Adam(ps, lr=0.1, amsgrad=True),
    lambda ps: optim.AdamW(ps, lr=0.1),
    lambda ps: optim.RMSprop(ps, lr=0.1, centered=True, momentum=0.5),
])
def test_state_dict_round_trip_continues_the_same_trajectory(make):
    def run(opt, params, grads):
        for g in grads:
            for p in params:
                _set_grad(p, g)
            opt.step()

    grads = [[0.5, -1.0], [1.5, 0.25], [-0.5, 2.0], [1.0, 1.0]]
    a = [_param([1.0, 2.0])]
    opt_a = make(a)
    run(opt_a, a, grads[:2])
    saved = opt_a.state_dict()
    assert set(saved) == {"state", "param_groups"}
    assert saved["param_groups"][0]["params"] == [0]

    b = [_param(_values(a[0]).tolist())]
    opt_b = make(b)
    # as torch, loading shares the saved tensors: copy them, as a save/load round trip would
    opt_b.load_state_dict(copy.deepcopy(saved))
    run(opt_a, a, grads[2:])
    run(opt_b, b, grads[2:])
    np.testing.assert_allclose(_values(b[0]), _values(a[0]), rtol=1e-6)
    assert opt_b.param_groups[0]["params"][0] is b[0]


def test_loading_a_state_dict_shares_its_tensors_like_torch():
    a, b = _param([1.0, 2.0]), _param([1.0, 2.0])
    opt_a = optim.SGD([a], lr=0.1, momentum=0.9)
    _set_grad(a, [1.0, 1.0])
    opt_a.step()
    opt_b = optim.SGD([b], lr=0.1, momentum=0.9)
    opt_b.load_state_dict(opt_a.state_dict())
    assert opt_b.state[b]["momentum_buffer"] is opt_a.state[a]["momentum_buffer"]


def test_loaded_state_follows_the_parameter_dtype():
    a = _param([1.0, 2.0])
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    saved = {"state": {0: {"momentum_buffer": ember.tensor([1.0, 1.0], dtype=ember.float64)}},
             "param_groups": opt.state_dict()["param_groups"]}
    opt.load_state_dict(saved)
    assert opt.state[a]["momentum_buffer"].dtype is ember.float32
    _set_grad(a, [0.0, 0.0])
    opt.step()
    np.testing.assert_allclose(_values(a), [0.91, 1.91], rtol=1e-6)


def test_load_state_dict_checks_group_shapes():
    a, b = _param([1.0]), _param([2.0])
    saved = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        optim.SGD([a], lr=0.1).load_state_dict(saved)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(saved)


def test_lr_edits_in_param_groups_take_effect():
    p = _param([1.0])
    opt = optim.SGD([p], lr=0.1)
    opt.param_groups[0]["lr"] = 1.0
    _set_grad(p, [0.5])
    opt.step()
    np.testing.assert_allclose(_values(p), [0.5])


def test_closure_is_called_and_its_loss_returned():
    p = _param([1.0])
    opt = optim.SGD([p], lr=0.1)
    calls = []

    def closure():
        calls.append(1)
        _set_grad(p, [1.0])
        return 42.0

    assert opt.step(closure) == 42.0
    assert calls == [1]
    np.testing.assert_allclose(_values(p), [0.9], rtol=1e-6)


def test_step_hooks_run_and_can_be_removed():
    p = _param([1.0])
    opt = optim.SGD([p], lr=0.1)
    seen = []
    pre = opt.register_step_pre_hook(lambda o, args, kwargs: seen.append("pre"))
    opt.register_step_post_hook(lambda o, args, kwargs: seen.append("post"))
    opt.step()
    pre.remove()
    opt.step()
    assert seen == ["pre", "post", "post"]


def test_adam_requires_float_betas_like_torch():
    with pytest.raises(ValueError, match="betas must be either both floats or both Tensors"):
        optim.Adam([_param([1.0])], betas=(0, 0.9))


def test_scheduler_requires_an_optimizer_and_saves_its_state():
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        optim.lr_scheduler.StepLR([], step_size=1)
    opt = optim.SGD([_param([1.0])], lr=1.0)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    assert opt.param_groups[0]["initial_lr"] == 1.0
    for _ in range(3):
        opt.step()
        sched.step()
    state = sched.state_dict()
    assert state["last_epoch"] == 3 and "optimizer" not in state
    opt2 = optim.SGD([_param([1.0])], lr=1.0)
    sched2 = optim.lr_scheduler.StepLR(opt2, step_size=2, gamma=0.5)
    sched2.load_state_dict(state)
    assert sched2.last_epoch == 3 and sched2.get_last_lr() == [0.5]


def test_scheduler_stepped_before_optimizer_warns():
    opt = optim.SGD([_param([1.0])], lr=1.0)
    sched = optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()


def test_lambda_lr_count_must_match_groups():
    opt = optim.SGD([{"params": [_param([1.0])]}, {"params": [_param([1.0])]}], lr=1.0)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        optim.lr_scheduler.LambdaLR(opt, [lambda e: 1.0])


def test_onecycle_needs_a_length():
    opt = optim.SGD([_param([1.0])], lr=1.0, momentum=0.9)
    with pytest.raises(ValueError, match="You must define either total_steps OR"):
        optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_group_mixing_float32_and_float64_parameters(momentum):
    # SGD updates a group's parameters in one kernel pass per dtype; a group that mixes
    # float32 and float64 (legal in torch) must step each as an optimizer of its own would
    def make():
        return (ember.tensor([1.0, -2.0, 0.5], dtype=ember.float32, requires_grad=True),
                ember.tensor([3.0, 0.25], dtype=ember.float64, requires_grad=True))

    a, b = make()
    mixed = optim.SGD([a, b], lr=0.1, momentum=momentum, weight_decay=0.01)
    a1, b1 = make()
    alone = [optim.SGD([a1], lr=0.1, momentum=momentum, weight_decay=0.01),
             optim.SGD([b1], lr=0.1, momentum=momentum, weight_decay=0.01)]
    for _ in range(3):
        mixed.zero_grad()
        ((a * a).sum() + (b * b * b).sum()).backward()
        mixed.step()
        for opt in alone:
            opt.zero_grad()
        ((a1 * a1).sum() + (b1 * b1 * b1).sum()).backward()
        for opt in alone:
            opt.step()
    assert a.dtype == ember.float32 and b.dtype == ember.float64
    assert a.detach().tolist() == a1.detach().tolist()
    assert b.detach().tolist() == b1.detach().tolist()

"""Optimizer and scheduler cases shared by tools/make_golden_optim.py (run on torch) and the
tests (run on ember): one definition, so the golden files and the checks cannot drift."""
import numpy as np

STEPS = 10
SHAPES = [(3, 4), (5,)]

OPTIMIZER_CASES = [
    ("sgd_plain", "SGD", {"lr": 0.1}),
    ("sgd_momentum_nesterov_wd", "SGD",
     {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("sgd_dampening", "SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3}),
    ("sgd_maximize", "SGD", {"lr": 0.05, "momentum": 0.5, "maximize": True}),
    ("adam", "Adam", {"lr": 0.01}),
    ("adam_amsgrad_wd", "Adam", {"lr": 0.02, "amsgrad": True, "weight_decay": 0.1}),
    ("adam_maximize_betas", "Adam", {"lr": 0.01, "betas": (0.3, 0.9), "maximize": True}),
    ("adamw", "AdamW", {"lr": 0.01}),
    ("adamw_amsgrad", "AdamW", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.5}),
    ("rmsprop", "RMSprop", {"lr": 0.01}),
    ("rmsprop_centered_momentum", "RMSprop",
     {"lr": 0.01, "centered": True, "momentum": 0.9, "weight_decay": 0.05}),
]

REPR_CASES = [
    ("sgd_tutorial", "SGD", {"lr": 1e-2, "momentum": 0.95}),
    ("sgd_default", "SGD", {}),
    ("adam_default", "Adam", {}),
    ("adamw_default", "AdamW", {}),
    ("rmsprop_default", "RMSprop", {}),
    ("adam_custom", "Adam", {"lr": 0.1, "betas": (0.5, 0.6), "amsgrad": True}),
]

# (name, scheduler class, kwargs, optimizer kwargs for SGD); 12 scheduler steps each
SCHEDULE_CASES = [
    ("step", "StepLR", {"step_size": 3, "gamma": 0.5}, {"lr": 0.1}),
    ("multistep", "MultiStepLR", {"milestones": [2, 5, 5, 9], "gamma": 0.1}, {"lr": 1.0}),
    ("exponential", "ExponentialLR", {"gamma": 0.9}, {"lr": 0.1}),
    ("cosine", "CosineAnnealingLR", {"T_max": 5, "eta_min": 0.001}, {"lr": 0.1}),
    ("onecycle", "OneCycleLR", {"max_lr": 0.5, "total_steps": 13}, {"lr": 0.1, "momentum": 0.9}),
    ("onecycle_linear_3phase", "OneCycleLR",
     {"max_lr": 0.5, "total_steps": 13, "anneal_strategy": "linear", "three_phase": True},
     {"lr": 0.1, "momentum": 0.9}),
]
SCHEDULE_STEPS = 12


def initial_params():
    rng = np.random.default_rng(1234)
    return [rng.standard_normal(s).astype(np.float32) for s in SHAPES]


def fixed_grads():
    rng = np.random.default_rng(99)
    return [[rng.standard_normal(s).astype(np.float32) for s in SHAPES] for _ in range(STEPS)]


def _tensor(lib, array, requires_grad=False):
    return lib.tensor(array.tolist(), dtype=lib.float32, requires_grad=requires_grad)


def _numpy(t):
    return np.array(t.detach().tolist(), dtype=np.float32)


def run_trajectory(lib, cls, kwargs):
    """Ten steps; the gradient depends on the current parameter (g = a_t + 0.5 * p) so the
    optimizer's own output feeds back. Returns the parameters after every step."""
    params = [_tensor(lib, p, True) for p in initial_params()]
    opt = getattr(lib.optim, cls)(params, **kwargs)
    out = {}
    for t, grads in enumerate(fixed_grads()):
        for p, a in zip(params, grads):
            p.grad = _tensor(lib, a + 0.5 * _numpy(p))
        opt.step()
        for i, p in enumerate(params):
            out[f"step{t}/p{i}"] = _numpy(p)
    return out


def repr_params(lib):
    return [_tensor(lib, np.zeros(2, dtype=np.float32), True)]


def state_layout(lib, cls, kwargs):
    """Which keys the state dict holds after two steps, with each state tensor's shape."""
    params = [_tensor(lib, p, True) for p in initial_params()]
    opt = getattr(lib.optim, cls)(params, **kwargs)
    for _ in range(2):
        for p in params:
            p.grad = _tensor(lib, np.ones(tuple(p.shape), dtype=np.float32))
        opt.step()
    sd = opt.state_dict()
    state = {str(k): {key: (list(v.shape) if hasattr(v, "shape") else v) for key, v in s.items()}
             for k, s in sd["state"].items()}
    steps = {str(k): float(s["step"]) for k, s in sd["state"].items() if "step" in s}
    groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()}
              for g in sd["param_groups"]]
    return {"state": state, "steps": steps, "param_groups": groups}


def run_schedule(lib, sched, kwargs, opt_kwargs):
    """The learning rate (and momentum, where a scheduler cycles it) after each step."""
    opt = lib.optim.SGD(repr_params(lib), **opt_kwargs)
    scheduler = getattr(lib.optim.lr_scheduler, sched)(opt, **kwargs)
    lrs = [scheduler.get_last_lr()[0]]
    momenta = [opt.param_groups[0]["momentum"]]
    for _ in range(SCHEDULE_STEPS):
        opt.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
        momenta.append(opt.param_groups[0]["momentum"])
    return {"lr": lrs, "momentum": momenta}

"""Stochastic gradient descent (with momentum, dampening, Nesterov and weight decay)."""
from typing import Optional, Union

from ember_tensor.optim_update import direct_sgd, sgd_, sgd_many_

from .._tensor import Tensor
from .optimizer import _check_fused, Optimizer, ParamsT, zeros_state

__all__ = ["SGD"]


class SGD(Optimizer):
    """torch.optim.SGD: same hyperparameters, defaults, checks, state and trajectory."""

    def __init__(self, params: ParamsT, lr: Union[float, Tensor] = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False, foreach: Optional[bool] = None,
                 differentiable: bool = False, fused: Optional[bool] = None) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach, "differentiable": differentiable, "fused": fused}
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        _check_fused(fused, differentiable, foreach)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("differentiable", False)
            group.setdefault("fused", False)

    def _update_group(self, group):
        # the group's settings are read once, not once per parameter
        momentum = group["momentum"]
        lr, weight_decay = float(group["lr"]), float(group["weight_decay"])
        dampening, nesterov, maximize = group["dampening"], group["nesterov"], group["maximize"]
        state = self.state
        # parameters past their first step whose arrays the kernel takes as they are go in
        # one sgd_many call per dtype (one parallel region for each; a group may mix float32
        # and float64 parameters, as in torch); the rest one by one
        batches: dict = {}
        for p in group["params"]:
            grad = p.grad
            if grad is None:  # frozen or unused parameters are left untouched
                continue
            buf = None
            first = False
            if momentum != 0:
                p_state = state[p]
                buf = p_state.get("momentum_buffer")
                if buf is None:
                    first = True
                    buf = p_state["momentum_buffer"] = zeros_state(p)
            if not first and direct_sgd(p._data, grad._data, None if buf is None else buf._data):
                batch, grads, bufs = batches.setdefault(p._data._np.dtype, ([], [], []))
                batch.append(p)
                grads.append(grad._data._np)
                if buf is not None:
                    bufs.append(buf._data._np)
                continue
            sgd_(p._data, grad._data, None if buf is None else buf._data, lr=lr,
                 momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                 nesterov=nesterov, maximize=maximize, first_step=first)
            p._version_counter[0] += 1  # bump_version(p), inlined: once per parameter
        for batch, grads, bufs in batches.values():
            sgd_many_([p._data._np for p in batch], grads, bufs if momentum != 0 else None,
                      lr=lr, momentum=momentum, dampening=dampening,
                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
            for p in batch:
                p._version_counter[0] += 1

"""RMSprop (optionally centered, with momentum)."""
from typing import Optional, Union

from ember_tensor.optim_update import rmsprop_

from .._tensor import Tensor
from .optimizer import bump_step, bump_version, Optimizer, ParamsT, step_tensor, zeros_state

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """torch.optim.RMSprop: same hyperparameters, defaults, checks, state and trajectory."""

    def __init__(self, params: ParamsT, lr: Union[float, Tensor] = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, capturable: bool = False,
                 foreach: Optional[bool] = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay,
                    "capturable": capturable, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("momentum", 0)
            group.setdefault("centered", False)
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)

    def _update_group(self, group):
        momentum = group["momentum"]
        centered = group["centered"]
        for p, grad in self._with_grad(group):
            state = self.state[p]
            if len(state) == 0:
                state["step"] = step_tensor()
                state["square_avg"] = zeros_state(p)
                if momentum > 0:
                    state["momentum_buffer"] = zeros_state(p)
                if centered:
                    state["grad_avg"] = zeros_state(p)
            bump_step(state)
            buf = state.get("momentum_buffer") if momentum > 0 else None
            gavg = state.get("grad_avg") if centered else None
            rmsprop_(p._data, grad._data, state["square_avg"]._data,
                     None if gavg is None else gavg._data, None if buf is None else buf._data,
                     lr=float(group["lr"]), alpha=group["alpha"], eps=group["eps"],
                     weight_decay=float(group["weight_decay"]), momentum=momentum,
                     centered=centered, maximize=group["maximize"])
            bump_version(p)

"""Adam (and, with ``decoupled_weight_decay=True``, AdamW's update)."""
from typing import Optional, Union

from ember_tensor.optim_update import adam_

from .._tensor import Tensor
from .optimizer import (
    _check_fused, Optimizer, ParamsT, bump_step, bump_version, step_tensor, zeros_state,
)

__all__ = ["Adam"]


class Adam(Optimizer):
    """torch.optim.Adam: same hyperparameters, defaults, checks, state and trajectory."""

    def __init__(self, params: ParamsT, lr: Union[float, Tensor] = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: Optional[bool] = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False,
                 fused: Optional[bool] = None, decoupled_weight_decay: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not (isinstance(betas[0], float) and isinstance(betas[1], float)):
            raise ValueError("betas must be either both floats or both Tensors")
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
                    "capturable": capturable, "differentiable": differentiable,
                    "fused": fused, "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)
        _check_fused(fused, differentiable, foreach)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("amsgrad", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
            group.setdefault("fused", None)

    def _update_group(self, group):
        beta1, beta2 = group["betas"]
        amsgrad = group["amsgrad"]
        decoupled = group["decoupled_weight_decay"]
        weight_decay = float(group["weight_decay"])
        for p, grad in self._with_grad(group):
            state = self.state[p]
            if len(state) == 0:
                state["step"] = step_tensor()
                state["exp_avg"] = zeros_state(p)
                state["exp_avg_sq"] = zeros_state(p)
                if amsgrad:
                    state["max_exp_avg_sq"] = zeros_state(p)
            step = bump_step(state)
            vmax = state.get("max_exp_avg_sq") if amsgrad else None
            adam_(p._data, grad._data, state["exp_avg"]._data, state["exp_avg_sq"]._data,
                  None if vmax is None else vmax._data, step=step, lr=float(group["lr"]),
                  beta1=beta1, beta2=beta2, eps=group["eps"], weight_decay=weight_decay,
                  amsgrad=amsgrad, maximize=group["maximize"],
                  decoupled_weight_decay=decoupled)
            bump_version(p, 2 if decoupled and weight_decay != 0 else 1)

"""Stochastic depth (Huang et al., "Deep Networks with Stochastic Depth"): residual branches
dropped at random in training, as torchvision.ops.stochastic_depth does it.

Each kept branch is scaled by 1 / (1 - p), so the expected output equals the input and eval
mode is the identity. ``"row"`` draws one keep/drop per sample of the batch, ``"batch"`` one
for the whole batch. The draws come from Ember's random stream (``manual_seed``), not
torch's.
"""
import ember
from ember import Tensor, nn

__all__ = ["stochastic_depth", "StochasticDepth"]


def stochastic_depth(input: Tensor, p: float, mode: str, training: bool = True) -> Tensor:
    """``input`` with rows (``"row"``) or all of it (``"batch"``) zeroed with probability
    ``p``, the rest scaled by ``1 / (1 - p)``; ``input`` itself when not training or p == 0."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"drop probability has to be between 0 and 1, but got {p}")
    if mode not in ["batch", "row"]:
        raise ValueError(f"mode has to be either 'batch' or 'row', but got {mode}")
    if not training or p == 0.0:
        return input
    survival_rate = 1.0 - p
    size = [input.shape[0]] + [1] * (input.ndim - 1) if mode == "row" else [1] * input.ndim
    noise = ember.empty(size, dtype=input.dtype).bernoulli_(survival_rate)
    if survival_rate > 0.0:
        noise.div_(survival_rate)
    return input * noise


class StochasticDepth(nn.Module):
    """See :func:`stochastic_depth`."""

    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, input: Tensor) -> Tensor:
        return stochastic_depth(input, self.p, self.mode, self.training)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(p={self.p}, mode={self.mode})"

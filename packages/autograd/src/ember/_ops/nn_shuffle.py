"""Channel shuffle (ShuffleNet): channels split into ``groups`` and interleaved, as
``torch.nn.functional.channel_shuffle``, recorded as ``ChannelShuffleBackward0``.

The result is a permuted copy; its gradient is the inverse shuffle (``C // groups`` groups),
itself recorded, so it differentiates again.
"""
from ember_tensor import Array

from .._core.node import Node, record
from .._tensor import Tensor

__all__ = ["channel_shuffle"]


class ChannelShuffleBackward0(Node):
    def backward(self, grad):
        return (channel_shuffle(grad, grad.shape[1] // self.groups),)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    x = input._data._np
    if x.ndim <= 2:
        raise RuntimeError("channel_shuffle expects input with > 2 dims, but got input with "
                           f"sizes {list(x.shape)}")
    if groups <= 0:
        raise RuntimeError(
            f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    c = x.shape[1]
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels "
                           f"and {groups} groups.")
    split = x.reshape((x.shape[0], groups, c // groups) + x.shape[2:])
    out = split.swapaxes(1, 2).reshape(x.shape)  # reshape of the swapped view copies
    return record(ChannelShuffleBackward0, Array(out), (input,), groups=groups)

"""``ember_vision.ops``: torchvision.ops' layers that the classification models are built
from (stochastic depth, conv-norm-activation blocks, squeeze-excitation)."""
from .misc import (
    Conv2dNormActivation, ConvNormActivation, FrozenBatchNorm2d, Permute, SqueezeExcitation,
)
from .stochastic_depth import StochasticDepth, stochastic_depth

__all__ = ["Conv2dNormActivation", "ConvNormActivation", "FrozenBatchNorm2d", "Permute",
           "SqueezeExcitation", "StochasticDepth", "stochastic_depth"]

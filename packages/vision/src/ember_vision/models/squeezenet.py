"""SqueezeNet 1.0 and 1.1 as torchvision builds them: Fire modules, and a 1x1 convolution as
the classifier (so the logits are a global average of per-position class scores)."""
from functools import partial

import ember
from ember import nn

from ._api import WeightsEnum, build_with_weights, model_builder
from ._meta import imagenet_weights

__all__ = ["SqueezeNet", "SqueezeNet1_0_Weights", "SqueezeNet1_1_Weights", "squeezenet1_0",
           "squeezenet1_1"]


class Fire(nn.Module):
    """1x1 squeeze, then 1x1 and 3x3 expansions side by side (concatenated on channels)."""

    def __init__(self, inplanes: int, squeeze_planes: int, expand1x1_planes: int,
                 expand3x3_planes: int) -> None:
        super().__init__()
        self.inplanes = inplanes
        self.squeeze = nn.Conv2d(inplanes, squeeze_planes, kernel_size=1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze_planes, expand1x1_planes, kernel_size=1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze_planes, expand3x3_planes, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        return ember.cat([self.expand1x1_activation(self.expand1x1(x)),
                          self.expand3x3_activation(self.expand3x3(x))], 1)


def _pool():
    return nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)


class SqueezeNet(nn.Module):
    def __init__(self, version: str = "1_0", num_classes: int = 1000,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.num_classes = num_classes
        if version == "1_0":
            self.features = nn.Sequential(
                nn.Conv2d(3, 96, kernel_size=7, stride=2), nn.ReLU(inplace=True), _pool(),
                Fire(96, 16, 64, 64), Fire(128, 16, 64, 64), Fire(128, 32, 128, 128), _pool(),
                Fire(256, 32, 128, 128), Fire(256, 48, 192, 192), Fire(384, 48, 192, 192),
                Fire(384, 64, 256, 256), _pool(),
                Fire(512, 64, 256, 256),
            )
        elif version == "1_1":
            # 1.1: a 3x3 stem and earlier pooling, 2.4x fewer operations for the same accuracy
            self.features = nn.Sequential(
                nn.Conv2d(3, 64, kernel_size=3, stride=2), nn.ReLU(inplace=True), _pool(),
                Fire(64, 16, 64, 64), Fire(128, 16, 64, 64), _pool(),
                Fire(128, 32, 128, 128), Fire(256, 32, 128, 128), _pool(),
                Fire(256, 48, 192, 192), Fire(384, 48, 192, 192), Fire(384, 64, 256, 256),
                Fire(512, 64, 256, 256),
            )
        else:
            raise ValueError(f"Unsupported SqueezeNet version {version}: 1_0 or 1_1 expected")
        final_conv = nn.Conv2d(512, self.num_classes, kernel_size=1)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), final_conv, nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d((1, 1))
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                if m is final_conv:
                    nn.init.normal_(m.weight, mean=0.0, std=0.01)
                else:
                    nn.init.kaiming_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        return ember.flatten(self.classifier(self.features(x)), 1)


_RECIPE = "https://github.com/pytorch/vision/pull/49#issuecomment-277560717"


class SqueezeNet1_0_Weights(WeightsEnum):
    IMAGENET1K_V1 = imagenet_weights(
        "squeezenet1_0-b66bff10.pth", num_params=1248424, acc1=58.092, acc5=80.42, ops=0.819,
        size=4.778, min_size=(21, 21), recipe=_RECIPE, docs="simple")
    DEFAULT = IMAGENET1K_V1


class SqueezeNet1_1_Weights(WeightsEnum):
    IMAGENET1K_V1 = imagenet_weights(
        "squeezenet1_1-b8a52dc0.pth", num_params=1235496, acc1=58.178, acc5=80.624, ops=0.349,
        size=4.729, min_size=(17, 17), recipe=_RECIPE, docs="simple")
    DEFAULT = IMAGENET1K_V1


def _squeezenet(version):
    def construct(weights, progress, **kwargs):
        return build_with_weights(partial(SqueezeNet, version), weights, progress, **kwargs)

    construct.__module__ = __name__
    return construct


squeezenet1_0 = model_builder(
    "squeezenet1_0", SqueezeNet1_0_Weights, _squeezenet("1_0"),
    "SqueezeNet 1.0 from `SqueezeNet: AlexNet-level accuracy with 50x fewer parameters and "
    "<0.5MB model size <https://arxiv.org/abs/1602.07360>`__; keywords go to :class:`SqueezeNet`.")
squeezenet1_1 = model_builder(
    "squeezenet1_1", SqueezeNet1_1_Weights, _squeezenet("1_1"),
    "SqueezeNet 1.1 from the `official SqueezeNet repo <https://github.com/forresti/SqueezeNet/"
    "tree/master/SqueezeNet_v1.1>`__; keywords go to :class:`SqueezeNet`.")

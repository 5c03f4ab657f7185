"""VGG-11/13/16/19, with and without BatchNorm, as torchvision builds them.

``features`` is one flat Sequential (so checkpoint keys are ``features.<index>.weight``),
then a 7x7 adaptive pool and a three-layer ``classifier``.
"""
import ember
from ember import nn

from ._api import WeightsEnum, _ovewrite_named_param, model_builder
from ._meta import imagenet_weights

__all__ = [
    "VGG", "VGG11_Weights", "VGG11_BN_Weights", "VGG13_Weights", "VGG13_BN_Weights",
    "VGG16_Weights", "VGG16_BN_Weights", "VGG19_Weights", "VGG19_BN_Weights", "vgg11",
    "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
]


class VGG(nn.Module):
    def __init__(self, features: nn.Module, num_classes: int = 1000, init_weights: bool = True,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(ember.flatten(x, 1))


def make_layers(cfg, batch_norm: bool = False) -> nn.Sequential:
    """3x3 convolutions (+BatchNorm) + ReLU for each width in ``cfg``, a 2x2 max-pool for "M"."""
    layers: list[nn.Module] = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, v, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(v))
        layers.append(nn.ReLU(inplace=True))
        in_channels = v
    return nn.Sequential(*layers)


_M = "M"
cfgs = {
    "A": [64, _M, 128, _M, 256, 256, _M, 512, 512, _M, 512, 512, _M],
    "B": [64, 64, _M, 128, 128, _M, 256, 256, _M, 512, 512, _M, 512, 512, _M],
    "D": [64, 64, _M, 128, 128, _M, 256, 256, 256, _M, 512, 512, 512, _M, 512, 512, 512, _M],
    "E": [64, 64, _M, 128, 128, _M, 256, 256, 256, 256, _M, 512, 512, 512, 512, _M,
          512, 512, 512, 512, _M],
}


def _vgg_weights(file, num_params, acc1, acc5, ops, size):
    return imagenet_weights(
        file, num_params=num_params, acc1=acc1, acc5=acc5, ops=ops, size=size,
        min_size=(32, 32), docs="scratch_simplified",
        recipe="https://github.com/pytorch/vision/tree/main/references/classification"
               "#alexnet-and-vgg")


class VGG11_Weights(WeightsEnum):
    IMAGENET1K_V1 = _vgg_weights("vgg11-8a719046.pth", 132863336, 69.02, 88.628, 7.609, 506.84)
    DEFAULT = IMAGENET1K_V1


class VGG11_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _vgg_weights("vgg11_bn-6002323d.pth", 132868840, 70.37, 89.81, 7.609,
                                 506.881)
    DEFAULT = IMAGENET1K_V1


class VGG13_Weights(WeightsEnum):
    IMAGENET1K_V1 = _vgg_weights("vgg13-19584684.pth", 133047848, 69.928, 89.246, 11.308,
                                 507.545)
    DEFAULT = IMAGENET1K_V1


class VGG13_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _vgg_weights("vgg13_bn-abd245e5.pth", 133053736, 71.586, 90.374, 11.308,
                                 507.59)
    DEFAULT = IMAGENET1K_V1


class VGG16_Weights(WeightsEnum):
    IMAGENET1K_V1 = _vgg_weights("vgg16-397923af.pth", 138357544, 71.592, 90.382, 15.47,
                                 527.796)
    # SSD's feature extractor: only ``features`` is trained (the classifier holds NaNs), and
    # it expects 0-255 inputs, hence std 1/255 and no categories
    IMAGENET1K_FEATURES = imagenet_weights(
        "vgg16_features-amdegroot-88682ab5.pth", num_params=138357544, acc1=float("nan"),
        acc5=float("nan"), ops=15.47, size=527.802, min_size=(32, 32), docs="features",
        categories=None, recipe="https://github.com/amdegroot/ssd.pytorch#training-ssd",
        mean=(0.48235, 0.45882, 0.40784), std=(1.0 / 255.0, 1.0 / 255.0, 1.0 / 255.0))
    DEFAULT = IMAGENET1K_V1


class VGG16_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _vgg_weights("vgg16_bn-6c64b313.pth", 138365992, 73.36, 91.516, 15.47,
                                 527.866)
    DEFAULT = IMAGENET1K_V1


class VGG19_Weights(WeightsEnum):
    IMAGENET1K_V1 = _vgg_weights("vgg19-dcbb9e9d.pth", 143667240, 72.376, 90.876, 19.632,
                                 548.051)
    DEFAULT = IMAGENET1K_V1


class VGG19_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _vgg_weights("vgg19_bn-c79401a0.pth", 143678248, 74.218, 91.842, 19.632,
                                 548.143)
    DEFAULT = IMAGENET1K_V1


def _construct(cfg, batch_norm):
    def construct(weights, progress, **kwargs):
        if weights is not None:
            kwargs["init_weights"] = False
            if weights.meta["categories"] is not None:
                _ovewrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]))
        model = VGG(make_layers(cfgs[cfg], batch_norm=batch_norm), **kwargs)
        if weights is not None:
            model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
        return model

    construct.__module__ = __name__
    return construct


def _builder(depth, cfg, batch_norm, enum):
    name = f"vgg{depth}{'_bn' if batch_norm else ''}"
    doc = (f"VGG-{depth}{' with BatchNorm' if batch_norm else ''} from `Very Deep "
           "Convolutional Networks for Large-Scale Image Recognition "
           "<https://arxiv.org/abs/1409.1556>`__; keywords go to :class:`VGG`.")
    return model_builder(name, enum, _construct(cfg, batch_norm), doc)


vgg11 = _builder(11, "A", False, VGG11_Weights)
vgg11_bn = _builder(11, "A", True, VGG11_BN_Weights)
vgg13 = _builder(13, "B", False, VGG13_Weights)
vgg13_bn = _builder(13, "B", True, VGG13_BN_Weights)
vgg16 = _builder(16, "D", False, VGG16_Weights)
vgg16_bn = _builder(16, "D", True, VGG16_BN_Weights)
vgg19 = _builder(19, "E", False, VGG19_Weights)
vgg19_bn = _builder(19, "E", True, VGG19_BN_Weights)

"""ResNet-18/34/50/101/152 with torchvision's module names, reprs, initialisation and weights.

The layout (``conv1, bn1, relu, maxpool, layer1..4, avgpool, fc``; blocks with ``conv1, bn1,
..., downsample``) is API: state-dict keys and ``print(model)`` depend on it.
"""
from functools import partial

import ember
from ember import nn

from ..transforms._presets import ImageClassification
from ._api import Weights, WeightsEnum, _ovewrite_named_param, handle_legacy_interface, \
    register_model
from ._meta import _IMAGENET_CATEGORIES

__all__ = [
    "ResNet", "BasicBlock", "Bottleneck", "ResNet18_Weights", "ResNet34_Weights",
    "ResNet50_Weights", "ResNet101_Weights", "ResNet152_Weights", "resnet18", "resnet34",
    "resnet50", "resnet101", "resnet152", "ResNeXt50_32X4D_Weights", "Wide_ResNet50_2_Weights",
    "resnext50_32x4d", "wide_resnet50_2",
]


# torchvision also initialises GroupNorm (a valid norm_layer); ember.nn may not have it
_NORMS = tuple(getattr(nn, n) for n in ("BatchNorm2d", "GroupNorm") if hasattr(nn, n))


def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1):
    """3x3 convolution, padded to keep the size (before striding)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation,
                     groups=groups, bias=False, dilation=dilation)


def conv1x1(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions and a skip connection (ResNet-18/34)."""

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = out + identity
        return self.relu(out)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (the strided one, as in torchvision's "ResNet V1.5"), 1x1 expand."""

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out = out + identity
        return self.relu(out)


class ResNet(nn.Module):
    def __init__(self, block, layers, num_classes=1000, zero_init_residual=False, groups=1,
                 width_per_group=64, replace_stride_with_dilation=None, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        self._norm_layer = norm_layer
        self.inplanes = 64
        self.dilation = 1
        if replace_stride_with_dilation is None:
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError(
                "replace_stride_with_dilation should be None or a 3-element tuple, got "
                f"{replace_stride_with_dilation}")
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2,
                                       dilate=replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2,
                                       dilate=replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2,
                                       dilate=replace_stride_with_dilation[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, _NORMS):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            # each residual branch starts as zero, so every block starts as the identity
            for m in self.modules():
                if isinstance(m, Bottleneck) and m.bn3.weight is not None:
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock) and m.bn2.weight is not None:
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        norm_layer = self._norm_layer
        downsample = None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                norm_layer(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample, self.groups,
                        self.base_width, previous_dilation, norm_layer)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups,
                                base_width=self.base_width, dilation=self.dilation,
                                norm_layer=norm_layer))
        return nn.Sequential(*layers)

    def _forward_impl(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)
        x = self.avgpool(x)
        x = ember.flatten(x, 1)
        return self.fc(x)

    def forward(self, x):
        return self._forward_impl(x)


def _resnet(block, layers, weights, progress, **kwargs):
    if weights is not None:
        _ovewrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]))
    model = ResNet(block, layers, **kwargs)
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    return model


_COMMON_META = {"min_size": (1, 1), "categories": _IMAGENET_CATEGORIES}
_RECIPE_V1 = "https://github.com/pytorch/vision/tree/main/references/classification#resnet"
_RECIPE_V2 = "https://github.com/pytorch/vision/issues/3995#issuecomment-1013906621"
_DOCS_V1 = ("These weights reproduce closely the results of the paper using a simple training "
            "recipe.")
_DOCS_V2 = ("These weights improve upon the results of the original paper by using TorchVision's "
            "`new training recipe <https://pytorch.org/blog/"
            "how-to-train-state-of-the-art-models-using-torchvision-latest-primitives/>`_.")


def _weights(file, num_params, acc1, acc5, ops, size, v2=False):
    return Weights(
        url=f"https://download.pytorch.org/models/{file}",
        transforms=partial(ImageClassification, crop_size=224,
                           **({"resize_size": 232} if v2 else {})),
        meta={**_COMMON_META, "num_params": num_params,
              "recipe": _RECIPE_V2 if v2 else _RECIPE_V1,
              "_metrics": {"ImageNet-1K": {"acc@1": acc1, "acc@5": acc5}},
              "_ops": ops, "_file_size": size, "_docs": _DOCS_V2 if v2 else _DOCS_V1},
    )


class ResNet18_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("resnet18-f37072fd.pth", 11689512, 69.758, 89.078, 1.814, 44.661)
    DEFAULT = IMAGENET1K_V1


class ResNet34_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("resnet34-b627a593.pth", 21797672, 73.314, 91.42, 3.664, 83.275)
    DEFAULT = IMAGENET1K_V1


class ResNet50_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("resnet50-0676ba61.pth", 25557032, 76.13, 92.862, 4.089, 97.781)
    IMAGENET1K_V2 = _weights("resnet50-11ad3fa6.pth", 25557032, 80.858, 95.434, 4.089, 97.79,
                             v2=True)
    DEFAULT = IMAGENET1K_V2


class ResNet101_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("resnet101-63fe2227.pth", 44549160, 77.374, 93.546, 7.801,
                             170.511)
    IMAGENET1K_V2 = _weights("resnet101-cd907fc2.pth", 44549160, 81.886, 95.78, 7.801,
                             170.53, v2=True)
    DEFAULT = IMAGENET1K_V2


class ResNet152_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("resnet152-394f9c45.pth", 60192808, 78.312, 94.046, 11.514,
                             230.434)
    IMAGENET1K_V2 = _weights("resnet152-f82ba261.pth", 60192808, 82.284, 96.002, 11.514,
                             230.474, v2=True)
    DEFAULT = IMAGENET1K_V2


def _builder(name, enum, block, layers):
    @register_model(name)
    @handle_legacy_interface(weights=("weights", "pretrained"), default=enum.IMAGENET1K_V1)
    def build(*, weights: enum = None, progress: bool = True, **kwargs) -> ResNet:
        weights = enum.verify(weights)
        return _resnet(block, layers, weights, progress, **kwargs)

    build.__name__ = build.__qualname__ = name
    build.__doc__ = (f"{name.replace('resnet', 'ResNet-')} from `Deep Residual Learning for "
                     "Image Recognition <https://arxiv.org/abs/1512.03385>`__.\n\n"
                     f"weights: a :class:`{enum.__name__}` (or its name, e.g. ``\"DEFAULT\"``) "
                     "or None for random initialisation; progress: show a download bar; "
                     "other keywords go to :class:`ResNet`.")
    return build


resnet18 = _builder("resnet18", ResNet18_Weights, BasicBlock, [2, 2, 2, 2])
resnet34 = _builder("resnet34", ResNet34_Weights, BasicBlock, [3, 4, 6, 3])
resnet50 = _builder("resnet50", ResNet50_Weights, Bottleneck, [3, 4, 6, 3])
resnet101 = _builder("resnet101", ResNet101_Weights, Bottleneck, [3, 4, 23, 3])
resnet152 = _builder("resnet152", ResNet152_Weights, Bottleneck, [3, 8, 36, 3])


# ResNeXt (grouped 3x3 convolutions) and Wide ResNet (twice the bottleneck width): the same
# Bottleneck network with other ``groups`` / ``width_per_group``
def _variant_weights(file, num_params, acc1, acc5, ops, size, recipe, v2=False):
    w = _weights(file, num_params, acc1, acc5, ops, size, v2=v2)
    w.meta["recipe"] = recipe
    return w


_ISSUE_3995 = "https://github.com/pytorch/vision/issues/3995"


class ResNeXt50_32X4D_Weights(WeightsEnum):
    IMAGENET1K_V1 = _variant_weights(
        "resnext50_32x4d-7cdf4587.pth", 25028904, 77.618, 93.698, 4.23, 95.789,
        "https://github.com/pytorch/vision/tree/main/references/classification#resnext")
    IMAGENET1K_V2 = _variant_weights(
        "resnext50_32x4d-1a0047aa.pth", 25028904, 81.198, 95.34, 4.23, 95.833,
        _ISSUE_3995 + "#new-recipe", v2=True)
    DEFAULT = IMAGENET1K_V2


class Wide_ResNet50_2_Weights(WeightsEnum):
    IMAGENET1K_V1 = _variant_weights(
        "wide_resnet50_2-95faca4d.pth", 68883240, 78.468, 94.086, 11.398, 131.82,
        "https://github.com/pytorch/vision/pull/912#issue-445437439")
    IMAGENET1K_V2 = _variant_weights(
        "wide_resnet50_2-9ba9bcbe.pth", 68883240, 81.602, 95.758, 11.398, 263.124,
        _ISSUE_3995 + "#new-recipe-with-fixres", v2=True)
    DEFAULT = IMAGENET1K_V2


def _grouped_builder(name, enum, groups, width_per_group, doc):
    @register_model(name)
    @handle_legacy_interface(weights=("weights", "pretrained"), default=enum.IMAGENET1K_V1)
    def build(*, weights: enum = None, progress: bool = True, **kwargs) -> ResNet:
        weights = enum.verify(weights)
        _ovewrite_named_param(kwargs, "groups", groups)
        _ovewrite_named_param(kwargs, "width_per_group", width_per_group)
        return _resnet(Bottleneck, [3, 4, 6, 3], weights, progress, **kwargs)

    build.__name__ = build.__qualname__ = name
    build.__doc__ = doc
    return build


resnext50_32x4d = _grouped_builder(
    "resnext50_32x4d", ResNeXt50_32X4D_Weights, 32, 4,
    "ResNeXt-50 32x4d from `Aggregated Residual Transformation for Deep Neural Networks "
    "<https://arxiv.org/abs/1611.05431>`__: ResNet-50 whose 3x3 convolutions have 32 groups.")
wide_resnet50_2 = _grouped_builder(
    "wide_resnet50_2", Wide_ResNet50_2_Weights, 1, 64 * 2,
    "Wide ResNet-50-2 from `Wide Residual Networks <https://arxiv.org/abs/1605.07146>`__: "
    "ResNet-50 with bottlenecks twice as wide (the outer 1x1 widths are unchanged).")

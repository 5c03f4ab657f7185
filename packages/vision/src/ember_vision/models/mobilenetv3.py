"""MobileNetV3 Small and Large as torchvision builds them: inverted residuals with optional
squeeze-excitation (hard-sigmoid gate) and Hardswish, from a per-block configuration table."""
from functools import partial

import ember
from ember import nn

from ..ops import Conv2dNormActivation, SqueezeExcitation as SElayer
from ._api import WeightsEnum, build_with_weights, model_builder
from ._meta import imagenet_weights
from ._utils import _make_divisible
from .mobilenetv2 import init_mobile_weights

__all__ = ["MobileNetV3", "MobileNet_V3_Large_Weights", "MobileNet_V3_Small_Weights",
           "mobilenet_v3_large", "mobilenet_v3_small"]


class InvertedResidualConfig:
    """One block of the table: channels (scaled by ``width_mult``), kernel, SE, activation
    ("RE" ReLU or "HS" Hardswish), stride and dilation."""

    def __init__(self, input_channels: int, kernel: int, expanded_channels: int,
                 out_channels: int, use_se: bool, activation: str, stride: int, dilation: int,
                 width_mult: float):
        self.input_channels = self.adjust_channels(input_channels, width_mult)
        self.kernel = kernel
        self.expanded_channels = self.adjust_channels(expanded_channels, width_mult)
        self.out_channels = self.adjust_channels(out_channels, width_mult)
        self.use_se = use_se
        self.use_hs = activation == "HS"
        self.stride = stride
        self.dilation = dilation

    @staticmethod
    def adjust_channels(channels: int, width_mult: float):
        return _make_divisible(channels * width_mult, 8)


class InvertedResidual(nn.Module):
    def __init__(self, cnf: InvertedResidualConfig, norm_layer,
                 se_layer=partial(SElayer, scale_activation=nn.Hardsigmoid)):
        super().__init__()
        if not 1 <= cnf.stride <= 2:
            raise ValueError("illegal stride value")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        activation_layer = nn.Hardswish if cnf.use_hs else nn.ReLU
        layers = []
        if cnf.expanded_channels != cnf.input_channels:
            layers.append(Conv2dNormActivation(
                cnf.input_channels, cnf.expanded_channels, kernel_size=1,
                norm_layer=norm_layer, activation_layer=activation_layer))
        # a dilated block keeps the resolution: its stride becomes dilation
        stride = 1 if cnf.dilation > 1 else cnf.stride
        layers.append(Conv2dNormActivation(
            cnf.expanded_channels, cnf.expanded_channels, kernel_size=cnf.kernel,
            stride=stride, dilation=cnf.dilation, groups=cnf.expanded_channels,
            norm_layer=norm_layer, activation_layer=activation_layer))
        if cnf.use_se:
            squeeze_channels = _make_divisible(cnf.expanded_channels // 4, 8)
            layers.append(se_layer(cnf.expanded_channels, squeeze_channels))
        layers.append(Conv2dNormActivation(cnf.expanded_channels, cnf.out_channels,
                                           kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.out_channels = cnf.out_channels
        self._is_cn = cnf.stride > 1

    def forward(self, input):
        result = self.block(input)
        if self.use_res_connect:
            result = result + input
        return result


class MobileNetV3(nn.Module):
    def __init__(self, inverted_residual_setting, last_channel: int, num_classes: int = 1000,
                 block=None, norm_layer=None, dropout: float = 0.2, **kwargs) -> None:
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError("The inverted_residual_setting should not be empty")
        if not (isinstance(inverted_residual_setting, (list, tuple)) and all(
                isinstance(s, InvertedResidualConfig) for s in inverted_residual_setting)):
            raise TypeError(
                "The inverted_residual_setting should be List[InvertedResidualConfig]")
        block = block or InvertedResidual
        if norm_layer is None:
            norm_layer = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
        first = inverted_residual_setting[0].input_channels
        layers = [Conv2dNormActivation(3, first, kernel_size=3, stride=2, norm_layer=norm_layer,
                                       activation_layer=nn.Hardswish)]
        layers += [block(cnf, norm_layer) for cnf in inverted_residual_setting]
        lastconv_input_channels = inverted_residual_setting[-1].out_channels
        lastconv_output_channels = 6 * lastconv_input_channels
        layers.append(Conv2dNormActivation(lastconv_input_channels, lastconv_output_channels,
                                           kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=nn.Hardswish))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(lastconv_output_channels, last_channel),
            nn.Hardswish(inplace=True),
            nn.Dropout(p=dropout, inplace=True),
            nn.Linear(last_channel, num_classes),
        )
        init_mobile_weights(self)

    def _forward_impl(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(ember.flatten(x, 1))

    def forward(self, x):
        return self._forward_impl(x)


# (input, kernel, expanded, output, SE, activation, stride); the last three blocks' channels
# are divided by ``reduce_divider`` and dilated when asked
_LARGE = [
    (16, 3, 16, 16, False, "RE", 1), (16, 3, 64, 24, False, "RE", 2),
    (24, 3, 72, 24, False, "RE", 1), (24, 5, 72, 40, True, "RE", 2),
    (40, 5, 120, 40, True, "RE", 1), (40, 5, 120, 40, True, "RE", 1),
    (40, 3, 240, 80, False, "HS", 2), (80, 3, 200, 80, False, "HS", 1),
    (80, 3, 184, 80, False, "HS", 1), (80, 3, 184, 80, False, "HS", 1),
    (80, 3, 480, 112, True, "HS", 1), (112, 3, 672, 112, True, "HS", 1),
    (112, 5, 672, 160, True, "HS", 2), (160, 5, 960, 160, True, "HS", 1),
    (160, 5, 960, 160, True, "HS", 1),
]
_SMALL = [
    (16, 3, 16, 16, True, "RE", 2), (16, 3, 72, 24, False, "RE", 2),
    (24, 3, 88, 24, False, "RE", 1), (24, 5, 96, 40, True, "HS", 2),
    (40, 5, 240, 40, True, "HS", 1), (40, 5, 240, 40, True, "HS", 1),
    (40, 5, 120, 48, True, "HS", 1), (48, 5, 144, 48, True, "HS", 1),
    (48, 5, 288, 96, True, "HS", 2), (96, 5, 576, 96, True, "HS", 1),
    (96, 5, 576, 96, True, "HS", 1),
]


def _mobilenet_v3_conf(arch: str, width_mult: float = 1.0, reduced_tail: bool = False,
                       dilated: bool = False, **kwargs):
    reduce_divider = 2 if reduced_tail else 1
    dilation = 2 if dilated else 1
    if arch == "mobilenet_v3_large":
        table, last = _LARGE, 1280
    elif arch == "mobilenet_v3_small":
        table, last = _SMALL, 1024
    else:
        raise ValueError(f"Unsupported model type {arch}")
    setting = []
    tail = len(table) - 3
    for i, (inp, k, exp, out, se, act, stride) in enumerate(table):
        if i >= tail:  # the C4 stage: optionally thinner and dilated
            inp = inp if i == tail else inp // reduce_divider
            exp = exp if i == tail else exp // reduce_divider
            out = out // reduce_divider
        setting.append(InvertedResidualConfig(inp, k, exp, out, se, act, stride,
                                              dilation if i >= tail else 1, width_mult))
    last_channel = InvertedResidualConfig.adjust_channels(last // reduce_divider, width_mult)
    return setting, last_channel


_RECIPE_V1 = ("https://github.com/pytorch/vision/tree/main/references/classification"
              "#mobilenetv3-large--small")


class MobileNet_V3_Large_Weights(WeightsEnum):
    IMAGENET1K_V1 = imagenet_weights(
        "mobilenet_v3_large-8738ca79.pth", num_params=5483032, acc1=74.042, acc5=91.34,
        ops=0.217, size=21.114, recipe=_RECIPE_V1, docs="scratch_simple")
    IMAGENET1K_V2 = imagenet_weights(
        "mobilenet_v3_large-5c1a4163.pth", num_params=5483032, acc1=75.274, acc5=92.566,
        ops=0.217, size=21.107, docs="marginal", resize_size=232,
        recipe="https://github.com/pytorch/vision/issues/3995#new-recipe-with-reg-tuning")
    DEFAULT = IMAGENET1K_V2


class MobileNet_V3_Small_Weights(WeightsEnum):
    IMAGENET1K_V1 = imagenet_weights(
        "mobilenet_v3_small-047dcff4.pth", num_params=2542856, acc1=67.668, acc5=87.402,
        ops=0.057, size=9.829, recipe=_RECIPE_V1, docs="improve_simple")
    DEFAULT = IMAGENET1K_V1


def _mobilenet_v3(arch):
    def construct(weights, progress, **kwargs):
        setting, last_channel = _mobilenet_v3_conf(arch, **kwargs)
        return build_with_weights(partial(MobileNetV3, setting, last_channel), weights,
                                  progress, **kwargs)

    construct.__module__ = __name__
    return construct


_DOC = ("MobileNetV3 {} from `Searching for MobileNetV3 <https://arxiv.org/abs/1905.02244>`__; "
        "``width_mult``, ``reduced_tail`` and ``dilated`` shape the table, other keywords go to "
        ":class:`MobileNetV3`.")
mobilenet_v3_large = model_builder("mobilenet_v3_large", MobileNet_V3_Large_Weights,
                                   _mobilenet_v3("mobilenet_v3_large"), _DOC.format("Large"))
mobilenet_v3_small = model_builder("mobilenet_v3_small", MobileNet_V3_Small_Weights,
                                   _mobilenet_v3("mobilenet_v3_small"), _DOC.format("Small"))

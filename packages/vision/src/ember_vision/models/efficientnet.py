"""EfficientNet B0-B3 as torchvision builds them: MBConv blocks (expand, depthwise, SiLU
squeeze-excitation, project) scaled in width and depth, with stochastic depth growing
linearly along the network."""
import copy
import math
from functools import partial

import ember
from ember import nn

from ..ops import Conv2dNormActivation, SqueezeExcitation, StochasticDepth
from ._api import WeightsEnum, build_with_weights, model_builder
from ._meta import imagenet_weights
from ._utils import _make_divisible
from .mobilenetv2 import init_mobile_weights
from ..transforms.functional import InterpolationMode

__all__ = ["EfficientNet", "EfficientNet_B0_Weights", "EfficientNet_B1_Weights",
           "EfficientNet_B2_Weights", "EfficientNet_B3_Weights", "efficientnet_b0",
           "efficientnet_b1", "efficientnet_b2", "efficientnet_b3"]


class _MBConvConfig:
    def __init__(self, expand_ratio, kernel, stride, input_channels, out_channels, num_layers,
                 block):
        self.expand_ratio = expand_ratio
        self.kernel = kernel
        self.stride = stride
        self.input_channels = input_channels
        self.out_channels = out_channels
        self.num_layers = num_layers
        self.block = block

    @staticmethod
    def adjust_channels(channels: int, width_mult: float, min_value=None) -> int:
        return _make_divisible(channels * width_mult, 8, min_value)


class MBConvConfig(_MBConvConfig):
    """One stage: channels scaled by ``width_mult``, repeats by ``depth_mult`` (rounded up)."""

    def __init__(self, expand_ratio: float, kernel: int, stride: int, input_channels: int,
                 out_channels: int, num_layers: int, width_mult: float = 1.0,
                 depth_mult: float = 1.0, block=None) -> None:
        super().__init__(expand_ratio, kernel, stride,
                         self.adjust_channels(input_channels, width_mult),
                         self.adjust_channels(out_channels, width_mult),
                         self.adjust_depth(num_layers, depth_mult), block or MBConv)

    @staticmethod
    def adjust_depth(num_layers: int, depth_mult: float):
        return int(math.ceil(num_layers * depth_mult))


class MBConv(nn.Module):
    def __init__(self, cnf: MBConvConfig, stochastic_depth_prob: float, norm_layer,
                 se_layer=SqueezeExcitation) -> None:
        super().__init__()
        if not 1 <= cnf.stride <= 2:
            raise ValueError("illegal stride value")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        expanded = cnf.adjust_channels(cnf.input_channels, cnf.expand_ratio)
        layers: list[nn.Module] = []
        if expanded != cnf.input_channels:
            layers.append(Conv2dNormActivation(cnf.input_channels, expanded, kernel_size=1,
                                               norm_layer=norm_layer,
                                               activation_layer=nn.SiLU))
        layers.append(Conv2dNormActivation(expanded, expanded, kernel_size=cnf.kernel,
                                           stride=cnf.stride, groups=expanded,
                                           norm_layer=norm_layer, activation_layer=nn.SiLU))
        # the squeeze width comes from the block's input, not its expanded width
        layers.append(se_layer(expanded, max(1, cnf.input_channels // 4),
                               activation=partial(nn.SiLU, inplace=True)))
        layers.append(Conv2dNormActivation(expanded, cnf.out_channels, kernel_size=1,
                                           norm_layer=norm_layer, activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels

    def forward(self, input):
        result = self.block(input)
        if self.use_res_connect:
            result = self.stochastic_depth(result) + input
        return result


class EfficientNet(nn.Module):
    def __init__(self, inverted_residual_setting, dropout: float,
                 stochastic_depth_prob: float = 0.2, num_classes: int = 1000, norm_layer=None,
                 last_channel=None) -> None:
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError("The inverted_residual_setting should not be empty")
        if not (isinstance(inverted_residual_setting, (list, tuple)) and all(
                isinstance(s, _MBConvConfig) for s in inverted_residual_setting)):
            raise TypeError("The inverted_residual_setting should be List[MBConvConfig]")
        norm_layer = norm_layer or nn.BatchNorm2d
        layers: list[nn.Module] = [
            Conv2dNormActivation(3, inverted_residual_setting[0].input_channels, kernel_size=3,
                                 stride=2, norm_layer=norm_layer, activation_layer=nn.SiLU)]
        total_stage_blocks = sum(cnf.num_layers for cnf in inverted_residual_setting)
        stage_block_id = 0
        for cnf in inverted_residual_setting:
            stage: list[nn.Module] = []
            for _ in range(cnf.num_layers):
                block_cnf = copy.copy(cnf)
                if stage:  # later blocks of a stage keep its width and resolution
                    block_cnf.input_channels = block_cnf.out_channels
                    block_cnf.stride = 1
                sd_prob = stochastic_depth_prob * float(stage_block_id) / total_stage_blocks
                stage.append(block_cnf.block(block_cnf, sd_prob, norm_layer))
                stage_block_id += 1
            layers.append(nn.Sequential(*stage))
        lastconv_input_channels = inverted_residual_setting[-1].out_channels
        lastconv_output_channels = (last_channel if last_channel is not None
                                    else 4 * lastconv_input_channels)
        layers.append(Conv2dNormActivation(lastconv_input_channels, lastconv_output_channels,
                                           kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout, inplace=True),
                                        nn.Linear(lastconv_output_channels, num_classes))
        init_mobile_weights(self, init_linear=_init_linear)

    def _forward_impl(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(ember.flatten(x, 1))

    def forward(self, x):
        return self._forward_impl(x)


def _init_linear(m):
    init_range = 1.0 / math.sqrt(m.out_features)
    nn.init.uniform_(m.weight, -init_range, init_range)


def _efficientnet_conf(arch: str, **kwargs):
    if not arch.startswith("efficientnet_b"):
        raise ValueError(f"Unsupported model type {arch}")
    bneck_conf = partial(MBConvConfig, width_mult=kwargs.pop("width_mult"),
                         depth_mult=kwargs.pop("depth_mult"))
    setting = [
        bneck_conf(1, 3, 1, 32, 16, 1),
        bneck_conf(6, 3, 2, 16, 24, 2),
        bneck_conf(6, 5, 2, 24, 40, 2),
        bneck_conf(6, 3, 2, 40, 80, 3),
        bneck_conf(6, 5, 1, 80, 112, 3),
        bneck_conf(6, 5, 2, 112, 192, 4),
        bneck_conf(6, 3, 1, 192, 320, 1),
    ]
    return setting, None


_RECIPE_V1 = ("https://github.com/pytorch/vision/tree/main/references/classification"
              "#efficientnet-v1")


def _ported(file, num_params, acc1, acc5, ops, size, crop, resize):
    # ported from Ross Wightman's timm weights, with his bicubic evaluation preset
    return imagenet_weights(file, num_params=num_params, acc1=acc1, acc5=acc5, ops=ops,
                            size=size, recipe=_RECIPE_V1, docs="paper", crop=crop,
                            resize_size=resize, interpolation=InterpolationMode.BICUBIC)


class EfficientNet_B0_Weights(WeightsEnum):
    IMAGENET1K_V1 = _ported("efficientnet_b0_rwightman-7f5810bc.pth", 5288548, 77.692, 93.532,
                            0.386, 20.451, 224, 256)
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B1_Weights(WeightsEnum):
    IMAGENET1K_V1 = _ported("efficientnet_b1_rwightman-bac287d4.pth", 7794184, 78.642, 94.186,
                            0.687, 30.134, 240, 256)
    IMAGENET1K_V2 = imagenet_weights(
        "efficientnet_b1-c27df63c.pth", num_params=7794184, acc1=79.838, acc5=94.934,
        ops=0.687, size=30.136, docs="modified_recipe", crop=240, resize_size=255,
        interpolation=InterpolationMode.BILINEAR,
        recipe="https://github.com/pytorch/vision/issues/3995#new-recipe-with-lr-wd-crop-tuning")
    DEFAULT = IMAGENET1K_V2


class EfficientNet_B2_Weights(WeightsEnum):
    IMAGENET1K_V1 = _ported("efficientnet_b2_rwightman-c35c1473.pth", 9109994, 80.608, 95.31,
                            1.088, 35.174, 288, 288)
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B3_Weights(WeightsEnum):
    IMAGENET1K_V1 = _ported("efficientnet_b3_rwightman-b3899882.pth", 12233232, 82.008, 96.054,
                            1.827, 47.184, 300, 320)
    DEFAULT = IMAGENET1K_V1


def _efficientnet(width_mult, depth_mult, dropout):
    def construct(weights, progress, **kwargs):
        setting, last_channel = _efficientnet_conf("efficientnet_b", width_mult=width_mult,
                                                   depth_mult=depth_mult)
        return build_with_weights(
            partial(EfficientNet, setting, kwargs.pop("dropout", dropout),
                    last_channel=last_channel), weights, progress, **kwargs)

    construct.__module__ = __name__
    return construct


def _builder(variant, enum, width_mult, depth_mult, dropout):
    return model_builder(
        f"efficientnet_{variant}", enum, _efficientnet(width_mult, depth_mult, dropout),
        f"EfficientNet {variant.upper()} from `EfficientNet: Rethinking Model Scaling for "
        "Convolutional Neural Networks <https://arxiv.org/abs/1905.11946>`__; keywords "
        "(``dropout``, ``stochastic_depth_prob``, ``num_classes``...) go to "
        ":class:`EfficientNet`.")


efficientnet_b0 = _builder("b0", EfficientNet_B0_Weights, 1.0, 1.0, 0.2)
efficientnet_b1 = _builder("b1", EfficientNet_B1_Weights, 1.0, 1.1, 0.2)
efficientnet_b2 = _builder("b2", EfficientNet_B2_Weights, 1.1, 1.2, 0.3)
efficientnet_b3 = _builder("b3", EfficientNet_B3_Weights, 1.2, 1.4, 0.3)

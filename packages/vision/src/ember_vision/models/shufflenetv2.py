"""ShuffleNet V2 (1.0x) as torchvision builds it: channel split, depthwise convolutions and a
channel shuffle between units."""
from functools import partial

import ember
from ember import nn

from ._api import WeightsEnum, build_with_weights, model_builder
from ._meta import imagenet_weights

__all__ = ["ShuffleNetV2", "ShuffleNet_V2_X1_0_Weights", "shufflenet_v2_x1_0"]


def channel_shuffle(x, groups: int):
    """Interleave the channels of ``groups`` groups, so the next unit mixes both branches."""
    batchsize, num_channels, height, width = x.size()
    x = x.view(batchsize, groups, num_channels // groups, height, width)
    x = ember.transpose(x, 1, 2).contiguous()
    return x.view(batchsize, num_channels, height, width)


def _conv_bn(inp, oup, relu=True):
    layers = [nn.Conv2d(inp, oup, kernel_size=1, stride=1, padding=0, bias=False),
              nn.BatchNorm2d(oup)]
    return layers + [nn.ReLU(inplace=True)] if relu else layers


class InvertedResidual(nn.Module):
    def __init__(self, inp: int, oup: int, stride: int) -> None:
        super().__init__()
        if not 1 <= stride <= 3:
            raise ValueError("illegal stride value")
        self.stride = stride
        branch_features = oup // 2
        if self.stride == 1 and inp != branch_features << 1:
            raise ValueError(
                f"Invalid combination of stride {stride}, inp {inp} and oup {oup} values. If "
                "stride == 1 then inp should be equal to oup // 2 << 1.")
        if self.stride > 1:
            self.branch1 = nn.Sequential(
                self.depthwise_conv(inp, inp, kernel_size=3, stride=self.stride, padding=1),
                nn.BatchNorm2d(inp),
                *_conv_bn(inp, branch_features),
            )
        else:
            self.branch1 = nn.Sequential()
        self.branch2 = nn.Sequential(
            *_conv_bn(inp if self.stride > 1 else branch_features, branch_features),
            self.depthwise_conv(branch_features, branch_features, kernel_size=3,
                                stride=self.stride, padding=1),
            nn.BatchNorm2d(branch_features),
            *_conv_bn(branch_features, branch_features),
        )

    @staticmethod
    def depthwise_conv(i: int, o: int, kernel_size: int, stride: int = 1, padding: int = 0,
                       bias: bool = False) -> nn.Conv2d:
        return nn.Conv2d(i, o, kernel_size, stride, padding, bias=bias, groups=i)

    def forward(self, x):
        if self.stride == 1:
            # half the channels pass through untouched
            x1, x2 = x.chunk(2, dim=1)
            out = ember.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = ember.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


class ShuffleNetV2(nn.Module):
    def __init__(self, stages_repeats, stages_out_channels, num_classes: int = 1000,
                 inverted_residual=InvertedResidual) -> None:
        super().__init__()
        if len(stages_repeats) != 3:
            raise ValueError("expected stages_repeats as list of 3 positive ints")
        if len(stages_out_channels) != 5:
            raise ValueError("expected stages_out_channels as list of 5 positive ints")
        self._stage_out_channels = stages_out_channels
        output_channels = self._stage_out_channels[0]
        self.conv1 = nn.Sequential(
            nn.Conv2d(3, output_channels, 3, 2, 1, bias=False),
            nn.BatchNorm2d(output_channels),
            nn.ReLU(inplace=True),
        )
        input_channels = output_channels
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        for i, (repeats, output_channels) in enumerate(
                zip(stages_repeats, self._stage_out_channels[1:])):
            seq = [inverted_residual(input_channels, output_channels, 2)]
            seq += [inverted_residual(output_channels, output_channels, 1)
                    for _ in range(repeats - 1)]
            setattr(self, f"stage{i + 2}", nn.Sequential(*seq))
            input_channels = output_channels
        output_channels = self._stage_out_channels[-1]
        self.conv5 = nn.Sequential(*_conv_bn(input_channels, output_channels))
        self.fc = nn.Linear(output_channels, num_classes)

    def _forward_impl(self, x):
        x = self.maxpool(self.conv1(x))
        x = self.conv5(self.stage4(self.stage3(self.stage2(x))))
        return self.fc(x.mean([2, 3]))  # global average pool

    def forward(self, x):
        return self._forward_impl(x)


class ShuffleNet_V2_X1_0_Weights(WeightsEnum):
    IMAGENET1K_V1 = imagenet_weights(
        "shufflenetv2_x1-5666bf0f80.pth", num_params=2278604, acc1=69.362, acc5=88.316,
        ops=0.145, size=8.791, docs="scratch_paper",
        recipe="https://github.com/ericsun99/Shufflenet-v2-Pytorch")
    DEFAULT = IMAGENET1K_V1


def _shufflenetv2(repeats, channels):
    def construct(weights, progress, **kwargs):
        return build_with_weights(partial(ShuffleNetV2, repeats, channels), weights, progress,
                                  **kwargs)

    construct.__module__ = __name__
    return construct


shufflenet_v2_x1_0 = model_builder(
    "shufflenet_v2_x1_0", ShuffleNet_V2_X1_0_Weights,
    _shufflenetv2([4, 8, 4], [24, 116, 232, 464, 1024]),
    "ShuffleNetV2 with 1.0x output channels, from `ShuffleNet V2: Practical Guidelines for "
    "Efficient CNN Architecture Design <https://arxiv.org/abs/1807.11164>`__; keywords go to "
    ":class:`ShuffleNetV2`.")

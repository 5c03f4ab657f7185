"""Cases for the ops torchvision's classification models and F.interpolate need (adaptive
pooling of any output size, hard activations, SiLU, ReLU6, depthwise convolution, resampling),
in ``nn_cases``' format: ``(name, input specs, fn(T, F, *inputs))``, run on torch by
``test_torch_vision_ops_nn.py`` and ``tools/make_golden_vision_ops.py``, on Ember against
the goldens by ``test_vision_ops_golden.py``. Inputs are float64.
"""
X4 = ((1, 3, 7, 9), "f")


def _inplace_on_view(fn, x):
    """An in-place activation on part of a non-leaf: the base's grad_fn becomes CopySlices."""
    y = x * 4
    fn(y[:, 1:], inplace=True)
    return y


# values near the activations' kinks are what the cases are about: scale the inputs up
CASES = [
    ("adaptive_avg_3x4", [X4], lambda T, F, x: F.adaptive_avg_pool2d(x, (3, 4))),
    ("adaptive_avg_5_none", [X4], lambda T, F, x: F.adaptive_avg_pool2d(x, (5, None))),
    ("adaptive_avg_unbatched", [((3, 7, 9), "f")], lambda T, F, x: F.adaptive_avg_pool2d(x, 4)),
    ("adaptive_max_3x4", [X4], lambda T, F, x: F.adaptive_max_pool2d(x, (3, 4), True)),
    ("adaptive_max_6", [X4], lambda T, F, x: F.adaptive_max_pool2d(x, 6)),
    ("adaptive_max_module", [X4], lambda T, F, x: T.nn.AdaptiveMaxPool2d((2, None))(x)),
    ("max_pool_ceil", [X4], lambda T, F, x: F.max_pool2d(x, 3, 2, ceil_mode=True)),
    ("avg_pool_ceil_nopad", [X4],
     lambda T, F, x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False)),
    ("avg_pool_ceil_pad", [X4],  # windows past the padding: the divisor stops at it
     lambda T, F, x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=True)),
    ("googlenet_pool", [X4], lambda T, F, x: T.nn.MaxPool2d(3, 2, ceil_mode=True)(x)),
    ("avg_pool_divisor", [X4], lambda T, F, x: F.avg_pool2d(x, 2, divisor_override=3)),
    ("hardswish", [X4], lambda T, F, x: F.hardswish(x * 4)),
    ("hardswish_inplace", [X4], lambda T, F, x: F.hardswish(x * 4, inplace=True)),
    ("hardsigmoid", [X4], lambda T, F, x: F.hardsigmoid(x * 4)),
    ("hardsigmoid_module", [X4], lambda T, F, x: T.nn.Hardsigmoid(inplace=True)(x * 4)),
    ("silu", [X4], lambda T, F, x: F.silu(x * 4)),
    ("silu_inplace_view", [X4], lambda T, F, x: _inplace_on_view(F.silu, x)),
    ("hardswish_inplace_view", [X4], lambda T, F, x: _inplace_on_view(F.hardswish, x)),
    ("relu6_inplace_view", [X4], lambda T, F, x: _inplace_on_view(F.relu6, x)),
    ("silu_inplace", [X4], lambda T, F, x: T.nn.SiLU(inplace=True)(x * 4)),
    ("relu6", [X4], lambda T, F, x: F.relu6(x * 4)),
    ("relu6_inplace", [X4], lambda T, F, x: T.nn.ReLU6(inplace=True)(x * 4)),
    ("hardtanh", [X4], lambda T, F, x: F.hardtanh(x, -0.5, 0.7)),
    ("gelu_tanh", [X4], lambda T, F, x: F.gelu(x * 3, approximate="tanh")),
    ("depthwise_3x3_s1", [X4, ((3, 1, 3, 3), "f"), ((3,), "f")],
     lambda T, F, x, w, b: F.conv2d(x, w, b, 1, 1, 1, 3)),
    ("depthwise_5x5_s2", [((1, 4, 11, 10), "f"), ((4, 1, 5, 5), "f")],
     lambda T, F, x, w: F.conv2d(x, w, None, 2, 2, 1, 4)),
    ("depthwise_multiplier", [X4, ((6, 1, 3, 2), "f")],
     lambda T, F, x, w: F.conv2d(x, w, None, (2, 1), (0, 1), (1, 2), 3)),
    ("interp_nearest_size", [X4], lambda T, F, x: F.interpolate(x, size=(11, 4))),
    ("interp_nearest_x2", [X4], lambda T, F, x: F.interpolate(x, scale_factor=2)),
    ("interp_nearest_frac", [X4], lambda T, F, x: F.interpolate(x, scale_factor=(1.7, 0.45))),
    ("interp_bilinear", [X4], lambda T, F, x: F.interpolate(x, size=(11, 4), mode="bilinear")),
    ("interp_bilinear_ac", [X4],
     lambda T, F, x: F.interpolate(x, size=(11, 4), mode="bilinear", align_corners=True)),
    ("interp_bilinear_scale", [X4],
     lambda T, F, x: F.interpolate(x, scale_factor=(1.3, 0.6), mode="bilinear")),
    ("interp_bilinear_recompute", [X4],
     lambda T, F, x: F.interpolate(x, scale_factor=(1.3, 0.6), mode="bilinear",
                                   recompute_scale_factor=True)),
    ("interp_linear_1d", [((2, 3, 7), "f")],
     lambda T, F, x: F.interpolate(x, size=12, mode="linear")),
    ("interp_nearest_1d", [((2, 3, 7), "f")], lambda T, F, x: F.interpolate(x, scale_factor=3)),
    ("interp_nearest_exact", [X4],
     lambda T, F, x: F.interpolate(x, size=(11, 4), mode="nearest-exact")),
    ("interp_nearest_exact_1d", [((2, 3, 7), "f")],
     lambda T, F, x: F.interpolate(x, scale_factor=2.5, mode="nearest-exact")),
    ("interp_area", [X4], lambda T, F, x: F.interpolate(x, size=(3, 4), mode="area")),
    ("upsample_module", [X4],
     lambda T, F, x: T.nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)(x)),
    ("upsampling_bilinear2d", [X4], lambda T, F, x: T.nn.UpsamplingBilinear2d((5, 11))(x)),
    ("upsampling_nearest2d", [X4],
     lambda T, F, x: T.nn.UpsamplingNearest2d(scale_factor=2)(x)),
    ("layer_norm_nhwc", [X4, ((3,), "f"), ((3,), "f")],
     lambda T, F, x, w, b: F.layer_norm(x.permute(0, 2, 3, 1), (3,), w, b, 1e-6)
     .permute(0, 3, 1, 2)),
    ("channel_shuffle", [((2, 6, 3, 3), "f")], lambda T, F, x: F.channel_shuffle(x, 3)),
    ("channel_shuffle_module", [((2, 6, 5), "f")], lambda T, F, x: T.nn.ChannelShuffle(2)(x)),
    ("channel_shuffle_view", [((2, 6, 3, 3), "f")],
     lambda T, F, x: x.view(2, 2, 3, 3, 3).transpose(1, 2).contiguous().view(2, -1, 3, 3)),
]

# modules whose reprs must match torch's
REPRS = [
    lambda nn: nn.AdaptiveMaxPool2d((3, None)),
    lambda nn: nn.AdaptiveMaxPool2d(3, return_indices=True),
    lambda nn: nn.Hardswish(inplace=True),
    lambda nn: nn.Hardsigmoid(),
    lambda nn: nn.SiLU(inplace=True),
    lambda nn: nn.ReLU6(inplace=True),
    lambda nn: nn.Hardtanh(-2.0, 2.0),
    lambda nn: nn.GELU("tanh"),
    lambda nn: nn.Upsample(scale_factor=2),
    lambda nn: nn.Upsample(size=(3, 4), mode="bilinear", align_corners=True),
    lambda nn: nn.Upsample(scale_factor=(2, 3), mode="bilinear"),
    lambda nn: nn.ChannelShuffle(3),
    lambda nn: nn.UpsamplingNearest2d(scale_factor=2),
    lambda nn: nn.UpsamplingBilinear2d(size=(3, 4)),
]

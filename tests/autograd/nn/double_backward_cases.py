"""Double-backward cases for the ops with fused backward kernels (conv, pooling,
normalisation, softmax, losses, embedding, resampling, activations).

Each case is ``(name, input specs, fn(T, F, *inputs))`` with ``T`` the framework (``ember`` or
``torch``) and ``F`` its ``nn.functional``; a spec is ``(shape, kind)``, kind ``"f"`` for
standard normal values, ``"p"`` for values in (0.1, 0.9). Every input is float64 and requires
grad. ``test_double_backward_nn.py`` runs them through Ember's ``gradgradcheck``,
``test_torch_double_backward_nn.py`` against torch's second derivatives and node names.
"""
import numpy as np


def _long(T, values):
    return T.tensor(values, dtype=T.int64)


def _f64(T, values):
    return T.tensor(values, dtype=T.float64)


_RM = [0.3, -0.2]
_RV = [0.7, 1.4]
_W4 = [0.5, 1.5, 0.8, 1.1]
_PW = [1.2, 0.6, 2.0, 0.9]
X = ((2, 3, 5, 5), "f")

CASES = [
    ("conv", [X, ((4, 3, 3, 3), "f"), ((4,), "f")],
     lambda T, F, x, w, b: F.conv2d(x, w, b)),
    ("conv_stride_pad_groups", [((1, 4, 6, 5), "f"), ((4, 2, 3, 2), "f"), ((4,), "f")],
     lambda T, F, x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=2)),
    ("conv_dilation_no_bias", [((1, 2, 7, 6), "f"), ((3, 2, 2, 3), "f")],
     lambda T, F, x, w: F.conv2d(x, w, None, stride=(1, 2), padding=(2, 1), dilation=2)),
    ("conv_same_even_kernel", [((1, 2, 4, 5), "f"), ((2, 2, 2, 2), "f")],
     lambda T, F, x, w: F.conv2d(x, w, padding="same")),
    ("conv_unbatched", [((2, 4, 4), "f"), ((3, 2, 3, 3), "f")],
     lambda T, F, x, w: F.conv2d(x, w)),
    ("conv_depthwise", [((2, 3, 5, 5), "f"), ((3, 1, 3, 3), "f"), ((3,), "f")],
     lambda T, F, x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=3)),
    ("conv_1x1", [((2, 4, 3, 3), "f"), ((5, 4, 1, 1), "f")],
     lambda T, F, x, w: F.conv2d(x, w)),
    ("max_pool", [X], lambda T, F, x: F.max_pool2d(x, 2, padding=1)),
    ("max_pool_ceil_dilation", [X],
     lambda T, F, x: F.max_pool2d(x, 2, 2, dilation=2, ceil_mode=True)),
    ("avg_pool", [X], lambda T, F, x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)),
    ("avg_pool_divisor", [X], lambda T, F, x: F.avg_pool2d(x, 2, divisor_override=3)),
    ("adaptive_avg", [X], lambda T, F, x: F.adaptive_avg_pool2d(x, (3, 2))),
    ("adaptive_avg_1x1", [X], lambda T, F, x: F.adaptive_avg_pool2d(x, 1)),
    ("adaptive_max", [X], lambda T, F, x: F.adaptive_max_pool2d(x, (3, 2))),
    ("batch_norm_train", [((3, 2, 2, 2), "f"), ((2,), "f"), ((2,), "f")],
     lambda T, F, x, w, b: F.batch_norm(x, None, None, w, b, True)),
    ("batch_norm_train_2d_no_affine", [((4, 3), "f")],
     lambda T, F, x: F.batch_norm(x, None, None, training=True)),
    ("batch_norm_eval", [((3, 2, 2, 2), "f"), ((2,), "f"), ((2,), "f")],
     lambda T, F, x, w, b: F.batch_norm(x, _f64(T, _RM), _f64(T, _RV), w, b, False)),
    ("layer_norm", [((2, 4, 3), "f"), ((3,), "f"), ((3,), "f")],
     lambda T, F, x, w, b: F.layer_norm(x, (3,), w, b)),
    ("layer_norm_2d_no_affine", [((2, 3, 2), "f")],
     lambda T, F, x: F.layer_norm(x, (3, 2))),
    ("softmax", [((2, 4, 3), "f")], lambda T, F, x: F.softmax(x, 1)),
    ("log_softmax", [((2, 4, 3), "f")], lambda T, F, x: F.log_softmax(x, -1)),
    ("nll_weighted", [((3, 4), "f")],
     lambda T, F, x: F.nll_loss(x, _long(T, [1, 0, 3]), weight=_f64(T, _W4))),
    ("nll_none_ignore", [((3, 4), "f")],
     lambda T, F, x: F.nll_loss(x, _long(T, [1, 0, 3]), reduction="none", ignore_index=0)),
    ("cross_entropy", [((3, 4), "f")],
     lambda T, F, x: F.cross_entropy(x, _long(T, [1, 0, 3]))),
    ("cross_entropy_2d", [((1, 4, 2, 2), "f")],
     lambda T, F, x: F.cross_entropy(x, _long(T, [[[1, 0], [3, 2]]]), reduction="sum")),
    ("mse", [((3, 4), "f"), ((3, 4), "f")], lambda T, F, x, y: F.mse_loss(x, y)),
    ("mse_none_broadcast", [((3, 4), "f"), ((4,), "f")],
     lambda T, F, x, y: F.mse_loss(x, y.expand(3, 4), reduction="none")),
    ("bce_logits", [((3, 4), "f"), ((3, 4), "p")],
     lambda T, F, x, y: F.binary_cross_entropy_with_logits(x, y)),
    ("bce_logits_weights", [((3, 4), "f"), ((3, 4), "p")],
     lambda T, F, x, y: F.binary_cross_entropy_with_logits(
         x, y, weight=_f64(T, _W4), pos_weight=_f64(T, _PW), reduction="sum")),
    ("embedding", [((5, 3), "f")],
     lambda T, F, w: F.embedding(_long(T, [[1, 0], [3, 1]]), w)),
    ("embedding_pad", [((5, 3), "f")],
     lambda T, F, w: F.embedding(_long(T, [[1, 0], [3, 1]]), w, padding_idx=0)),
    ("leaky_relu", [((3, 4), "f")], lambda T, F, x: F.leaky_relu(x, 0.2)),
    ("gelu", [((3, 4), "f")], lambda T, F, x: F.gelu(x)),
    ("gelu_tanh", [((3, 4), "f")], lambda T, F, x: F.gelu(x, approximate="tanh")),
    ("silu", [((3, 4), "f")], lambda T, F, x: F.silu(x)),
    ("hardswish", [((3, 4), "f")], lambda T, F, x: F.hardswish(x * 3)),
    ("hardtanh", [((3, 4), "f")], lambda T, F, x: F.hardtanh(x * 2)),
    ("upsample_bilinear", [((1, 2, 3, 3), "f")],
     lambda T, F, x: F.interpolate(x, scale_factor=2, mode="bilinear")),
    ("upsample_bilinear_align", [((1, 2, 3, 3), "f")],
     lambda T, F, x: F.interpolate(x, size=(4, 5), mode="bilinear", align_corners=True)),
    ("upsample_nearest", [((1, 2, 3, 3), "f")],
     lambda T, F, x: F.interpolate(x, size=(5, 4), mode="nearest")),
    ("upsample_linear", [((1, 2, 3), "f")],
     lambda T, F, x: F.interpolate(x, scale_factor=2.5, mode="linear")),
]

# torch's second derivative here leaves out the 1/count scaling (its own gradgradcheck fails
# on it); Ember's is the true one, checked by gradgradcheck only
EMBER_ONLY = [
    ("embedding_pad_freq", [((5, 3), "f")],
     lambda T, F, w: F.embedding(_long(T, [[1, 0], [3, 1]]), w, padding_idx=0,
                                 scale_grad_by_freq=True)),
]


def make_inputs(specs, seed):
    """float64 arrays for ``specs``, the same for every framework."""
    rng = np.random.default_rng(seed)
    out = []
    for shape, kind in specs:
        if kind == "p":
            out.append(rng.uniform(0.1, 0.9, shape))
        else:
            out.append(rng.standard_normal(shape))
    return out

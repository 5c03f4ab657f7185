"""One table of nn functional cases, run on torch (the oracle) and on Ember alike.

Each case: ``(name, input specs, fn(T, F, *inputs))`` where ``T`` is ``torch`` or ``ember``
and ``F`` its ``nn.functional``. An input spec is ``(shape, kind)`` with kind ``"f"`` (float,
gets a gradient), ``"c"`` (float constant), ``"p"`` (positive float constant) or
``("i", high)`` (int64 in [0, high)). Used by ``test_torch_nn_functional.py`` (live torch)
and by ``tools/make_golden_nn_modules.py`` (golden files for the default suite).
"""
import numpy as np


def make_inputs(specs, seed):
    rng = np.random.default_rng(seed)
    out = []
    for shape, kind in specs:
        if kind in ("f", "c"):
            out.append(rng.standard_normal(shape).astype(np.float64))
        elif kind == "p":
            out.append(rng.uniform(0.2, 1.5, shape).astype(np.float64))
        elif kind == "u":
            out.append(rng.uniform(0.0, 1.0, shape).astype(np.float64))
        else:
            out.append(rng.integers(0, kind[1], shape).astype(np.int64))
    return out


def _ce_ignore(T, F, x, t):
    t = t.clone()
    t[0] = -100
    return F.cross_entropy(x, t)


CASES = [
    ("linear_2d", [((4, 3), "f"), ((5, 3), "f"), ((5,), "f")], lambda T, F, x, w, b: F.linear(x, w, b)),
    ("linear_3d", [((2, 4, 3), "f"), ((5, 3), "f"), ((5,), "f")], lambda T, F, x, w, b: F.linear(x, w, b)),
    ("linear_1d_nobias", [((3,), "f"), ((5, 3), "f")], lambda T, F, x, w: F.linear(x, w)),
    ("linear_2d_nobias", [((4, 3), "f"), ((5, 3), "f")], lambda T, F, x, w: F.linear(x, w)),
    ("conv2d_basic", [((2, 3, 7, 6), "f"), ((4, 3, 3, 3), "f"), ((4,), "f")],
     lambda T, F, x, w, b: F.conv2d(x, w, b)),
    ("conv2d_stride_pad", [((2, 3, 9, 8), "f"), ((4, 3, 3, 2), "f"), ((4,), "f")],
     lambda T, F, x, w, b: F.conv2d(x, w, b, stride=2, padding=(1, 2))),
    ("conv2d_dilation_groups", [((1, 4, 9, 9), "f"), ((6, 2, 3, 3), "f")],
     lambda T, F, x, w: F.conv2d(x, w, None, 1, 2, 2, 2)),
    ("conv2d_same_even", [((1, 2, 6, 5), "f"), ((3, 2, 4, 2), "f")],
     lambda T, F, x, w: F.conv2d(x, w, padding="same")),
    ("conv2d_unbatched", [((3, 6, 6), "f"), ((2, 3, 3, 3), "f")],
     lambda T, F, x, w: F.conv2d(x, w, padding=1)),
    ("relu", [((3, 4), "f")], lambda T, F, x: F.relu(x)),
    ("leaky_relu", [((3, 4), "f")], lambda T, F, x: F.leaky_relu(x, 0.2)),
    ("gelu", [((3, 4), "f")], lambda T, F, x: F.gelu(x)),
    ("gelu_tanh", [((3, 4), "f")], lambda T, F, x: F.gelu(x, approximate="tanh")),
    ("sigmoid", [((3, 4), "f")], lambda T, F, x: F.sigmoid(x)),
    ("tanh", [((3, 4), "f")], lambda T, F, x: F.tanh(x)),
    ("softmax_1", [((3, 4, 2), "f")], lambda T, F, x: F.softmax(x, dim=1)),
    ("softmax_last", [((3, 5), "f")], lambda T, F, x: F.softmax(x, -1)),
    ("log_softmax_0", [((3, 4), "f")], lambda T, F, x: F.log_softmax(x, 0)),
    ("max_pool2d", [((2, 3, 8, 7), "f")], lambda T, F, x: F.max_pool2d(x, 3, 2, 1)),
    ("max_pool2d_ceil_dil", [((1, 2, 9, 9), "f")],
     lambda T, F, x: F.max_pool2d(x, 2, 2, 1, dilation=2, ceil_mode=True)),
    ("max_pool2d_indices", [((1, 2, 6, 6), "f")],
     lambda T, F, x: F.max_pool2d(x, 2, return_indices=True)[1]),
    ("max_pool2d_unbatched", [((2, 5, 5), "f")], lambda T, F, x: F.max_pool2d(x, (2, 3))),
    ("avg_pool2d", [((2, 3, 8, 7), "f")], lambda T, F, x: F.avg_pool2d(x, 3, 2, 1)),
    ("avg_pool2d_ceil_nopad", [((1, 2, 7, 7), "f")],
     lambda T, F, x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False)),
    ("avg_pool2d_ceil_pad", [((1, 2, 7, 7), "f")],
     lambda T, F, x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True)),
    ("avg_pool2d_divisor", [((1, 2, 6, 6), "f")],
     lambda T, F, x: F.avg_pool2d(x, 2, divisor_override=3)),
    ("adaptive_avg_pool2d_1", [((2, 3, 5, 4), "f")],
     lambda T, F, x: F.adaptive_avg_pool2d(x, (1, 1))),
    ("adaptive_avg_pool2d_uneven", [((2, 3, 7, 5), "f")],
     lambda T, F, x: F.adaptive_avg_pool2d(x, (3, 2))),
    ("adaptive_avg_pool2d_none", [((1, 2, 6, 4), "f")],
     lambda T, F, x: F.adaptive_avg_pool2d(x, (None, 3))),
    ("batch_norm_train", [((4, 3, 2, 2), "f"), ((3,), "f"), ((3,), "f")],
     lambda T, F, x, w, b: F.batch_norm(x, None, None, w, b, training=True)),
    ("batch_norm_train_1d", [((5, 3), "f"), ((3,), "f"), ((3,), "f")],
     lambda T, F, x, w, b: F.batch_norm(x, None, None, w, b, True, 0.1, 1e-3)),
    ("batch_norm_eval", [((4, 3, 2, 2), "f"), ((3,), "c"), ((3,), "p"), ((3,), "f"), ((3,), "f")],
     lambda T, F, x, rm, rv, w, b: F.batch_norm(x, rm, rv, w, b)),
    ("batch_norm_running", [((4, 3, 2, 2), "c"), ((3,), "c"), ((3,), "p")],
     lambda T, F, x, rm, rv: (F.batch_norm(x, rm, rv, training=True, momentum=0.3), rm, rv)[1:]),
    ("layer_norm", [((2, 3, 4), "f"), ((3, 4), "f"), ((3, 4), "f")],
     lambda T, F, x, w, b: F.layer_norm(x, (3, 4), w, b)),
    ("layer_norm_plain", [((2, 5), "f")], lambda T, F, x: F.layer_norm(x, (5,), eps=1e-3)),
    ("nll_loss", [((5, 4), "f"), ((5,), ("i", 4))], lambda T, F, x, t: F.nll_loss(x, t)),
    ("nll_loss_weight_sum", [((5, 4), "f"), ((5,), ("i", 4)), ((4,), "p")],
     lambda T, F, x, t, w: F.nll_loss(x, t, w, reduction="sum")),
    ("nll_loss_2d_none", [((2, 3, 2, 2), "f"), ((2, 2, 2), ("i", 3))],
     lambda T, F, x, t: F.nll_loss(x, t, reduction="none")),
    ("nll_loss_unbatched", [((4,), "f"), ((), ("i", 4))], lambda T, F, x, t: F.nll_loss(x, t)),
    ("cross_entropy", [((5, 4), "f"), ((5,), ("i", 4))], lambda T, F, x, t: F.cross_entropy(x, t)),
    ("cross_entropy_weight_ignore", [((5, 4), "f"), ((5,), ("i", 4)), ((4,), "p")],
     lambda T, F, x, t, w: F.cross_entropy(x, t, w, ignore_index=2)),
    ("cross_entropy_ignore_default", [((5, 4), "f"), ((5,), ("i", 4))], _ce_ignore),
    ("cross_entropy_smooth", [((5, 4), "f"), ((5,), ("i", 4))],
     lambda T, F, x, t: F.cross_entropy(x, t, label_smoothing=0.2)),
    ("cross_entropy_smooth_weight", [((5, 4), "f"), ((5,), ("i", 4)), ((4,), "p")],
     lambda T, F, x, t, w: F.cross_entropy(x, t, w, label_smoothing=0.1, ignore_index=1)),
    ("cross_entropy_smooth_none", [((5, 4), "f"), ((5,), ("i", 4))],
     lambda T, F, x, t: F.cross_entropy(x, t, reduction="none", label_smoothing=0.3)),
    ("cross_entropy_probs", [((5, 4), "f"), ((5, 4), "u")],
     lambda T, F, x, p: F.cross_entropy(x, p)),
    ("cross_entropy_2d", [((2, 3, 2, 2), "f"), ((2, 2, 2), ("i", 3))],
     lambda T, F, x, t: F.cross_entropy(x, t, reduction="sum")),
    ("mse_loss", [((3, 4), "f"), ((3, 4), "f")], lambda T, F, x, y: F.mse_loss(x, y)),
    ("mse_loss_sum", [((3, 4), "f"), ((3, 4), "c")],
     lambda T, F, x, y: F.mse_loss(x, y, reduction="sum")),
    ("mse_loss_none", [((3, 4), "f"), ((3, 4), "c")],
     lambda T, F, x, y: F.mse_loss(x, y, reduction="none")),
    ("l1_loss", [((3, 4), "f"), ((3, 4), "c")], lambda T, F, x, y: F.l1_loss(x, y)),
    ("l1_loss_sum", [((3, 4), "f"), ((3, 4), "c")],
     lambda T, F, x, y: F.l1_loss(x, y, reduction="sum")),
    ("bce_logits", [((3, 4), "f"), ((3, 4), "u")],
     lambda T, F, x, y: F.binary_cross_entropy_with_logits(x, y)),
    ("bce_logits_weights", [((3, 4), "f"), ((3, 4), "u"), ((4,), "p"), ((4,), "p")],
     lambda T, F, x, y, w, pw: F.binary_cross_entropy_with_logits(
         x, y, w, pos_weight=pw, reduction="sum")),
    ("embedding", [((3, 2), ("i", 5)), ((5, 3), "f")], lambda T, F, i, w: F.embedding(i, w)),
    ("embedding_padding", [((6,), ("i", 4)), ((4, 2), "f")],
     lambda T, F, i, w: F.embedding(i, w, padding_idx=1)),
    ("pad", [((2, 3, 4), "f")], lambda T, F, x: F.pad(x, (1, 2, 0, 1), value=0.5)),
    ("pad_negative", [((2, 3, 4), "f")], lambda T, F, x: F.pad(x, (-1, 1))),
    ("one_hot", [((5,), ("i", 4))], lambda T, F, t: F.one_hot(t, 6)),
    ("linear_3d_nobias", [((2, 4, 3), "f"), ((5, 3), "f")], lambda T, F, x, w: F.linear(x, w)),
    ("dropout_eval", [((3, 4), "f")], lambda T, F, x: F.dropout(x, 0.5, training=False)),
]

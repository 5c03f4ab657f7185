"""Every nn functional case against live torch: values, dtypes, grad_fn names, gradients."""
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))

torch = pytest.importorskip("torch")

import ember  # noqa: E402
import ember.nn.functional as EF  # noqa: E402
import torch.nn.functional as TF  # noqa: E402

from nn_compare import run_case  # noqa: E402
from nn_cases import CASES  # noqa: E402


@pytest.mark.parametrize("name,specs,fn", CASES, ids=[c[0] for c in CASES])
def test_case_matches_torch(name, specs, fn):
    tv, tn, tg, arrays = run_case(torch, TF, specs, fn, seed=7)
    ev, en, eg, _ = run_case(ember, EF, specs, fn, seed=7, inputs=arrays)
    assert en == tn
    assert len(ev) == len(tv)
    for e, t in zip(ev, tv):
        assert e.shape == t.shape and e.dtype == t.dtype
        np.testing.assert_allclose(e, t, rtol=1e-7, atol=1e-9)
    assert len(eg) == len(tg)
    for e, t in zip(eg, tg):
        assert (e is None) == (t is None)
        if t is not None:
            np.testing.assert_allclose(e, t, rtol=1e-7, atol=1e-9)


def _error(call):
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the type is what we compare
        return type(exc), str(exc).replace("torch.", "ember.")
    return None, None


ERRORS = [
    ("maxpool_pad", lambda T, F: F.max_pool2d(T.zeros(1, 1, 8, 8), 3, padding=2)),
    ("maxpool_2d_input", lambda T, F: F.max_pool2d(T.zeros(8, 8), 3)),
    ("maxpool_too_small", lambda T, F: F.max_pool2d(T.zeros(1, 1, 2, 2), 3)),
    ("maxpool_bool", lambda T, F: F.max_pool2d(T.zeros(1, 1, 4, 4, dtype=T.bool), 2)),
    ("nll_batch", lambda T, F: F.nll_loss(T.zeros(3, 4), T.tensor([0, 1]))),
    ("nll_bounds", lambda T, F: F.nll_loss(T.zeros(3, 4), T.tensor([0, 1, 5]))),
    ("nll_float_target", lambda T, F: F.nll_loss(T.zeros(3, 4), T.tensor([0., 1, 2]))),
    ("ce_batch", lambda T, F: F.cross_entropy(T.zeros(3, 4), T.tensor([0, 1]))),
    ("embedding_range", lambda T, F: F.embedding(T.tensor([5]), T.zeros(3, 2))),
    ("embedding_float", lambda T, F: F.embedding(T.tensor([1.]), T.zeros(3, 2))),
    ("layer_norm_shape", lambda T, F: F.layer_norm(T.zeros(2, 3), (4,))),
    ("bn_running", lambda T, F: F.batch_norm(T.zeros(2, 3, 2, 2), T.zeros(4), T.ones(4))),
    ("bn_weight", lambda T, F: F.batch_norm(T.zeros(2, 3, 2, 2), T.zeros(3), T.ones(3),
                                            weight=T.ones(4))),
    ("bn_one_value", lambda T, F: F.batch_norm(T.zeros(1, 3), None, None, training=True)),
    ("conv_channels", lambda T, F: F.conv2d(T.zeros(2, 3, 8, 8), T.zeros(4, 2, 3, 3))),
    ("one_hot_dtype", lambda T, F: F.one_hot(T.tensor([1.]))),
    ("one_hot_big", lambda T, F: F.one_hot(T.tensor([3]), 3)),
    ("one_hot_negative", lambda T, F: F.one_hot(T.tensor([-1]), 3)),
    ("adaptive_2d", lambda T, F: F.adaptive_avg_pool2d(T.zeros(8, 8), 2)),
    ("softmax_dim", lambda T, F: F.softmax(T.zeros(2, 3), 5)),
    ("linear_shapes", lambda T, F: F.linear(T.zeros(2, 3), T.zeros(4, 5))),
    ("dropout_p", lambda T, F: F.dropout(T.zeros(2), 1.5)),
    ("bce_shape", lambda T, F: F.binary_cross_entropy_with_logits(T.zeros(2, 3), T.zeros(3, 2))),
    ("reduction", lambda T, F: F.mse_loss(T.zeros(2), T.zeros(2), reduction="avg")),
    ("pad_odd", lambda T, F: F.pad(T.zeros(2, 3), (1,))),
    ("ce_smoothing", lambda T, F: F.cross_entropy(T.zeros(2, 3), T.tensor([0, 1]),
                                                  label_smoothing=1.5)),
]


@pytest.mark.parametrize("name,call", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch(name, call):
    t_type, t_msg = _error(lambda: call(torch, TF))
    e_type, e_msg = _error(lambda: call(ember, EF))
    assert t_type is not None
    assert e_type is t_type
    assert e_msg == t_msg


def test_dropout_scales_kept_values_and_masks_the_gradient():
    ember.manual_seed(0)
    x = ember.ones(2000, requires_grad=True)
    y = EF.dropout(x, 0.25)
    assert type(y.grad_fn).__name__ == "MulBackward0"
    kept = y.detach().numpy() != 0
    assert 0.65 < kept.mean() < 0.85
    np.testing.assert_allclose(y.detach().numpy()[kept], 1 / 0.75, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.detach().numpy())
    assert EF.dropout(x, 0.0) is x
    assert (EF.dropout(x, 1.0).detach().numpy() == 0).all()


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8", "float16"])
def test_max_pool_of_integers_and_half_matches_torch(dtype):
    rng = np.random.default_rng(3)
    x = rng.integers(0, 50, size=(2, 3, 9, 8)).astype(dtype)  # ties on purpose
    t_out, t_idx = TF.max_pool2d(torch.from_numpy(x), 3, 2, 1, return_indices=True)
    e_out, e_idx = EF.max_pool2d(ember.from_numpy(x), 3, 2, 1, return_indices=True)
    assert str(e_out.dtype) == str(t_out.dtype).replace("torch.", "ember.")
    np.testing.assert_array_equal(e_out.numpy(), t_out.numpy())
    np.testing.assert_array_equal(e_idx.numpy(), t_idx.numpy())


@pytest.mark.parametrize("seed", range(6))
def test_max_pool_values_and_indices_match_torch_with_ties_and_nans(seed):
    # the kernel sweeps interior outputs row by row and clipped ones window by window; both
    # must pick torch's index: the first maximum in row-major order, or the last NaN
    rng = np.random.default_rng(seed)
    for _ in range(60):
        kh, kw = (int(v) for v in rng.integers(1, 4, 2))
        dh, dw = (int(v) for v in rng.integers(1, 3, 2))
        sh, sw = (int(v) for v in rng.integers(1, 4, 2))
        ph = int(rng.integers(0, (dh * (kh - 1) + 1) // 2 + 1))
        pw = int(rng.integers(0, (dw * (kw - 1) + 1) // 2 + 1))
        ceil = bool(rng.integers(0, 2))
        h, w = (int(v) for v in rng.integers(dh * (kh - 1) + 1, 12, 2))
        x = rng.integers(0, 4, size=(2, 2, h, w)).astype(np.float32)  # many ties
        if seed % 2:
            x[rng.random(x.shape) < 0.1] = np.nan
        args = ((kh, kw), (sh, sw), (ph, pw), (dh, dw), ceil)
        try:
            t_out, t_idx = TF.max_pool2d(torch.from_numpy(x), *args, return_indices=True)
        except RuntimeError:
            continue  # output too small: the error tables cover it
        e_out, e_idx = EF.max_pool2d(ember.from_numpy(x), *args, return_indices=True)
        np.testing.assert_array_equal(e_out.numpy(), t_out.numpy(), err_msg=str(args))
        np.testing.assert_array_equal(e_idx.numpy(), t_idx.numpy(), err_msg=str(args))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int16", "uint8"])
@pytest.mark.parametrize("size", [1, 2, 3])
def test_max_pool_windows_that_miss_the_input_match_torch(dtype, size):
    # dilation 2 with padding 1 lets some windows fall between or beyond the pixels
    x = (np.arange(size * size).reshape(1, 1, size, size) + 3).astype(dtype)
    t_out, t_idx = TF.max_pool2d(torch.from_numpy(x), 2, 1, 1, 2, return_indices=True)
    e_out, e_idx = EF.max_pool2d(ember.from_numpy(x), 2, 1, 1, 2, return_indices=True)
    np.testing.assert_array_equal(e_out.numpy(), t_out.numpy())
    np.testing.assert_array_equal(e_idx.numpy(), t_idx.numpy())

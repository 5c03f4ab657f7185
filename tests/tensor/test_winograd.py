"""Winograd F(2x2, 3x3) convolutions (nn/winograd.py, _kernels/winograd.pyx).

References: the im2col + GEMM path in float64 (exact to ~1e-15) and the same path in
float32 (EMBER_WINOGRAD=0). Measured error of the float32 Winograd path against float64,
relative to the largest output magnitude, is ~1e-7..4e-7 over these shapes (70 input
channels at most); the bound asserted is 1e-5. The weight gradient (a sum over every tile of
the batch) measured ~4e-8..4e-7 here and 7e-7 at 16x64x28x28; float64 ~1e-16..7e-16.
"""
import numpy as np
import pytest

import ember_tensor
from ember_tensor import from_numpy
from ember_tensor._kernels import winograd as kernels
from ember_tensor.nn import conv, conv_backward
from ember_tensor.nn import winograd, winograd_grad


@pytest.fixture(autouse=True)
def _winograd_on_by_default(monkeypatch):
    """These tests check the dispatch with Winograd enabled, the default: a developer's
    ``EMBER_WINOGRAD=0`` (read at import) must not turn their expectations upside down.
    Tests that want it off set it themselves."""
    monkeypatch.setattr(winograd, "_ENABLED", True)

REL_TOL = 1e-5

SHAPES = [  # N, Cin, Cout, H, W
    (1, 1, 1, 1, 1),
    (2, 3, 4, 2, 2),
    (1, 5, 6, 3, 5),
    (3, 7, 9, 7, 7),
    (2, 70, 33, 14, 14),
    (1, 4, 4, 5, 8),
    (2, 2, 3, 1, 6),
    (1, 3, 2, 9, 1),
    (3, 40, 36, 6, 11),
]


def _rel_err(a, ref):
    return np.abs(a - ref).max() / max(np.abs(ref).max(), 1e-30)


def _reference(x, w, b=None):
    """float64 im2col convolution, padding 1."""
    out = conv.conv2d(from_numpy(x.astype(np.float64)), from_numpy(w.astype(np.float64)),
                      None if b is None else from_numpy(b.astype(np.float64)), 1, 1)
    return out._np


def _data(shape, seed, dtype=np.float32):
    N, C, Cout, H, W = shape
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((Cout, C, 3, 3)).astype(dtype)
    b = rng.standard_normal(Cout).astype(dtype)
    return x, w, b


@pytest.fixture
def small_blocks(monkeypatch):
    # blocks of a few tile rows: blocks start mid-image and end mid-image, and the last one
    # is short
    monkeypatch.setattr(winograd, "_TARGET_TILES", 5)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("with_bias", [False, True])
def test_conv3x3_matches_float64(shape, with_bias):
    x, w, b = _data(shape, 1)
    b = b if with_bias else None
    out = np.empty((shape[0], shape[2], shape[3], shape[4]), np.float32)
    winograd.conv3x3(x, w, out, b)
    assert _rel_err(out, _reference(x, w, b)) < REL_TOL


@pytest.mark.parametrize("shape", SHAPES[:6])
def test_conv3x3_blocks_across_images(shape, small_blocks):
    x, w, b = _data(shape, 2)
    out = np.empty((shape[0], shape[2], shape[3], shape[4]), np.float32)
    winograd.conv3x3(x, w, out, b)
    assert _rel_err(out, _reference(x, w, b)) < REL_TOL


@pytest.mark.parametrize("shape", SHAPES[:5])
def test_conv3x3_float64_kernels(shape):
    x, w, b = _data(shape, 3, np.float64)
    out = np.empty((shape[0], shape[2], shape[3], shape[4]), np.float64)
    winograd.conv3x3(x, w, out, b)
    assert _rel_err(out, _reference(x, w, b)) < 1e-13


@pytest.mark.parametrize("shape", SHAPES)
def test_flipped_is_the_input_gradient(shape):
    x, w, _ = _data(shape, 4)
    N, C, Cout, H, W = shape
    go = np.random.default_rng(5).standard_normal((N, Cout, H, W)).astype(np.float32)
    gx = np.empty(x.shape, np.float32)
    winograd.conv3x3(go, w, gx, flipped=True)
    ref, _, _ = conv_backward.conv2d_backward(
        from_numpy(go.astype(np.float64)), from_numpy(x.astype(np.float64)),
        from_numpy(w.astype(np.float64)), 1, 1, 1, 1, (True, False, False))
    assert _rel_err(gx, ref._np) < REL_TOL


def test_split_across_threads_matches():
    # large enough (33M multiply-adds) for conv3x3 to split blocks and the filter transform
    # over the thread pool
    x, w, b = _data((2, 64, 64, 32, 32), 6)
    out = np.empty((2, 64, 32, 32), np.float32)
    winograd.conv3x3(x, w, out, b)
    assert _rel_err(out, _reference(x, w, b)) < REL_TOL


@pytest.mark.parametrize("rows, TW", [(256, 8), (128, 4), (64, 2), (1, 1), (3, 2), (7, 200)])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_blocks_are_even_shares(rows, TW, threads):
    # blocks cover the tile rows in order, at most the target size (a row at least), as
    # many as a multiple of the threads where there are rows enough, sizes within one row
    blocks = winograd._blocks(rows, TW, threads)
    assert blocks[0][0] == 0 and blocks[-1][1] == rows
    assert all(a[1] == b[0] for a, b in zip(blocks, blocks[1:]))
    sizes = [r1 - r0 for r0, r1 in blocks]
    assert min(sizes) >= 1 and max(sizes) - min(sizes) <= 1
    assert max(sizes) <= max(1, winograd._TARGET_TILES // TW)
    assert len(blocks) % threads == 0 or len(blocks) == rows


def test_block_counts_differ_bits_do_not(monkeypatch):
    # 32 images of 16x16: 13 blocks on one thread, 14 on two; each output is the same sum
    monkeypatch.setattr(winograd, "_SPLIT_MACS", 0)
    x, w, b = _data((32, 16, 16, 16, 16), 7)
    old = ember_tensor.get_num_threads()
    got = []
    try:
        for threads in (1, 2):
            ember_tensor.set_num_threads(threads)
            assert len(winograd._blocks(32 * 8, 8, threads)) == 12 + threads
            out = np.empty((32, 16, 16, 16), np.float32)
            winograd.conv3x3(x, w, out, b)
            got.append(out)
    finally:
        ember_tensor.set_num_threads(old)
    np.testing.assert_array_equal(got[0], got[1])
    assert _rel_err(got[0], _reference(x, w, b)) < REL_TOL


def test_empty_and_channel_free_inputs():
    out = np.empty((0, 4, 5, 5), np.float32)
    winograd.conv3x3(np.empty((0, 3, 5, 5), np.float32), np.ones((4, 3, 3, 3), np.float32),
                     out)
    out = np.full((1, 2, 3, 3), 7.0, np.float32)
    winograd.conv3x3(np.empty((1, 0, 3, 3), np.float32), np.empty((2, 0, 3, 3), np.float32),
                     out, np.array([1.0, -2.0], np.float32))
    np.testing.assert_array_equal(out[0, 0], 1.0)
    np.testing.assert_array_equal(out[0, 1], -2.0)


# --- dispatch from conv2d / conv2d_backward -----------------------------------------------

@pytest.fixture
def calls(monkeypatch):
    """Count conv2d's trips through the Winograd path."""
    seen = []
    real = conv._winograd_conv3x3

    def counting(*args, **kwargs):
        seen.append(kwargs.get("flipped", False))
        return real(*args, **kwargs)

    monkeypatch.setattr(conv, "_winograd_conv3x3", counting)
    monkeypatch.setattr(conv_backward, "_winograd_conv3x3", counting)
    return seen


def _gemm_path(monkeypatch, fn):
    winograd.set_enabled(False)
    try:
        return fn()
    finally:
        winograd.set_enabled(True)


DISPATCHED = [(1, 32, 32, 16, 16), (2, 48, 32, 9, 13), (4, 32, 40, 7, 7)]


@pytest.mark.parametrize("shape", DISPATCHED)
def test_conv2d_dispatches_and_matches_gemm_path(shape, calls, monkeypatch):
    x, w, b = _data(shape, 7)
    ex, ew, eb = from_numpy(x), from_numpy(w), from_numpy(b)
    out = conv.conv2d(ex, ew, eb, 1, 1)._np
    assert calls == [False]
    gemm = _gemm_path(monkeypatch, lambda: conv.conv2d(ex, ew, eb, 1, 1)._np)
    assert calls == [False]
    assert _rel_err(out, gemm) < REL_TOL
    assert _rel_err(out, _reference(x, w, b)) < REL_TOL


def test_conv2d_float64_dispatches(calls, monkeypatch):
    x, w, b = _data((2, 32, 24, 10, 9), 13, np.float64)
    out = conv.conv2d(from_numpy(x), from_numpy(w), from_numpy(b), 1, 1)._np
    assert calls == [False]
    assert _rel_err(out, _reference(x, w, b)) < 1e-13


def test_conv2d_non_contiguous_inputs(calls):
    x, w, b = _data((2, 32, 32, 12, 14), 8)
    xt = np.ascontiguousarray(x.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)  # same values
    wt = np.ascontiguousarray(w.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    b2 = np.repeat(b, 2)[::2]
    assert not (xt.flags.c_contiguous or wt.flags.c_contiguous or b2.flags.c_contiguous)
    out = conv.conv2d(from_numpy(xt), from_numpy(wt), from_numpy(b2), 1, 1)._np
    assert calls == [False]
    assert _rel_err(out, _reference(x, w, b)) < REL_TOL


def test_conv2d_unbatched(calls):
    x, w, b = _data((1, 32, 32, 16, 16), 9)
    out = conv.conv2d(from_numpy(x[0]), from_numpy(w), from_numpy(b), 1, 1)._np
    assert calls == [False] and out.shape == (32, 16, 16)
    assert _rel_err(out, _reference(x, w, b)[0]) < REL_TOL


@pytest.mark.parametrize("shape", DISPATCHED)
def test_backward_input_gradient(shape, calls, monkeypatch):
    x, w, _ = _data(shape, 10)
    N, C, Cout, H, W = shape
    go = np.random.default_rng(11).standard_normal((N, Cout, H, W)).astype(np.float32)
    args = (from_numpy(go), from_numpy(x), from_numpy(w), 1, 1, 1, 1, (True, True, True))
    gx, gw, gb = (a._np for a in conv_backward.conv2d_backward(*args))
    assert calls == [True]
    gx0, gw0, gb0 = (a._np for a in _gemm_path(monkeypatch,
                                                lambda: conv_backward.conv2d_backward(*args)))
    assert _rel_err(gx, gx0) < REL_TOL
    assert _rel_err(gw, gw0) < REL_TOL
    np.testing.assert_array_equal(gb, gb0)
    only_x = conv_backward.conv2d_backward(*args[:-1], (True, False, False))
    assert only_x[1] is None and only_x[2] is None
    np.testing.assert_array_equal(only_x[0]._np, gx)


@pytest.mark.parametrize("kwargs", [
    dict(stride=2, padding=1), dict(stride=1, padding=2), dict(stride=1, padding=1, dilation=2),
])
def test_other_geometries_keep_gemm_path(kwargs, calls):
    x, w, _ = _data((2, 32, 32, 16, 16), 12)
    conv.conv2d(from_numpy(x), from_numpy(w), None, **kwargs)
    conv.conv2d(from_numpy(x[:, :8]), from_numpy(w[:8, :8]), None, 1, 1)  # few channels
    conv.conv2d(from_numpy(x[:1, :, :4, :4]), from_numpy(w), None, 1, 1)  # few tiles
    assert calls == []


def test_use_winograd_rules(monkeypatch):
    fits = winograd.use_winograd
    assert fits((16, 64, 56, 56), (64, 64, 3, 3), np.float32, (1, 1), (1, 1), (1, 1), 1)
    assert fits((16, 64, 56, 56), (64, 64, 3, 3), np.float64, (1, 1), (1, 1), (1, 1), 1)
    assert not fits((16, 64, 56, 56), (64, 64, 3, 3), np.float16, (1, 1), (1, 1), (1, 1), 1)
    assert not fits((1, 512, 7, 7), (512, 512, 3, 3), np.float32, (1, 1), (1, 1), (1, 1), 1)
    assert fits((1, 64, 16, 16), (64, 64, 3, 3), np.float32, (1, 1), (1, 1), (1, 1), 1)
    assert not fits((16, 64, 56, 56), (64, 32, 3, 3), np.float32, (1, 1), (1, 1), (1, 1), 2)
    assert not fits((16, 64, 56, 56), (64, 64, 5, 5), np.float32, (1, 1), (2, 2), (1, 1), 1)
    monkeypatch.setattr(winograd, "_ENABLED", False)
    assert not fits((16, 64, 56, 56), (64, 64, 3, 3), np.float32, (1, 1), (1, 1), (1, 1), 1)


# --- kernel wrappers refuse what their loops cannot take ----------------------------------

def _stack(rows, cols, dtype=np.float32):
    return np.zeros((16, rows, cols), dtype)


def test_filter_transform_rejects_bad_input():
    w = np.ones((4, 3, 3, 3), np.float32)
    with pytest.raises(RuntimeError, match="3, 3"):
        kernels.filter_transform(np.ones((4, 3, 5, 5), np.float32), _stack(4, 3))
    with pytest.raises(RuntimeError, match="expected"):
        kernels.filter_transform(w, _stack(3, 4))
    with pytest.raises(RuntimeError, match="expected"):
        kernels.filter_transform(w, _stack(4, 3), flipped=True)
    with pytest.raises(RuntimeError, match="dtype"):
        kernels.filter_transform(w, _stack(4, 3, np.float64))
    with pytest.raises(RuntimeError, match="float32 or float64"):
        kernels.filter_transform(w.astype(np.int32), _stack(4, 3, np.int32))
    with pytest.raises(RuntimeError, match="contiguous"):
        kernels.filter_transform(np.ones((3, 4, 3, 3), np.float32).transpose(1, 0, 2, 3),
                                 _stack(4, 3))
    with pytest.raises(RuntimeError, match="C-contiguous matrices"):
        kernels.filter_transform(w, np.zeros((16, 3, 4), np.float32).transpose(0, 2, 1))
    with pytest.raises(RuntimeError, match="C-contiguous matrices"):
        # matrices overlapping each other
        kernels.filter_transform(w, np.lib.stride_tricks.as_strided(
            np.zeros(16 * 12, np.float32), (16, 4, 3), (8, 12, 4)))
    with pytest.raises(ValueError, match="outside"):
        kernels.filter_transform(w, _stack(4, 3), 2, 5)
    with pytest.raises(RuntimeError, match="ndarrays"):
        kernels.filter_transform(w, [[0.0]])


def test_input_transform_rejects_bad_input():
    x = np.ones((2, 3, 5, 6), np.float32)  # TH = 3, TW = 3
    kernels.input_transform(x, _stack(3, 3 * 2), 1, 3)  # fine
    with pytest.raises(RuntimeError, match="expected"):
        kernels.input_transform(x, _stack(3, 3 * 3), 1, 3)
    with pytest.raises(ValueError, match="outside"):
        kernels.input_transform(x, _stack(3, 3 * 2), 5, 7)
    with pytest.raises(ValueError, match="outside"):
        kernels.input_transform(x, _stack(3, 0), 2, 1)
    with pytest.raises(RuntimeError, match="4-D"):
        kernels.input_transform(x[0], _stack(3, 3), 0, 1)
    with pytest.raises(RuntimeError, match="contiguous"):
        kernels.input_transform(x[:, :, :, ::2], _stack(3, 2 * 2), 0, 2)
    with pytest.raises(RuntimeError, match="dtype"):
        kernels.input_transform(x, _stack(3, 6, np.float64), 1, 3)


def test_output_transform_rejects_bad_input():
    y = np.empty((2, 4, 5, 6), np.float32)
    kernels.output_transform(_stack(4, 3), y, np.zeros(4, np.float32), 0, 1)  # fine
    with pytest.raises(RuntimeError, match="bias"):
        kernels.output_transform(_stack(4, 3), y, np.zeros(3, np.float32), 0, 1)
    with pytest.raises(RuntimeError, match="dtype"):
        kernels.output_transform(_stack(4, 3), y, np.zeros(4, np.float64), 0, 1)
    with pytest.raises(RuntimeError, match="contiguous"):
        kernels.output_transform(_stack(4, 3), y, np.zeros(8, np.float32)[::2], 0, 1)
    with pytest.raises(RuntimeError, match="expected"):
        kernels.output_transform(_stack(4, 3), y, None, 0, 2)
    with pytest.raises(ValueError, match="outside"):
        kernels.output_transform(_stack(4, 3), y, None, 6, 7)
    with pytest.raises(RuntimeError, match="contiguous"):
        kernels.output_transform(_stack(4, 3), np.empty((2, 4, 6, 5), np.float32)
                                 .transpose(0, 1, 3, 2), None, 0, 1)
    with pytest.raises(RuntimeError, match="4-D"):
        kernels.output_transform(_stack(4, 3), y[0], None, 0, 1)


def test_conv3x3_rejects_mismatched_shapes():
    x = np.zeros((2, 3, 5, 6), np.float32)
    w = np.zeros((4, 3, 3, 3), np.float32)
    for out in (np.empty((2, 4, 6, 6), np.float32), np.empty((2, 3, 5, 6), np.float32)):
        with pytest.raises(RuntimeError, match="do not match"):
            winograd.conv3x3(x, w, out)
    with pytest.raises(RuntimeError, match="do not match"):
        winograd.conv3x3(x, w, np.empty((2, 4, 5, 6), np.float32), flipped=True)


def test_transforms_round_trip_on_one_tile():
    # the three transforms with an identity "GEMM" (one channel, weight = centre tap) must
    # give back the input
    x = np.arange(1, 17, dtype=np.float32).reshape(1, 1, 4, 4)
    w = np.zeros((1, 1, 3, 3), np.float32)
    w[0, 0, 1, 1] = 1
    out = np.empty_like(x)
    winograd.conv3x3(x, w, out)
    np.testing.assert_allclose(out, x, rtol=0, atol=1e-6)


# --- weight gradient -----------------------------------------------------------------------

def _grad_weight_reference(x, go):
    _, gw, _ = conv_backward.conv2d_backward(
        from_numpy(go.astype(np.float64)), from_numpy(x.astype(np.float64)),
        from_numpy(np.zeros((go.shape[1], x.shape[1], 3, 3))), 1, 1, 1, 1,
        (False, True, False))
    return gw._np


def _grad_out(shape, seed, dtype=np.float32):
    N, C, Cout, H, W = shape
    return np.random.default_rng(seed).standard_normal((N, Cout, H, W)).astype(dtype)


GRAD_WEIGHT_SHAPES = SHAPES + [(2, 1, 70, 2, 2), (3, 65, 70, 14, 14)]


@pytest.mark.parametrize("shape", GRAD_WEIGHT_SHAPES)
def test_grad_weight_matches_float64(shape):
    x, w, _ = _data(shape, 20)
    go = _grad_out(shape, 21)
    gw = np.full(w.shape, np.nan, np.float32)
    winograd_grad.conv3x3_grad_weight(x, go, gw)
    assert _rel_err(gw, _grad_weight_reference(x, go)) < REL_TOL


@pytest.mark.parametrize("shape", SHAPES[:6])
def test_grad_weight_float64_kernels(shape):
    x, w, _ = _data(shape, 22, np.float64)
    go = _grad_out(shape, 23, np.float64)
    gw = np.empty(w.shape, np.float64)
    winograd_grad.conv3x3_grad_weight(x, go, gw)
    assert _rel_err(gw, _grad_weight_reference(x, go)) < 1e-13


@pytest.mark.parametrize("shape", SHAPES[:6])
@pytest.mark.parametrize("target", [1, 3])
def test_grad_weight_several_blocks_per_task(shape, target, monkeypatch):
    # blocks of one or a few tile rows: a task adds many block partials into its dU
    monkeypatch.setattr(winograd_grad, "_GW_TARGET_TILES", target)
    x, w, _ = _data(shape, 24)
    go = _grad_out(shape, 25)
    gw = np.empty(w.shape, np.float32)
    winograd_grad.conv3x3_grad_weight(x, go, gw)
    assert _rel_err(gw, _grad_weight_reference(x, go)) < REL_TOL


def test_grad_weight_split_across_threads_is_deterministic():
    # large enough (50M multiply-adds) to split tile rows over the thread pool; the partials
    # are summed in a fixed order, so repeated calls agree bit for bit
    shape = (3, 64, 64, 20, 22)
    x, w, _ = _data(shape, 26)
    go = _grad_out(shape, 27)
    first = np.empty(w.shape, np.float32)
    winograd_grad.conv3x3_grad_weight(x, go, first)
    assert _rel_err(first, _grad_weight_reference(x, go)) < REL_TOL
    for _ in range(3):
        again = np.empty(w.shape, np.float32)
        winograd_grad.conv3x3_grad_weight(x, go, again)
        np.testing.assert_array_equal(again, first)


@pytest.mark.parametrize("gw_split", [0, 16_000_000])
def test_grad_weight_same_bits_on_one_and_two_threads(gw_split, monkeypatch):
    # the partials follow the shapes, not the thread count
    monkeypatch.setattr(winograd_grad, "_GW_SPLIT_MACS", gw_split)
    shape = (3, 64, 64, 20, 22) if gw_split else (1, 16, 24, 9, 7)
    x, w, _ = _data(shape, 28)
    go = _grad_out(shape, 29)
    old = ember_tensor.get_num_threads()
    got = []
    try:
        for threads in (1, 2):
            ember_tensor.set_num_threads(threads)
            gw = np.empty(w.shape, np.float32)
            winograd_grad.conv3x3_grad_weight(x, go, gw)
            got.append(gw)
    finally:
        ember_tensor.set_num_threads(old)
    np.testing.assert_array_equal(got[0], got[1])
    assert _rel_err(got[0], _grad_weight_reference(x, go)) < REL_TOL


def test_grad_weight_empty_inputs():
    gw = np.full((4, 3, 3, 3), 5.0, np.float32)
    winograd_grad.conv3x3_grad_weight(np.empty((0, 3, 5, 5), np.float32),
                                 np.empty((0, 4, 5, 5), np.float32), gw)
    np.testing.assert_array_equal(gw, 0.0)
    gw = np.empty((0, 3, 3, 3), np.float32)
    winograd_grad.conv3x3_grad_weight(np.ones((1, 3, 5, 5), np.float32),
                                 np.empty((1, 0, 5, 5), np.float32), gw)


def test_grad_weight_rejects_mismatched_shapes():
    x = np.zeros((2, 3, 5, 6), np.float32)
    go = np.zeros((2, 4, 5, 6), np.float32)
    for bad in [(x, go, np.empty((3, 4, 3, 3), np.float32)),
                (x, go[:, :, :4], np.empty((4, 3, 3, 3), np.float32)),
                (x, go, np.empty((4, 3, 3, 3), np.float64))]:
        with pytest.raises(RuntimeError, match="do not match"):
            winograd_grad.conv3x3_grad_weight(*bad)


@pytest.fixture
def weight_calls(monkeypatch):
    seen = []
    real = conv_backward._winograd_grad_weight

    def counting(*args):
        seen.append(args[0].shape)
        return real(*args)

    monkeypatch.setattr(conv_backward, "_winograd_grad_weight", counting)
    return seen


@pytest.mark.parametrize("shape", DISPATCHED + [(3, 33, 70, 14, 14)])
def test_backward_weight_gradient_dispatches(shape, calls, weight_calls, monkeypatch):
    x, w, _ = _data(shape, 28)
    go = _grad_out(shape, 29)
    args = (from_numpy(go), from_numpy(x), from_numpy(w), 1, 1, 1, 1)
    gx, gw, gb = (a._np for a in conv_backward.conv2d_backward(*args, (True, True, True)))
    assert len(weight_calls) == 1
    only_w = conv_backward.conv2d_backward(*args, (False, True, False))
    assert only_w[0] is None and only_w[2] is None and len(weight_calls) == 2
    np.testing.assert_array_equal(only_w[1]._np, gw)
    gw0 = _gemm_path(monkeypatch,
                     lambda: conv_backward.conv2d_backward(*args, (False, True, False))[1]._np)
    assert len(weight_calls) == 2  # EMBER_WINOGRAD=0 turns it off
    assert _rel_err(gw, gw0) < REL_TOL
    assert _rel_err(gw, _grad_weight_reference(x, go)) < REL_TOL


def test_backward_weight_gradient_non_contiguous(weight_calls):
    shape = (2, 32, 40, 12, 14)
    x, _, _ = _data(shape, 30)
    go = _grad_out(shape, 31)
    w = np.zeros((40, 32, 3, 3), np.float32)
    xt = np.ascontiguousarray(x.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)
    got = np.ascontiguousarray(go.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    assert not (xt.flags.c_contiguous or got.flags.c_contiguous)
    _, gw, _ = conv_backward.conv2d_backward(from_numpy(got), from_numpy(xt), from_numpy(w), 1, 1, 1,
                                    1, (False, True, False))
    assert len(weight_calls) == 1
    assert _rel_err(gw._np, _grad_weight_reference(x, go)) < REL_TOL


def test_backward_weight_gradient_small_keeps_gemm(weight_calls):
    # few tiles for the weights' size (batch 1, 512 channels at 7x7) stay on im2col
    x = np.ones((1, 512, 7, 7), np.float32)
    conv_backward.conv2d_backward(from_numpy(x), from_numpy(x), from_numpy(np.ones((512, 512, 3, 3),
                         np.float32)), 1, 1, 1, 1, (False, True, False))
    assert weight_calls == []


def test_grad_output_transform_rejects_bad_input():
    g = np.ones((2, 3, 5, 6), np.float32)  # TH = 3, TW = 3
    kernels.grad_output_transform(g, _stack(3, 3 * 2), 1, 3)  # fine
    with pytest.raises(RuntimeError, match="expected"):
        kernels.grad_output_transform(g, _stack(3, 3 * 3), 1, 3)
    with pytest.raises(RuntimeError, match="expected"):
        kernels.grad_output_transform(g, _stack(4, 3 * 2), 1, 3)
    with pytest.raises(ValueError, match="outside"):
        kernels.grad_output_transform(g, _stack(3, 3 * 2), 5, 7)
    with pytest.raises(RuntimeError, match="4-D"):
        kernels.grad_output_transform(g[0], _stack(3, 3), 0, 1)
    with pytest.raises(RuntimeError, match="contiguous"):
        kernels.grad_output_transform(g[:, :, :, ::2], _stack(3, 2 * 2), 0, 2)
    with pytest.raises(RuntimeError, match="dtype"):
        kernels.grad_output_transform(g, _stack(3, 6, np.float64), 1, 3)
    with pytest.raises(RuntimeError, match="C-contiguous matrices"):
        kernels.grad_output_transform(g, np.zeros((16, 6, 3), np.float32).transpose(0, 2, 1),
                                      1, 3)


def test_filter_grad_transform_rejects_bad_input():
    gw = np.empty((4, 3, 3, 3), np.float32)
    kernels.filter_grad_transform(_stack(4, 3), gw)  # fine
    np.testing.assert_array_equal(gw, 0.0)
    with pytest.raises(RuntimeError, match="expected"):
        kernels.filter_grad_transform(_stack(3, 4), gw)
    with pytest.raises(RuntimeError, match="3, 3"):
        kernels.filter_grad_transform(_stack(4, 3), np.empty((4, 3, 5, 5), np.float32))
    with pytest.raises(RuntimeError, match="contiguous"):
        kernels.filter_grad_transform(
            _stack(4, 3), np.empty((3, 4, 3, 3), np.float32).transpose(1, 0, 2, 3))
    with pytest.raises(RuntimeError, match="dtype"):
        kernels.filter_grad_transform(_stack(4, 3, np.float64), gw)
    with pytest.raises(ValueError, match="outside"):
        kernels.filter_grad_transform(_stack(4, 3), gw, 3, 5)


def test_grad_weight_of_one_tile_by_hand():
    # one 2x2 image, one channel: dW[p, q] = sum over outputs (i, j) of g[i, j] x[i+p-1, j+q-1]
    x = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32).reshape(1, 1, 2, 2)
    g = np.array([[1.0, -1.0], [0.5, 2.0]], np.float32).reshape(1, 1, 2, 2)
    gw = np.empty((1, 1, 3, 3), np.float32)
    winograd_grad.conv3x3_grad_weight(x, g, gw)
    xp = np.pad(x[0, 0], 1)
    expected = np.array([[(g[0, 0] * xp[p:p + 2, q:q + 2]).sum() for q in range(3)]
                         for p in range(3)])
    np.testing.assert_allclose(gw[0, 0], expected, rtol=0, atol=1e-6)

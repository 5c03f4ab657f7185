"""The direct convolution with vectors along output channels (_kernels/conv_direct.pyx,
conv_direct.h; AVX-512 copy only).

References: a float64 sum of shifted input slices times the weights, and convgemm (same
float32 products, its own order). Shapes sit around the tile's edges: channel counts below,
at and past a block of 32 (partial blocks), output rows of 1-14 pixels (one tile a row, or
two rows of up to 7 a tile) and wider ones cut into runs, odd plane sizes, padding 0 and 1,
strides 1 and 2. CI runs this file at every CPU level (EMBER_CPU): below AVX-512 the kernel
says it is unavailable and conv2d keeps convgemm / im2col.
"""
import numpy as np
import pytest

import ember_tensor as et
from ember_tensor._kernels import conv_direct, parallel
from ember_tensor._kernels.convgemm import conv2d as convgemm
from ember_tensor.nn import conv

REL_TOL = 1e-5

CASES = [  # N, Cin, H, W, Cout, k, stride, padding
    (2, 5, 9, 11, 33, 3, 2, 1),
    (3, 7, 8, 8, 16, 3, 1, 1),
    (2, 4, 15, 29, 70, 3, 2, 1),
    (1, 3, 7, 7, 32, 1, 2, 0),
    (2, 6, 10, 10, 64, 3, 2, 0),
    (1, 9, 13, 13, 31, 3, 2, 0),
    (2, 3, 28, 28, 65, 3, 2, 1),   # 14-px rows: full tiles
    (1, 2, 30, 31, 5, 3, 1, 1),    # 31-px rows: runs of 11 and 9
    (2, 8, 14, 14, 40, 3, 2, 1),   # 7-px rows: tiles of two rows, the last one alone
    (1, 4, 3, 3, 3, 3, 1, 1),
    (1, 5, 1, 1, 7, 3, 2, 1),
    (2, 16, 12, 5, 17, 1, 1, 0),
]


def _reference(x, w, s, p):
    n, c, h, wd = x.shape
    m, _, kh, kw = w.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (p, p), (p, p)))
    oh, ow = (h + 2 * p - kh) // s + 1, (wd + 2 * p - kw) // s + 1
    out = np.zeros((n, m, oh, ow))
    for i in range(kh):
        for j in range(kw):
            xs = xp[:, :, i:i + s * (oh - 1) + 1:s, j:j + s * (ow - 1) + 1:s]
            out += np.einsum("nchw,mc->nmhw", xs, w[:, :, i, j].astype(np.float64))
    return out


def _data(case, seed=0):
    n, c, h, wd, m, k, _, _ = case
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, c, h, wd), dtype=np.float32),
            rng.standard_normal((m, c, k, k), dtype=np.float32))


def _direct(x, w, s, p):
    ref = _reference(x, w, s, p)
    out = np.full(ref.shape, np.nan, np.float32)
    conv_direct.conv2d(x, w, out, (s, s), (p, p), (1, 1))
    return out, ref


needs_direct = pytest.mark.skipif(not conv_direct.AVAILABLE,
                                  reason="the direct kernel is AVX-512 only")


@needs_direct
@pytest.mark.parametrize("case", CASES)
def test_matches_float64_reference_and_convgemm(case):
    x, w = _data(case)
    s, p = case[6], case[7]
    out, ref = _direct(x, w, s, p)
    scale = np.abs(ref).max()
    assert np.abs(out - ref).max() <= REL_TOL * scale
    other = np.empty_like(out)
    convgemm(x, w, other, (s, s), (p, p), (1, 1))
    assert np.abs(out - other).max() <= 2 * REL_TOL * scale


@needs_direct
@pytest.mark.parametrize("case", [CASES[0], CASES[6], CASES[8]])
def test_same_bits_on_any_threads_and_run_after_run(case):
    x, w = _data(case, seed=1)
    s, p = case[6], case[7]
    threads = parallel.get_num_threads()
    outs = []
    try:
        for t in (1, 2, 1, 2):
            parallel.set_num_threads(t)
            outs.append(_direct(x, w, s, p)[0])
    finally:
        parallel.set_num_threads(threads)
    for o in outs[1:]:
        assert np.array_equal(o.view(np.uint32), outs[0].view(np.uint32))


@needs_direct
def test_refuses_what_it_does_not_compute():
    x, w = _data(CASES[0])
    out = np.empty((2, 33, 5, 6), np.float32)
    with pytest.raises(ValueError):
        conv_direct.conv2d(x.astype(np.float64), w, out, (2, 2), (1, 1), (1, 1))
    with pytest.raises(ValueError):
        conv_direct.conv2d(x, w, out[:, :, :, :5], (2, 2), (1, 1), (1, 1))
    with pytest.raises(ValueError):
        conv_direct.conv2d(x, w, np.empty((2, 33, 4, 3), np.float32), (3, 3), (1, 1), (1, 1))


@needs_direct
def test_keeps_a_buffer_up_to_its_cap():
    """The packed weights and scratch are kept for the next call, unless bigger than the cap
    (large images' padded planes are freed after their call); the result is the same."""
    x, w = _data(CASES[0])
    s, p = CASES[0][6], CASES[0][7]
    old = conv_direct._set_keep_max_floats(0)
    try:
        conv_direct.conv2d(x, w, np.empty((2, 33, 5, 6), np.float32), (s, s), (p, p), (1, 1))
        out, ref = _direct(x, w, s, p)
        assert conv_direct._kept_floats() == 0
    finally:
        conv_direct._set_keep_max_floats(old)
    again, _ = _direct(x, w, s, p)
    assert conv_direct._kept_floats() > 0
    assert np.array_equal(out.view(np.uint32), again.view(np.uint32))
    assert np.abs(out - ref).max() <= REL_TOL * np.abs(ref).max()


def test_unavailable_below_avx512():
    if et.cpu_level() in ("baseline", "avx2"):
        assert not conv_direct.AVAILABLE
    elif et.cpu_level() == "avx512":
        assert conv_direct.AVAILABLE
    if not conv_direct.AVAILABLE:
        x, w = _data(CASES[0])
        with pytest.raises(RuntimeError):
            conv_direct.conv2d(x, w, np.empty((2, 33, 5, 6), np.float32), (2, 2), (1, 1),
                               (1, 1))


ROUTES = [  # N, H = W, kernel, padding, routed
    (2, 28, 3, 1, True), (3, 28, 3, 1, False), (16, 14, 3, 1, True), (8, 14, 3, 1, False),
    (15, 14, 3, 1, False), (16, 14, 1, 0, True), (4, 14, 1, 0, False), (16, 16, 1, 0, False),
]


@pytest.mark.parametrize("n, hw, k, pad, routed", ROUTES)
def test_conv2d_routes_to_the_direct_kernel(monkeypatch, n, hw, k, pad, routed):
    """nn.conv's forward takes the direct kernel (a shape rule) for float32 3x3/2
    convolutions of 576+ taps whose output rows are whole tiles on even batches, rows of 7
    pixels (half a tile) on even batches of 16+, and unpadded 1x1/2 ones of 16+ images whose
    output rows are 7, 14 or 28 pixels (64+ input channels); at every level every route
    matches the float64 reference."""
    calls = []
    real = conv._conv_direct
    monkeypatch.setattr(conv, "_conv_direct", lambda *a: calls.append(1) or real(*a))
    rng = np.random.default_rng(5)
    x = rng.standard_normal((n, 64, hw, hw), dtype=np.float32)
    w = rng.standard_normal((40, 64, k, k), dtype=np.float32)
    out = np.asarray(conv.conv2d(x, w, None, 2, pad))
    ref = _reference(x, w, 2, pad)
    assert np.abs(out - ref).max() <= REL_TOL * np.abs(ref).max()
    assert bool(calls) == (routed and conv_direct.AVAILABLE)


@needs_direct
@pytest.mark.parametrize("case", [CASES[0], CASES[2], CASES[8]])
def test_padding_by_bands_gives_the_whole_copys_bits(case):
    x, w = _data(case, seed=2)
    s, p = case[6], case[7]
    previous = conv_direct.set_pad_whole(False)
    try:
        bands, ref = _direct(x, w, s, p)
    finally:
        conv_direct.set_pad_whole(previous)
    whole = _direct(x, w, s, p)[0]
    assert np.array_equal(bands.view(np.uint32), whole.view(np.uint32))
    assert np.abs(whole - ref).max() <= REL_TOL * np.abs(ref).max()

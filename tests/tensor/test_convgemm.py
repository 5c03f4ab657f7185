"""The im2col-free convolution GEMM (_kernels/convgemm.pyx, convgemm.h).

Reference: the explicit im2col matrix (built here with NumPy slicing) times the weights in
float64. Measured error of the float32 kernel against it, relative to the largest output
magnitude, is ~1e-7..3e-7 over these shapes; the bound asserted is 1e-5. Shapes cover odd
channel counts (tiles of fewer channels), pixel counts that leave partial vectors, panels
that run across images of a batch, stride, padding, dilation and k-block tails (K past one
block of 192 taps). CI runs this file at every CPU level (EMBER_CPU), each with its own
tile sizes.
"""
import ctypes
import mmap

import numpy as np
import pytest

from ember_tensor._kernels import convgemm
from ember_tensor._kernels import parallel

REL_TOL = 1e-5

CASES = [  # N, Cin, H, W, Cout, kh, kw, stride, padding, dilation
    (1, 3, 7, 9, 5, 3, 3, (1, 1), (1, 1), (1, 1)),
    (2, 5, 11, 10, 37, 3, 2, (2, 1), (1, 0), (1, 2)),
    (1, 64, 17, 17, 70, 3, 3, (2, 2), (1, 1), (1, 1)),
    (3, 40, 9, 9, 33, 1, 1, (1, 1), (0, 0), (1, 1)),
    (1, 130, 8, 8, 16, 3, 3, (1, 1), (2, 2), (1, 1)),
    (5, 300, 7, 7, 19, 3, 3, (2, 2), (1, 1), (1, 1)),
    (2, 7, 31, 33, 9, 5, 5, (3, 3), (2, 2), (1, 1)),
    (1, 1, 1, 1, 1, 1, 1, (1, 1), (0, 0), (1, 1)),
    # tiny planes, a panel over many images: 2x2 and 4x4 outputs (segments of 4 and 16
    # pixels, many to a panel) past one k block
    (9, 70, 2, 2, 21, 3, 3, (1, 1), (1, 1), (1, 1)),
    (7, 30, 4, 4, 11, 3, 3, (2, 2), (1, 1), (1, 1)),
    (5, 24, 4, 4, 9, 3, 3, (1, 1), (1, 1), (1, 1)),
    # 16+ images of planes mostly read on the zero border: computed position by position on
    # each position's own taps (two blocks of them here); border outputs of a padded 1x1
    # kernel read no input at all
    (17, 70, 2, 2, 21, 3, 3, (1, 1), (1, 1), (1, 1)),
    (16, 4, 1, 1, 3, 1, 1, (1, 1), (1, 1), (1, 1)),
    # more images than a panel holds (48 at AVX-512): a task's sums of one panel kept
    # across its k blocks, then the next panel's
    (50, 70, 2, 2, 21, 3, 3, (1, 1), (1, 1), (1, 1)),
    # positions of different tap counts (4, 6, 6, 9: a 3x3/2 from 4x4 planes), and more
    # positions than a group gathers together (nine: 5x5 over 3x3 planes, padding 2)
    (17, 30, 4, 4, 11, 3, 3, (2, 2), (1, 1), (1, 1)),
    (18, 30, 3, 3, 17, 5, 5, (1, 1), (2, 2), (1, 1)),
    # three groups of two images on one thread (GROUP_FLOATS), one of six on a team
    (6, 64, 40, 40, 9, 3, 3, (2, 2), (1, 1), (1, 1)),
    # batches in one group whose last Q % 16 pixels are dot products at AVX-512
    # (cg_tail_start): 49 pixels (tail 1) over k blocks of 192 and 168 taps (not whole
    # vectors) and 21 channels (tiles of fewer rows); 196 (tail 4); 21 pixels (tail 5:
    # 4 + 1); 5 pixels (all tail); four 7x7 planes (tail 4); three 2x2 planes (all tail,
    # across images)
    (1, 40, 7, 7, 21, 3, 3, (1, 1), (1, 1), (1, 1)),
    (1, 30, 14, 14, 13, 3, 3, (1, 1), (1, 1), (1, 1)),
    (1, 33, 5, 13, 10, 3, 3, (2, 2), (1, 1), (1, 1)),
    (1, 17, 1, 5, 9, 3, 3, (1, 1), (1, 1), (1, 1)),
    (4, 40, 7, 7, 21, 3, 3, (1, 1), (1, 1), (1, 1)),
    (3, 20, 2, 2, 9, 3, 3, (1, 1), (1, 1), (1, 1)),
]


def _reference(x, w, stride, padding, dilation):
    """conv2d as the float64 product of the weights and the explicit im2col matrix."""
    n, c, h, wd = x.shape
    cout, _, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    cols = np.empty((n, c, kh, kw, oh, ow))
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = xp[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                                  j * dw:j * dw + sw * (ow - 1) + 1:sw]
    out = np.matmul(w.reshape(cout, -1).astype(np.float64), cols.reshape(n, c * kh * kw, -1))
    return out.reshape(n, cout, oh, ow)


def _run(x, w, case, pixel_pieces=0, channel_pieces=0, border=-1):
    stride, padding, dilation = case[7:]
    ref = _reference(x, w, stride, padding, dilation)
    out = np.full(ref.shape, np.nan, np.float32)
    convgemm.conv2d(x, w, out, stride, padding, dilation, pixel_pieces, channel_pieces,
                    border)
    return out, ref


@pytest.mark.parametrize("case", CASES)
def test_matches_im2col_product(case):
    rng = np.random.default_rng(sum(case[:7]))
    n, c, h, wd, cout, kh, kw = case[:7]
    x = rng.standard_normal((n, c, h, wd), dtype=np.float32)
    w = rng.standard_normal((cout, c, kh, kw), dtype=np.float32)
    out, ref = _run(x, w, case)
    assert np.abs(out - ref).max() <= REL_TOL * max(1.0, np.abs(ref).max())


@pytest.mark.parametrize("case", [CASES[1], CASES[2], CASES[5], CASES[8], CASES[9],
                                  CASES[11], CASES[13], CASES[14], CASES[15], CASES[16],
                                  CASES[17], CASES[18], CASES[19], CASES[20], CASES[21],
                                  CASES[22]])
def test_any_split_gives_the_same_bits(case):
    """Tasks cut pixels and channels anywhere; every output is the same chain of
    multiply-adds, so the bits cannot move (nor with the thread count)."""
    rng = np.random.default_rng(7)
    n, c, h, wd, cout, kh, kw = case[:7]
    x = rng.standard_normal((n, c, h, wd), dtype=np.float32)
    w = rng.standard_normal((cout, c, kh, kw), dtype=np.float32)
    first, _ = _run(x, w, case, 1, 1)
    for pieces in ((2, 1), (1, 2), (3, 5), (0, 0)):
        out, _ = _run(x, w, case, *pieces)
        assert np.array_equal(out, first), pieces
    threads = parallel.get_num_threads()
    try:
        for t in (1, 2):
            parallel.set_num_threads(t)
            out, _ = _run(x, w, case)
            assert np.array_equal(out, first), t
    finally:
        parallel.set_num_threads(threads)


def test_refuses_what_it_does_not_compute():
    x = np.zeros((1, 2, 5, 5), np.float32)
    w = np.zeros((3, 2, 3, 3), np.float32)
    out = np.zeros((1, 3, 3, 3), np.float32)
    with pytest.raises(ValueError, match="float32"):
        convgemm.conv2d(x.astype(np.float64), w, out, (1, 1), (0, 0), (1, 1))
    with pytest.raises(ValueError, match="shape"):
        convgemm.conv2d(x, w, np.zeros((1, 3, 5, 5), np.float32), (1, 1), (0, 0), (1, 1))
    with pytest.raises(ValueError, match="geometry"):
        convgemm.conv2d(x, np.zeros((3, 4, 3, 3), np.float32), out, (1, 1), (0, 0), (1, 1))
    with pytest.raises(ValueError, match="geometry"):
        convgemm.conv2d(x, w, out, (0, 1), (0, 0), (1, 1))
    out.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        convgemm.conv2d(x, w, out, (1, 1), (0, 0), (1, 1))


def _routed(monkeypatch, x, w, stride):
    """Whether nn.conv's forward (padding 1) ran this kernel; its float32 numbers are the
    reference's either way."""
    from ember_tensor.nn import conv

    calls = []
    kernel = conv._convgemm
    monkeypatch.setattr(conv, "_convgemm", lambda *a: calls.append(1) or kernel(*a))
    out = np.asarray(conv.conv2d(x, w, None, stride, 1))
    if x.dtype == np.float32:
        ref = _reference(x, w, (stride, stride), (1, 1), (1, 1))
        assert np.abs(out - ref).max() <= REL_TOL * np.abs(ref).max()
    return bool(calls)


def test_conv2d_routes_wide_float32_convolutions(monkeypatch):
    """nn.conv's forward takes this kernel (its AVX-512 copy) for float32 kernels of 576
    taps or more per output channel and up to 512 output channels (where it measured
    faster), and leaves the rest to im2col + BLAS; both give the reference's numbers."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 64, 9, 9), dtype=np.float32)
    for cout, routed in ((24, True), (520, False)):
        w = rng.standard_normal((cout, 64, 3, 3), dtype=np.float32)
        assert _routed(monkeypatch, x, w, 2) == (routed and convgemm.FASTER_THAN_BLAS)
    assert not _routed(monkeypatch, x.astype(np.float64), w[:8].astype(np.float64), 2)


def test_by_position_is_the_shapes_choice():
    """Planes of up to 16 output pixels reading the zero border at 20%+ of their taps, in
    groups of 16+ images: ResNet's layer4 3x3 on a batch of 2x2 planes (4 of 9 taps read)
    and its 3x3/2 from 4x4 planes (25 of 36), not one image of them, nor the 3x3/2 from
    8x8 planes (121 of 144)."""
    args = ((1, 1), (1, 1), (1, 1))
    assert convgemm.by_position((32, 512, 2, 2), (512, 512, 3, 3), *args)
    assert not convgemm.by_position((8, 512, 2, 2), (512, 512, 3, 3), *args)
    assert convgemm.by_position((32, 256, 4, 4), (512, 256, 3, 3), (2, 2), *args[1:])
    assert not convgemm.by_position((32, 128, 8, 8), (256, 128, 3, 3), (2, 2), *args[1:])
    assert not convgemm.by_position((32, 64, 8, 8), (64, 64, 3, 3), *args)


def test_conv2d_routes_wide_by_position_convolutions(monkeypatch):
    """More than 256 output channels on planes under 49 pixels go to this kernel only when
    it computes them position by position (they skip the zero border's taps)."""
    rng = np.random.default_rng(4)
    w = rng.standard_normal((264, 64, 3, 3), dtype=np.float32)
    for n, routed in ((16, True), (8, False)):
        x = rng.standard_normal((n, 64, 2, 2), dtype=np.float32)
        assert _routed(monkeypatch, x, w, 1) == (routed and convgemm.FASTER_THAN_BLAS)


# Padded batches without a tail of dot products (Q % 16 == 0 or > 8): 32 4x4 planes of a
# 3x3/2 past one k block (the finetune step's layer3.0 in small), 10x10 planes of a 3x3
# (top and bottom rows), a 5x5 with padding 2 (two border rows each side), a strided and
# dilated rectangle, and three images in groups of two and one (GROUP_FLOATS)
BORDER_CASES = [
    (32, 30, 8, 8, 19, 3, 3, (2, 2), (1, 1), (1, 1)),
    (4, 40, 10, 10, 21, 3, 3, (1, 1), (1, 1), (1, 1)),
    (3, 8, 9, 11, 7, 5, 5, (1, 1), (2, 2), (1, 1)),
    (9, 16, 13, 9, 10, 3, 3, (2, 1), (1, 1), (1, 2)),
    (3, 64, 40, 40, 9, 3, 3, (2, 2), (1, 1), (1, 1)),
]


@pytest.mark.parametrize("case", BORDER_CASES)
def test_border_classes_skip_taps_not_bits(case):
    """Pixels sorted by border class (rows', or rows' and columns') skip the taps that read
    the zero border; each skipped multiply-add would have added an exact 0, so the result
    is the image order's bit for bit, on any split and thread count."""
    rng = np.random.default_rng(11)
    n, c, h, wd, cout, kh, kw = case[:7]
    x = rng.standard_normal((n, c, h, wd), dtype=np.float32)
    w = rng.standard_normal((cout, c, kh, kw), dtype=np.float32)
    first, ref = _run(x, w, case, border=0)
    assert np.abs(first - ref).max() <= REL_TOL * max(1.0, np.abs(ref).max())
    threads = parallel.get_num_threads()
    try:
        for t in (1, 2):
            parallel.set_num_threads(t)
            for border in (1, 2):
                assert convgemm.border_saving(x.shape, w.shape, *case[7:], border) > 0
                for pieces in ((0, 0), (3, 2)):
                    out, _ = _run(x, w, case, *pieces, border=border)
                    assert np.array_equal(out, first), (t, border, pieces)
    finally:
        parallel.set_num_threads(threads)


def test_border_order_is_the_shapes_choice():
    """conv2d sorts by rows' border class where that skips 4%+ of the taps: 32 8x8 planes
    of ResNet's 3x3/2 to 4x4 (every fourth output row reads the border at 3 of 9 taps), not
    one 14x14 image, whose border rows do not fill a panel, nor unpadded shapes."""
    args = ((2, 2), (1, 1), (1, 1))
    saving = convgemm.border_saving((32, 128, 8, 8), (256, 128, 3, 3), *args)
    assert 80 <= saving <= convgemm.border_saving((32, 128, 8, 8), (256, 128, 3, 3), *args, 2)
    assert saving >= convgemm.BORDER_MIN_PERMILLE
    assert convgemm.border_saving((1, 256, 14, 14), (256, 256, 3, 3), (1, 1), *args[1:]) \
        < convgemm.BORDER_MIN_PERMILLE
    assert convgemm.border_saving((32, 128, 8, 8), (256, 128, 3, 3), (2, 2), (0, 0),
                                  (1, 1)) == 0


@pytest.mark.parametrize("case", CASES + BORDER_CASES)
def test_unpadded_gather_gives_the_padded_copys_bits(case):
    """The full-tap path gathers from the input itself, loads masked to the plane
    (``direct``), where the AVX-512 packing runs: a masked-off lane reads +0, as the padded
    copy's border does, so the bits are the copy's in every pixel order and cut."""
    rng = np.random.default_rng(13)
    n, c, h, wd, cout, kh, kw = case[:7]
    x = rng.standard_normal((n, c, h, wd), dtype=np.float32)
    w = rng.standard_normal((cout, c, kh, kw), dtype=np.float32)
    ref = _reference(x, w, *case[7:])
    for border in (0, 1, 2):
        for pieces in ((0, 0), (3, 2)):
            expect = np.full(ref.shape, np.nan, np.float32)
            out = np.full(ref.shape, np.nan, np.float32)
            convgemm.conv2d(x, w, expect, *case[7:], *pieces, border, direct=0)
            convgemm.conv2d(x, w, out, *case[7:], *pieces, border, direct=1)
            assert np.array_equal(out, expect), (border, pieces)


def _guarded_input(shape):
    """A float32 array filling whole pages, with an unreadable page on either side: a load
    of a float before or after it faults."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mprotect.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    page = mmap.PAGESIZE
    size = int(np.prod(shape)) * 4
    assert size % page == 0
    buf = mmap.mmap(-1, size + 2 * page)
    base = ctypes.addressof(ctypes.c_char.from_buffer(buf))
    for at in (base, base + page + size):
        assert libc.mprotect(at, page, 0) == 0  # PROT_NONE
    x = np.frombuffer(buf, np.float32, int(np.prod(shape)), page).reshape(shape)
    return x, buf, libc, base


@pytest.mark.parametrize("stride", [(2, 2), (1, 1)])
def test_unpadded_gather_reads_nothing_outside_the_input(stride):
    """The input starts and ends on a page next to an unreadable one: the gather's first
    pixel reads left of column 0 and its last below the last row, masked, so no fault."""
    x, buf, libc, base = _guarded_input((2, 8, 16, 16))
    try:
        x[...] = np.random.default_rng(5).standard_normal(x.shape, dtype=np.float32)
        w = np.random.default_rng(6).standard_normal((9, 8, 3, 3), dtype=np.float32)
        oh = (16 + 2 - 3) // stride[0] + 1
        out = np.empty((2, 9, oh, oh), np.float32)
        expect = np.empty_like(out)
        convgemm.conv2d(x, w, out, stride, (1, 1), (1, 1), direct=1)
        convgemm.conv2d(np.array(x), w, expect, stride, (1, 1), (1, 1), direct=0)
        assert np.array_equal(out, expect)
    finally:
        page = mmap.PAGESIZE
        for at in (base, base + page + x.nbytes):
            libc.mprotect(at, page, 3)  # PROT_READ | PROT_WRITE, so mmap can unmap it
        del x


@pytest.mark.parametrize("shape", [(32, 16, 16, 16, 24), (3, 8, 23, 23, 20), (1, 24, 56, 56, 40)])
def test_even_pixel_halves_give_the_blocks_bits(shape):
    """A team's default pixel cut is one even share a thread, cut at a whole vector
    (``set_even_cut``), not blocks of whole panels: the same bits either way, on 1 or 2
    threads, against the float64 reference."""
    n, c, h, cout = shape[0], shape[1], shape[2], shape[4]
    rng = np.random.default_rng(17)
    x = rng.standard_normal((n, c, h, shape[3]), dtype=np.float32)
    w = rng.standard_normal((cout, c, 3, 3), dtype=np.float32)
    case = (n, c, h, shape[3], cout, 3, 3, (2, 2), (1, 1), (1, 1))
    threads = parallel.get_num_threads()
    previous = convgemm.set_even_cut(False)
    try:
        parallel.set_num_threads(1)
        expect, ref = _run(x, w, case)
        assert np.abs(expect - ref).max() <= REL_TOL * max(1.0, np.abs(ref).max())
        for even in (False, True):
            convgemm.set_even_cut(even)
            for t in (1, 2):
                parallel.set_num_threads(t)
                out, _ = _run(x, w, case)
                assert np.array_equal(out, expect), (even, t)
    finally:
        convgemm.set_even_cut(previous)
        parallel.set_num_threads(threads)

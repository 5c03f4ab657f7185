"""Winograd's float32 forward cut by output channels (``_kernels/winograd_cout.pyx``, chosen
in ``nn/winograd.py`` for few tiles and many channels). Each output is computed as on the
forward cut by tile rows (``forward_float``), so the bits must match it on any chunk size
and thread count, and the result a float64 reference. The kernel compiles at every CPU
level (the products as a plain fmaf loop below AVX-512), so these run at each level.
"""
import numpy as np
import pytest

import ember_tensor
from ember_tensor import from_numpy
from ember_tensor._kernels import winograd_cout
from ember_tensor.nn import conv, winograd


@pytest.fixture
def own(monkeypatch):
    monkeypatch.delenv("EMBER_WINOGRAD", raising=False)
    monkeypatch.setattr(winograd, "_OWN_PRODUCTS", True)
    monkeypatch.setattr(winograd, "_OWN_MIN_CHANNELS", 0)
    monkeypatch.setattr(winograd, "_OWN_SPLIT_MACS", 0)
    monkeypatch.setattr(winograd, "_OWN_SPLIT_TILES", 1)
    monkeypatch.setattr(winograd, "_COUT_MIN_FILTERS", 0)
    old = ember_tensor.get_num_threads()
    yield
    ember_tensor.set_num_threads(old)


def _reference(x, w, b):
    out = conv.conv2d(from_numpy(x.astype(np.float64)), from_numpy(w.astype(np.float64)),
                      from_numpy(b.astype(np.float64)), 1, 1)
    return out._np


# (N, C, Cout, H, W): odd and even planes, output channels not a multiple of 8 or of the
# chunk, one tile, 1x1 planes, a one-channel input
SHAPES = [(4, 24, 40, 7, 7), (1, 16, 27, 14, 14), (2, 9, 33, 5, 6), (1, 5, 8, 1, 1),
          (3, 1, 12, 3, 4), (1, 64, 64, 2, 2)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("flipped", [False, True])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("chunk_bytes", [1, 64 * 40 * 24])
def test_cout_cut_same_bits_as_row_blocks(shape, flipped, threads, chunk_bytes, own,
                                          monkeypatch):
    N, C, Cout, H, W = shape
    # chunk_bytes 1: chunks of 8 output channels; the other: one chunk a thread
    monkeypatch.setattr(winograd, "_COUT_CHUNK_BYTES", chunk_bytes)
    ember_tensor.set_num_threads(threads)
    rng = np.random.default_rng(sum(shape) + 7 * flipped)
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    w_shape = (C, Cout, 3, 3) if flipped else (Cout, C, 3, 3)
    w = rng.standard_normal(w_shape).astype(np.float32)
    b = None if flipped else rng.standard_normal(Cout).astype(np.float32)
    calls = []
    monkeypatch.setattr(winograd, "forward_cout",
                        lambda *a: calls.append(1) or winograd_cout.forward_cout(*a))
    outs = []
    for cut in (True, False):
        monkeypatch.setattr(winograd, "_CUT_COUT", cut)
        out = np.full((N, Cout, H, W), np.nan, np.float32)
        winograd.conv3x3(x, w, out, b, flipped=flipped)
        outs.append(out)
    assert calls == [1]
    np.testing.assert_array_equal(outs[0], outs[1])
    wf = np.ascontiguousarray(w.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1]) if flipped else w
    ref = _reference(x, wf, np.zeros(Cout, np.float32) if b is None else b)
    assert np.abs(outs[0] - ref).max() / np.abs(ref).max() < 1e-5


@pytest.mark.parametrize("shape, cut", [((4, 512, 512, 7, 7), True),
                                        ((1, 256, 256, 14, 14), True),
                                        ((16, 256, 256, 14, 14), False),
                                        ((1, 64, 64, 28, 28), False)])
def test_cout_cut_where_it_measured_faster(shape, cut, monkeypatch):
    # ResNet-18's layer4 at batch 4 and layer3 at batch 1 go by output channels; 3+ tiles an
    # output channel or a small U stay on the row blocks
    N, C, Cout, H, W = shape
    monkeypatch.setattr(winograd, "_OWN_PRODUCTS", True)
    calls = []
    monkeypatch.setattr(winograd, "forward_cout", lambda *a: calls.append(a))
    monkeypatch.setattr(winograd, "forward_float", lambda *a: None)
    x = np.zeros((N, C, H, W), np.float32)
    w = np.zeros((Cout, C, 3, 3), np.float32)
    winograd.conv3x3(x, w, np.empty((N, Cout, H, W), np.float32))
    assert bool(calls) == cut


def test_forward_cout_bad_arguments():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 4, 6, 6)).astype(np.float32)
    w = rng.standard_normal((5, 4, 3, 3)).astype(np.float32)
    y = np.empty((1, 5, 6, 6), np.float32)
    V = np.empty(16 * 4 * 9, np.float32)
    U = np.empty(16 * 8 * 4, np.float32)
    M = np.empty(16 * 8 * 9, np.float32)
    winograd_cout.forward_cout(x, w, V, U, M, y, None, 8, 1)  # fine
    ref = _reference(x, w, np.zeros(5, np.float32))
    assert np.abs(y - ref).max() / np.abs(ref).max() < 1e-5
    with pytest.raises(RuntimeError, match="too small"):
        winograd_cout.forward_cout(x, w, V[:-1], U, M, y, None, 8, 1)
    with pytest.raises(RuntimeError, match="too small"):
        winograd_cout.forward_cout(x, w, V, U, M, y, None, 8, 2)
    with pytest.raises(RuntimeError, match="do not match"):
        winograd_cout.forward_cout(x, w, V, U, M, y, None, 8, 1, True)
    with pytest.raises(RuntimeError, match="bias"):
        winograd_cout.forward_cout(x, w, V, U, M, y, np.zeros(4, np.float32), 8, 1)
    with pytest.raises(RuntimeError, match="chunk"):
        winograd_cout.forward_cout(x, w, V, U, M, y, None, 0, 1)
    with pytest.raises(RuntimeError, match="float32"):
        winograd_cout.forward_cout(*(a.astype(np.float64) for a in (x, w, V, U, M, y)),
                                   None, 8, 1)


@pytest.mark.parametrize("value, on", [("0", False), ("1", True), ("false", False)])
def test_the_switch_is_read_from_the_environment_at_import(value, on):
    import os
    import subprocess
    import sys
    code = ("from ember_tensor.nn import winograd as w; e = w.enabled(); w.set_enabled(not e); "
            "print(e, w.enabled())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "EMBER_WINOGRAD": value}, check=True).stdout
    assert out.split() == [str(on), str(not on)]


def test_cout_cut_lowers_the_break_even(monkeypatch):
    # from 48 tiles where the products go by output channels (3x512x7x7: 48 tiles; the
    # general rule wants 128 at 512 channels); float64 and fewer tiles keep the general rule
    monkeypatch.setattr(winograd, "_ENABLED", True)
    monkeypatch.setattr(winograd, "_OWN_PRODUCTS", True)
    args = ((512, 512, 3, 3), (1, 1), (1, 1), (1, 1), 1)
    fits = winograd.use_winograd
    assert fits((4, 512, 7, 7), args[0], np.float32, *args[1:])
    assert fits((3, 512, 7, 7), args[0], np.float32, *args[1:])
    assert not fits((2, 512, 7, 7), args[0], np.float32, *args[1:])
    assert fits((1, 256, 14, 14), (256, 256, 3, 3), np.float32, *args[1:])
    assert not fits((4, 512, 7, 7), args[0], np.float64, *args[1:])
    assert fits((8, 512, 7, 7), args[0], np.float64, *args[1:])
    monkeypatch.setattr(winograd, "_CUT_COUT", False)
    assert not fits((4, 512, 7, 7), args[0], np.float32, *args[1:])

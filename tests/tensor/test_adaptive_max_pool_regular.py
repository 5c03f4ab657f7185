"""Adaptive max pooling whose windows are all k long and start every s (13 -> 6 is 3 every
2, AlexNet's size) runs max pooling's row sweeps, including max_pool.h's 8-lane block for rows of
fewer than 8 outputs (its spare lanes read past the row, so the last plane's last rows stay
on the scalar sweep). Either way the values and indices must be the window scan's: torch's
windows in row-major order, a strictly greater value or a NaN replaces the running max."""
import ctypes
import mmap

import numpy as np
import pytest

from ember_tensor import from_numpy
from ember_tensor.nn.pooling import adaptive_max_pool2d


def _reference(x, OH, OW):
    P, H, W = x.shape
    out = np.empty((P, OH, OW), x.dtype)
    idx = np.empty((P, OH, OW), np.int64)
    for p in range(P):
        for oh in range(OH):
            h0, h1 = oh * H // OH, -(-(oh + 1) * H // OH)
            for ow in range(OW):
                w0, w1 = ow * W // OW, -(-(ow + 1) * W // OW)
                m, best = x[p, h0, w0], h0 * W + w0
                for ih in range(h0, h1):
                    for iw in range(w0, w1):
                        v = x[p, ih, iw]
                        if v > m or np.isnan(v):
                            m, best = v, ih * W + iw
                out[p, oh, ow], idx[p, oh, ow] = m, best
    return out, idx


def _data(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    # few distinct values, so windows hold ties; some NaNs and -infs
    x = rng.integers(-3, 4, size=shape).astype(dtype)
    flat = x.reshape(-1)
    flat[rng.choice(flat.size, flat.size // 15, replace=False)] = np.nan
    flat[rng.choice(flat.size, flat.size // 20, replace=False)] = -np.inf
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("H, W, OH, OW", [
    (13, 13, 6, 6),    # 3 every 2: rows of 6 outputs, one short block each
    (7, 7, 3, 3),      # 3 every 2, rows of 3
    (12, 12, 4, 4),    # 3 every 3
    (6, 6, 6, 6),      # 1 every 1
    (13, 40, 6, 13),   # rows: 3 every 2; columns: 4 every 3, a full block and an overlap
    (9, 17, 9, 1),     # one output column
    (10, 10, 4, 4),    # irregular windows: the window scan
    (13, 10, 6, 4),    # regular rows, irregular columns: the window scan
    (4, 4, 8, 8),      # more outputs than inputs: windows repeat, the window scan
])
def test_matches_the_window_scan(H, W, OH, OW, dtype):
    x = _data((2, 3, H, W), dtype, seed=H * 100 + W)
    out, idx = adaptive_max_pool2d(from_numpy(x), (OH, OW))
    ref_out, ref_idx = _reference(x.reshape(-1, H, W), OH, OW)
    np.testing.assert_array_equal(idx._np.reshape(-1, OH, OW), ref_idx)
    np.testing.assert_array_equal(out._np.reshape(-1, OH, OW), ref_out)


def test_last_plane_short_rows_read_nothing_past_the_input():
    # the input ends where an unreadable page begins: the last plane's last rows must not
    # take the 8-lane block, whose spare lanes would read past the array (a crash here)
    page = mmap.PAGESIZE
    buf = mmap.mmap(-1, 2 * page)
    n = 6 * 13 * 13
    x = np.frombuffer(buf, np.float32, count=n, offset=page - 4 * n).reshape(1, 6, 13, 13)
    x[...] = _data((1, 6, 13, 13), np.float32, seed=7)
    libc = ctypes.CDLL(None)
    guard = ctypes.c_void_p(ctypes.addressof(ctypes.c_char.from_buffer(buf)) + page)
    assert libc.mprotect(guard, page, 0) == 0  # PROT_NONE
    try:
        out, idx = adaptive_max_pool2d(from_numpy(x), 6)
    finally:
        libc.mprotect(guard, page, 3)  # PROT_READ | PROT_WRITE
    ref_out, ref_idx = _reference(x.reshape(-1, 13, 13), 6, 6)
    np.testing.assert_array_equal(idx._np.reshape(-1, 6, 6), ref_idx)
    np.testing.assert_array_equal(out._np.reshape(-1, 6, 6), ref_out)

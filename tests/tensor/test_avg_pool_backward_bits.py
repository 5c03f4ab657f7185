"""Average pooling's backward pinned bit for bit to its definition: each window's share
``grad / divisor`` in the dtype, added with ``+=`` into the input in output order. Any
faster formulation (a gather that writes each input once, vector rows) must keep these bits.
Adaptive windows (overlapping, uneven, more outputs than inputs) and strided ones with
padding, ceil_mode, count_include_pad and divisor_override."""
import numpy as np
import pytest

from ember_tensor import from_numpy
from ember_tensor.nn import pooling


def _scatter(go, H, W, rows, cols, divisor):
    """The += scatter in the dtype: rows/cols are (lo, hi, span) per output."""
    P, OH, OW = go.shape
    gx = np.zeros((P, H, W), go.dtype)
    for oh, (h0, h1, hs) in enumerate(rows):
        for ow, (w0, w1, ws) in enumerate(cols):
            if h0 >= h1 or w0 >= w1:
                continue
            div = divisor(h1 - h0, w1 - w0, hs, ws)
            share = go[:, oh, ow] / go.dtype.type(div)
            for ih in range(h0, h1):
                for iw in range(w0, w1):
                    gx[:, ih, iw] += share
    return gx


def _adaptive_windows(n, on):
    return [(o * n // on, -(-(o + 1) * n // on), -(-(o + 1) * n // on) - o * n // on)
            for o in range(on)]


def _strided_windows(n, on, k, s, p):
    out = []
    for o in range(on):
        a, b = o * s - p, min(o * s - p + k, n + p)
        out.append((max(a, 0), min(b, n), b - a))
    return out


def _grad(shape, dtype, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("H, W, OH, OW", [(13, 13, 6, 6), (7, 5, 3, 2), (10, 9, 4, 4),
                                         (3, 4, 7, 9), (5, 5, 5, 5)])
def test_adaptive_backward_is_the_scatter(H, W, OH, OW, dtype):
    x = np.zeros((2, 3, H, W), dtype)
    go = _grad((2, 3, OH, OW), dtype, seed=H * W)
    gx = pooling.adaptive_avg_pool2d_backward(from_numpy(go), from_numpy(x))._np
    want = _scatter(go.reshape(6, OH, OW), H, W, _adaptive_windows(H, OH),
                    _adaptive_windows(W, OW), lambda h, w, hs, ws: h * w)
    np.testing.assert_array_equal(gx.reshape(6, H, W), want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k, s, p, ceil, include_pad, override", [
    (3, 2, 1, False, True, None),
    (3, 2, 1, True, False, None),
    (2, 3, 0, False, True, None),   # stride past the kernel: inputs no window holds
    (3, 1, 1, False, False, None),
    (3, 2, 1, True, True, 7),
])
def test_strided_backward_is_the_scatter(k, s, p, ceil, include_pad, override, dtype):
    H, W = 11, 8
    x = np.zeros((1, 4, H, W), dtype)
    out = pooling.avg_pool2d(from_numpy(x), k, s, p, ceil, include_pad, override)._np
    OH, OW = out.shape[-2:]
    go = _grad(out.shape, dtype, seed=k * 10 + s)
    gx = pooling.avg_pool2d_backward(from_numpy(go), from_numpy(x), k, s, p, ceil, include_pad,
                                     override)._np

    def divisor(h, w, hs, ws):
        return override or (hs * ws if include_pad else h * w)

    want = _scatter(go.reshape(4, OH, OW), H, W, _strided_windows(H, OH, k, s, p),
                    _strided_windows(W, OW, k, s, p), divisor)
    np.testing.assert_array_equal(gx.reshape(4, H, W), want)

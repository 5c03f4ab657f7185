"""max_pool2d's register-blocked row sweep (max_pool.h, float32 at column stride 1 and 2) gives
exactly the values and indices of torch's rule: windows scanned in row-major order, a
strictly greater value or a NaN replaces the running max. Checked against a direct scan in
NumPy over rows of 8 to 40 interior outputs (whole blocks, and a last block that overlaps
the one before), ties, NaNs, -inf, padding, dilation and ceil_mode."""
import math

import numpy as np
import pytest

from ember_tensor import from_numpy
from ember_tensor.nn.pooling import max_pool2d_with_indices


def _out_size(n, k, s, p, d, ceil):
    span = n + 2 * p - d * (k - 1) - 1
    out = (math.ceil(span / s) if ceil else span // s) + 1
    if ceil and (out - 1) * s >= n + p:
        out -= 1
    return out


def _reference(x, k, s, p, d, ceil):
    P, H, W = x.shape
    OH, OW = _out_size(H, k, s, p, d, ceil), _out_size(W, k, s, p, d, ceil)
    out = np.empty((P, OH, OW), x.dtype)
    idx = np.empty((P, OH, OW), np.int64)
    for pl in range(P):
        for oh in range(OH):
            for ow in range(OW):
                m, best = -np.inf, None
                for i in range(k):
                    ih = oh * s - p + i * d
                    if not 0 <= ih < H:
                        continue
                    for j in range(k):
                        iw = ow * s - p + j * d
                        if not 0 <= iw < W:
                            continue
                        v = x[pl, ih, iw]
                        if best is None:
                            best = ih * W + iw
                        if v > m or np.isnan(v):
                            m, best = v, ih * W + iw
                out[pl, oh, ow], idx[pl, oh, ow] = m, best
    return out, idx


def _data(shape, seed):
    rng = np.random.default_rng(seed)
    # few distinct values, so windows hold ties; some NaNs and -infs
    x = rng.integers(-3, 4, size=shape).astype(np.float32)
    flat = x.reshape(-1)
    flat[rng.choice(flat.size, flat.size // 15, replace=False)] = np.nan
    flat[rng.choice(flat.size, flat.size // 20, replace=False)] = -np.inf
    return x


@pytest.mark.parametrize("width", [5, 9, 13, 17, 18, 19, 32, 33, 45, 64, 81])
@pytest.mark.parametrize("k, s, p, d, ceil", [
    (3, 2, 1, 1, False),  # the ResNet stem's pool
    (3, 1, 1, 1, False),
    (2, 2, 0, 1, False),
    (3, 2, 0, 1, True),
    (3, 2, 1, 2, False),
    (3, 1, 0, 1, False),
])
def test_row_sweep_matches_the_direct_scan(width, k, s, p, d, ceil):
    x = _data((3, 7, width), seed=width * 10 + k)
    out, idx = max_pool2d_with_indices(from_numpy(x), k, s, p, d, ceil)
    ref_out, ref_idx = _reference(x, k, s, p, d, ceil)
    np.testing.assert_array_equal(idx._np, ref_idx)
    np.testing.assert_array_equal(out._np, ref_out)  # NaN == NaN for assert_array_equal


def test_float64_and_float32_agree():
    x = _data((2, 9, 40), seed=5)
    o32, i32 = max_pool2d_with_indices(from_numpy(x), 3, 2, 1)
    o64, i64 = max_pool2d_with_indices(from_numpy(x.astype(np.float64)), 3, 2, 1)
    np.testing.assert_array_equal(i32._np, i64._np)
    np.testing.assert_array_equal(o32._np, o64._np.astype(np.float32))

"""Floating sums are deterministic and accurate: the same input gives the same bits on 1 or 2
threads and on every kernel level (the adds run in an order fixed by simd.h, split at fixed
piece boundaries), and a float32 sum stays within a few float32 roundings of the float64
sum (partials of at most 8 terms in float32, everything longer in double)."""
import os
import subprocess
import sys

import numpy as np
import pytest

import ember_tensor as et
from ember_tensor import reduction as R
from ember_tensor._array import Array
from ember_tensor._kernels import cpu_features, reduce as K

# (shape, dim): one long row split into pieces, a few long rows, many short rows, outer sums
# with leftover rows (not a multiple of 8) and column blocks, and a staged two-run sum
CASES = [((300_007,), None), ((3, 70_001), 1), ((501, 37), 1), ((1003, 300), 0),
         ((9, 301, 5), 1), ((5, 7, 3, 11), (0, 2)),
         # float32 rows of 64 and more in blocks of 128, 64 and 16 and a padded last block:
         # each kind of block, a row's end of 1-15 values, and rows of exact blocks
         ((40, 1000), 1), ((30, 77), 1), ((20, 130), 1), ((10, 192), 1), ((9, 64), 1)]


def _data(shape, dtype=np.float32):
    return np.random.default_rng(7).standard_normal(shape).astype(dtype)


def _sums(dtype=np.float32):
    out = []
    for shape, dim in CASES:
        a = Array(_data(shape, dtype))
        out.append(R.sum(a) if dim is None else R.sum(a, dim))
    return [s._np.copy() for s in out]


@pytest.mark.parametrize("n", [32_769, 5 * 32_768, 1_000_003, 3_000_017])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_long_sum_piece_shares_change_no_bit(n, dtype):
    # a long row's pieces go to the threads as one contiguous share each (the default) or
    # in chunks of PIECES_PER_CHUNK: each piece's total is its own and the totals are added
    # in order, so neither split nor thread count shows in a bit
    x = _data((n,), dtype)
    old, was = et.get_num_threads(), K._set_sum_piece_shares(True)
    try:
        et.set_num_threads(1)
        want = R.sum(Array(x))._np.copy()
        et.set_num_threads(2)
        for on in (True, False):
            K._set_sum_piece_shares(on)
            np.testing.assert_array_equal(R.sum(Array(x))._np, want)
    finally:
        et.set_num_threads(old)
        K._set_sum_piece_shares(was)
    ref = x.astype(np.float64).sum()
    np.testing.assert_allclose(float(want), ref, rtol=1e-6, atol=1e-6 * np.abs(x).sum())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_thread_count_does_not_change_a_bit(dtype):
    old = et.get_num_threads()
    try:
        et.set_num_threads(1)
        one = _sums(dtype)
        et.set_num_threads(2)
        two = _sums(dtype)
    finally:
        et.set_num_threads(old)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


def test_long_row_kernel_equals_its_threaded_split():
    # a row long enough for several pieces, through the kernel's few-long-rows path
    x = _data((2, 200_003, 1))
    serial, split = np.empty((2, 1), np.float64), np.empty((2, 1), np.float64)
    old = et.get_num_threads()
    try:
        et.set_num_threads(1)
        K.sum_3d(x, serial)
        et.set_num_threads(2)
        K.sum_3d(x, split)
    finally:
        et.set_num_threads(old)
    np.testing.assert_array_equal(serial, split)


@pytest.mark.parametrize("shape, dim", CASES)
def test_float32_sum_within_float32_rounding_of_float64(shape, dim):
    x = _data(shape) + np.float32(0.5)  # positive mean: the sum grows, as rounding does
    got = (R.sum(Array(x)) if dim is None else R.sum(Array(x), dim))._np.astype(np.float64)
    axis = dim if dim is None or isinstance(dim, int) else tuple(dim)
    want = x.astype(np.float64).sum(axis=axis)
    scale = np.abs(x).astype(np.float64).sum(axis=axis)
    # rounding the result once costs half a float32 ulp; float32 partials of 4 or 8 terms
    # (trees of depth 2 or 3) add a few roundings relative to the magnitudes summed
    bound = np.spacing(np.abs(want).astype(np.float32)).astype(np.float64) + 4e-8 * scale
    assert np.all(np.abs(got - want) <= bound)


@pytest.mark.skipif(cpu_features.native_build(), reason="an EMBER_NATIVE=1 build has one copy")
def test_every_kernel_level_gives_the_same_bits():
    code = ("import numpy as np\n"
            "from ember_tensor import reduction as R\n"
            "from ember_tensor._array import Array\n"
            "x = np.random.default_rng(7).standard_normal(300_007).astype(np.float32)\n"
            "m = x[:300_000].reshape(1000, 300)\n"
            "print(repr(float(R.sum(Array(x))._np)), R.sum(Array(m), 0)._np.tobytes().hex(),"
            " R.sum(Array(m), 1)._np.tobytes().hex())\n")
    outputs = set()
    for level in et.supported_cpu_levels():
        env = dict(os.environ, EMBER_CPU=level)
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        outputs.add(proc.stdout)
    assert len(outputs) == 1


@pytest.mark.parametrize("n", [64, 77, 128, 130, 1000, 4099])
def test_float32_row_sum_is_the_documented_lane_order(n):
    # simd.h's ember_lanes_sum_f32, written out in NumPy: 16 lanes; blocks of 128 as trees of
    # depth 3 in float32, then of 64 (depth 2), then of 16, then the end padded with zeros;
    # each block joins its double lane; the lanes fold in halves. Same bits at every level.
    x = _data(n)
    acc, k = np.zeros(16), 0

    def block(off):
        return x[k + off:k + off + 16]

    while k + 128 <= n:
        t = [block(o) + block(o + 64) for o in (0, 16, 32, 48)]
        acc += ((t[0] + t[1]) + (t[2] + t[3])).astype(np.float64)
        k += 128
    while k + 64 <= n:
        acc += ((block(0) + block(16)) + (block(32) + block(48))).astype(np.float64)
        k += 64
    while k + 16 <= n:
        acc += block(0).astype(np.float64)
        k += 16
    last = np.zeros(16, np.float32)
    last[:n - k] = x[k:]
    acc += last.astype(np.float64)
    s = acc[:8] + acc[8:]
    t = s[:4] + s[4:]
    want = (t[0] + t[2]) + (t[1] + t[3])
    got = np.empty((1, 1), np.float64)
    K.sum_3d(x.reshape(1, n, 1), got)
    assert got[0, 0] == want


@pytest.mark.parametrize("shape", [(1000, 1000), (1003, 700), (1001, 1000), (97, 5003), (5, 60_000)])
def test_last_dim_row_slabs_change_no_bit(shape):
    # rows handed to threads in slabs (the default) or in small chunks: each row's sum is
    # its own, so the split shows in no bit, on 1 thread or 2, with short last slabs too
    # (equal slabs or FLAT_SLAB-sized ones with a short last one: _set_sum_equal_slabs)
    x = Array(_data(shape))
    old, was = et.get_num_threads(), K._set_sum_row_slabs(True)
    was_equal = K._set_sum_equal_slabs(True)
    try:
        et.set_num_threads(1)
        want = R.sum(x, 1)._np.copy()
        et.set_num_threads(2)
        for on in (True, False):
            K._set_sum_row_slabs(on)
            for equal in (True, False):
                K._set_sum_equal_slabs(equal)
                np.testing.assert_array_equal(R.sum(x, 1)._np, want)
    finally:
        et.set_num_threads(old)
        K._set_sum_row_slabs(was)
        K._set_sum_equal_slabs(was_equal)
    np.testing.assert_allclose(want, x._np.astype(np.float64).sum(1), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("shape", [(1000, 1000), (1, 1003, 999), (3, 700, 1000),
                                   (2, 300, 3000), (5, 400, 40)])
def test_outer_sum_width_changes_no_bit(shape):
    # an outer (dim=0-like) sum's tasks are blocks of columns, whole rows of up to 1024 or,
    # where those share badly between threads, narrower (_sum_width); each column's adds run
    # in one order whatever the width, so no width and no thread count shows in a bit
    x = _data(shape)
    dim = 0 if len(shape) == 2 else 1
    old, was = et.get_num_threads(), K._set_sum_col_block(0)
    try:
        et.set_num_threads(1)
        want = R.sum(Array(x), dim)._np.copy()
        for threads in (1, 2):
            et.set_num_threads(threads)
            for width in (0, 1, 16, 128, 500, 1024):
                K._set_sum_col_block(width)
                np.testing.assert_array_equal(R.sum(Array(x), dim)._np, want)
    finally:
        et.set_num_threads(old)
        K._set_sum_col_block(was)
    np.testing.assert_allclose(want, x.astype(np.float64).sum(dim), rtol=1e-5, atol=1e-4)

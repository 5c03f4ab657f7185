"""The launcher's two 2-D shortcuts give NumPy's values bit for bit, on one thread and two:
transposed inputs gathered a tile at a time (partial tiles, every element size, flipped and
doubly transposed operands), and a last dim broadcast from size 1 run by the loop variants
that read that operand once (on either side, for every op that has them)."""
import pathlib
import sys

import numpy as np
import pytest

import ember_tensor as et
from ember_tensor import elementwise as E
from ember_tensor._kernels import binary, strided
from ember_tensor._kernels.elementwise_ops import ONCE_VARIANTS

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import test_elementwise_threads  # noqa: E402

threads = test_elementwise_threads.threads  # the 1- and 2-thread fixture


def _data(shape, dtype, seed):
    x = np.random.default_rng(seed).standard_normal(shape) * 40
    return x.astype(dtype)


# 257 x 203: a partial tile in both directions and more than one in each
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int16, np.uint8],
                         ids=lambda d: np.dtype(d).name)
def test_transposed_input_in_tiles(threads, dtype):
    x = _data((203, 257), dtype, 1)
    y = _data((257, 203), dtype, 2)
    for a, b in ((x.T, y), (y, x.T), (x.T, x.T[::-1, ::-1]), (x.T[:, ::-1], y)):
        for op, ref in ((E.add, np.add), (E.mul, np.multiply), (E.maximum, np.maximum)):
            got = op(et.from_numpy(a), et.from_numpy(b)).numpy()
            np.testing.assert_array_equal(got, ref(a, b))


def test_transposed_input_beside_a_broadcast_column(threads):
    x = _data((300, 200), np.float32, 3)
    col = _data((200, 1), np.float32, 4)
    got = E.sub(et.from_numpy(x.T), et.from_numpy(col)).numpy()
    np.testing.assert_array_equal(got, x.T - col)
    np.testing.assert_array_equal(E.where(et.from_numpy(x.T > 0), et.from_numpy(x.T),
                                          et.from_numpy(col)).numpy(),
                                  np.where(x.T > 0, x.T, col))


def test_transposed_output_keeps_the_row_path(threads):
    x = _data((120, 90), np.float64, 5)
    out = np.empty((120, 90)).T
    E.add(et.from_numpy(x.T), et.from_numpy(x.T), out=et.from_numpy(out))
    np.testing.assert_array_equal(out, x.T + x.T)


@pytest.mark.parametrize("name", ONCE_VARIANTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.uint8],
                         ids=lambda d: np.dtype(d).name)
def test_broadcast_column_read_once(threads, name, dtype):
    if name == "div" and np.dtype(dtype).kind != "f":
        pytest.skip("integer true division promotes first")
    m = _data((301, 333), dtype, 6)
    col = _data((301, 1), dtype, 7)
    if np.dtype(dtype).kind == "f":
        col[::7] = np.nan  # maximum/minimum propagate NaN from either side
    ref = getattr(np, {"sub": "subtract", "mul": "multiply", "div": "divide", "eq": "equal",
                       "ne": "not_equal", "lt": "less", "le": "less_equal", "gt": "greater",
                       "ge": "greater_equal"}.get(name, name))
    op = getattr(E, name)
    with np.errstate(all="ignore"):
        for a, b in ((m, col), (col, m)):
            got = op(et.from_numpy(a), et.from_numpy(b)).numpy()
            np.testing.assert_array_equal(got, ref(a, b))


def test_variants_are_registered_for_the_listed_ops():
    for name in ONCE_VARIANTS:
        variants = strided._ONCE[binary.KERNELS[name, "float32"][0]]
        assert len(variants) == 2 and all(variants)
    assert binary.KERNELS["atan2", "float32"][0] not in strided._ONCE


@pytest.mark.parametrize("elems", [64, 1 << 18])
def test_flat_slab_size_is_settable_and_exact(threads, elems):
    a = _data((100_003,), np.float32, 8)
    b = _data((100_003,), np.float32, 9)
    old = strided._set_flat_chunk(elems)
    try:
        np.testing.assert_array_equal(E.add(et.from_numpy(a), et.from_numpy(b)).numpy(), a + b)
    finally:
        strided._set_flat_chunk(old)
    with pytest.raises(ValueError, match="multiple of 64"):
        strided._set_flat_chunk(100)


def _assert_both_sides(x, y):
    """mul and sub of ``x`` and ``y`` (either side) give NumPy's values bit for bit."""
    for op, ref in ((E.mul, np.multiply), (E.sub, np.subtract)):
        np.testing.assert_array_equal(op(et.from_numpy(x), et.from_numpy(y)).numpy(), ref(x, y))
        np.testing.assert_array_equal(op(et.from_numpy(y), et.from_numpy(x)).numpy(), ref(y, x))


# rows whose operands all pass in place go to threads in slab-sized groups of whole rows:
# slab sizes giving one row a group, a few rows with a short last group, fewer groups than
# threads, and the old FLAT_CHUNK items (switch off), a column and a row broadcast
@pytest.mark.parametrize("elems", [64, 2048, 1 << 18])
@pytest.mark.parametrize("slabs", [True, False], ids=["slabs", "items"])
@pytest.mark.parametrize("shapes", [((1000, 1000), (1000, 1)), ((1001, 333), (333,)),
                                    ((61, 4000), (61, 1))], ids=lambda s: f"{s[0]}x{s[1]}")
def test_in_place_rows_in_slab_groups(threads, elems, slabs, shapes):
    x = _data(shapes[0], np.float32, 10)
    y = _data(shapes[1], np.float32, 11)
    old, was = strided._set_flat_chunk(elems), strided._set_direct_slabs(slabs)
    try:
        _assert_both_sides(x, y)
    finally:
        strided._set_flat_chunk(old)
        strided._set_direct_slabs(was)


def _at_offset(shape, dtype, offset, seed):
    """An array ``offset`` bytes past a 64-byte line, filled with ``_data``."""
    item = np.dtype(dtype).itemsize
    n = int(np.prod(shape))
    raw = np.empty(n * item + 128, np.uint8)
    start = (-raw.ctypes.data) % 64 + offset
    a = raw[start:start + n * item].view(dtype).reshape(shape)
    a[...] = _data(shape, dtype, seed)
    return a


# a broadcast row off a cache line is read from an aligned copy (the switch off: in place):
# rows of every element size at offsets that leave it off a line, NumPy's own, an aligned
# one, a strided matrix (buffered rows) and a transposed one (tiles), the row on either side
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16, np.uint8],
                         ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("offset", [0, 2, 16, 48])
@pytest.mark.parametrize("layout", ["contiguous", "strided", "transposed"])
@pytest.mark.parametrize("aligned", [True, False], ids=["copy", "in-place"])
def test_broadcast_row_from_an_aligned_copy(threads, dtype, offset, layout, aligned):
    item = np.dtype(dtype).itemsize
    if offset % item:
        pytest.skip("an offset of whole elements only")
    rows, cols = 300, 517
    x = _data((rows, 2 * cols) if layout == "strided" else (rows, cols), dtype, 12)
    x = x[:, ::2] if layout == "strided" else x
    x = np.ascontiguousarray(x.T).T if layout == "transposed" else x
    y = _at_offset((cols,), dtype, offset, 13)
    was = strided._set_align_rows(aligned)
    try:
        _assert_both_sides(x, y)
    finally:
        strided._set_align_rows(was)

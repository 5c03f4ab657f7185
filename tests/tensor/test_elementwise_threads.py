"""The elementwise launcher's ways of splitting work give NumPy's values bit for bit, on one
thread and on two: flat slabs handed out as threads ask (with a short last one), short rows
grouped into items (with a short last group), long rows cut into blocks, and broadcast
(stride-0) operands filled into block buffers for each element size. Also: a flat run starts
its kernel where the output reaches a 64-byte line (the elements before it are a call of their
own), a contiguous tensor and a 0-dim operand form one flat run through the kernel's read-once
variant, and 2-D rows whose operands all pass in place go to the kernel without buffers."""
import numpy as np
import pytest

import ember_tensor as et
from ember_tensor import activation as A
from ember_tensor import elementwise as E


@pytest.fixture(params=[1, 2], ids=["1thread", "2threads"])
def threads(request):
    old = et.get_num_threads()
    et.set_num_threads(request.param)
    yield request.param
    et.set_num_threads(old)


# (shape of a, shape of b): sizes well past the launcher's one-thread cut-off
LAYOUTS = [
    ((100_003,), (100_003,)),        # flat: several slabs and a short last one
    ((70_001,), ()),                 # flat, 0-dim operand
    ((301, 333), (333,)),            # short rows, broadcast row: 49 rows an item, short last
    ((301, 333), (301, 1)),          # short rows, broadcast column (filled buffer)
    ((7, 3, 5_000), (3, 1)),         # long rows cut into blocks, column broadcast
    ((40_000, 3), (3,)),             # many tiny rows
]
DTYPES = [np.float32, np.float64, np.int64, np.int16, np.uint8]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shapes", LAYOUTS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_binary_matches_numpy_on_every_split(threads, shapes, dtype):
    rng = np.random.default_rng(7)
    a = np.asarray(rng.standard_normal(shapes[0]) * 40).astype(dtype)
    b = np.asarray(rng.standard_normal(shapes[1]) * 40).astype(dtype)
    for op, ref in ((E.add, np.add), (E.mul, np.multiply), (E.maximum, np.maximum)):
        got = op(et.from_numpy(a), et.from_numpy(b)).numpy()
        np.testing.assert_array_equal(got, ref(a, b))
        assert got.dtype == a.dtype


def test_transposed_operand_matches_numpy(threads):
    x = np.random.default_rng(3).standard_normal((400, 300)).astype(np.float32)
    y = np.ascontiguousarray(x.T)
    got = E.add(et.from_numpy(x.T), et.from_numpy(y)).numpy()
    np.testing.assert_array_equal(got, x.T + y)


@pytest.mark.parametrize("shape", [(100_000,), (300, 400)])
def test_zero_divisor_in_a_late_chunk_raises(threads, shape):
    a = np.ones(shape, np.int32)
    b = np.ones(shape, np.int32)
    b.reshape(-1)[-1] = 0  # in the last slab / group, whichever thread takes it
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        E.div(et.from_numpy(a), et.from_numpy(b), rounding_mode="floor")


def _at(offset, n, dtype):
    """A 1-D array of n elements whose first is ``offset`` elements past a 64-byte line."""
    size = np.dtype(dtype).itemsize
    raw = np.empty(n * size + 128 + offset * size, np.uint8)
    start = (-raw.ctypes.data) % 64 + offset * size
    return raw[start:start + n * size].view(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16, np.uint8],
                         ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("offset", [0, 1, 3, 7, 15])
@pytest.mark.parametrize("n", [127, 128, 70_001])
def test_flat_runs_at_any_output_offset(threads, dtype, offset, n):
    rng = np.random.default_rng(offset)
    a = _at(offset, n, dtype)
    a[:] = np.asarray(rng.standard_normal(n) * 40).astype(dtype)
    b = np.asarray(rng.standard_normal(n) * 40).astype(dtype)
    x, y = et.from_numpy(a), et.from_numpy(b)
    for got, want in ((E.add(x, y), a + b), (E.mul(x, 3), a * dtype(3)),
                      (E.sub(x, et.from_numpy(np.array(5, dtype))), a - dtype(5)),
                      (E.maximum(x, y), np.maximum(a, b))):
        np.testing.assert_array_equal(got.numpy(), want)
    out = et.from_numpy(_at(offset, n, dtype))
    E.add(x, y, out=out)  # the output itself off the line
    np.testing.assert_array_equal(out.numpy(), a + b)


@pytest.mark.parametrize("offset", [0, 5])
def test_relu_and_hardswish_flat_at_any_offset(threads, offset):
    a = _at(offset, 50_003, np.float32)
    a[:] = np.random.default_rng(1).standard_normal(50_003).astype(np.float32) * 4
    a[7] = np.nan
    got = A.relu(et.from_numpy(a)).numpy()
    np.testing.assert_array_equal(got, np.where(a < 0, np.float32(0), a))
    hs = A.hardswish(et.from_numpy(a)).numpy()
    want = a * np.clip(a + np.float32(3), 0, 6) / np.float32(6)
    np.testing.assert_allclose(hs[~np.isnan(a)], want[~np.isnan(a)], rtol=1e-6, atol=1e-7)
    assert np.isnan(hs[7])


# (shape of x, shape of y): rows whose operands all pass in place (row broadcast, a column
# read once per row, a strided-row view), and ones that still need block buffers
ROWS = [((1000, 1000), (1000,)), ((1000, 1000), (1000, 1)), ((301, 333), (1, 333)),
        ((37, 5_000), (5_000,)), ((37, 5_000), (37, 1)), ((64, 3, 200), (3, 200))]


@pytest.mark.parametrize("shapes", ROWS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_in_place_rows_match_numpy(threads, shapes):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shapes[0]).astype(np.float32)
    y = rng.standard_normal(shapes[1]).astype(np.float32)
    for op, ref in ((E.mul, np.multiply), (E.sub, np.subtract)):
        np.testing.assert_array_equal(op(et.from_numpy(x), et.from_numpy(y)).numpy(),
                                      ref(x, y))
        np.testing.assert_array_equal(op(et.from_numpy(y), et.from_numpy(x)).numpy(),
                                      ref(y, x))


def test_rows_of_a_sliced_view(threads):
    base = np.random.default_rng(4).standard_normal((500, 1030)).astype(np.float32)
    x = base[:, 3:1003]  # rows 1030 apart, starting off the line
    row = np.arange(1000, dtype=np.float32)
    np.testing.assert_array_equal(E.mul(et.from_numpy(x), et.from_numpy(row)).numpy(), x * row)


# slab sizes (elements, a multiple of 64) and lengths: the split makes a whole number of equal
# slabs a thread, so these cover one slab, a count rounded up to the threads', and lengths
# whose rounding to 64 leaves a short or a missing last slab
@pytest.mark.parametrize("slab", [64, 4096, 262144])
@pytest.mark.parametrize("n", [65_537, 100_003, 786_433, 1_000_000])
def test_equal_slabs_cover_every_element(threads, slab, n):
    from ember_tensor._kernels import strided
    rng = np.random.default_rng(n)
    a = rng.standard_normal(n).astype(np.float32)
    b = rng.standard_normal(n).astype(np.float32)
    old = strided._set_flat_chunk(slab)
    try:
        flat = E.add(et.from_numpy(a), et.from_numpy(b)).numpy()
        rows = E.mul(et.from_numpy(a[:n - n % 1000].reshape(-1, 1000)),
                     et.from_numpy(b[:1000])).numpy()
    finally:
        strided._set_flat_chunk(old)
    np.testing.assert_array_equal(flat, a + b)
    np.testing.assert_array_equal(rows, a[:n - n % 1000].reshape(-1, 1000) * b[:1000])

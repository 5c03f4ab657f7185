"""The elementwise launcher's ways of splitting work give NumPy's values bit for bit, on one
thread and on two: flat slabs handed out as threads ask (with a short last one), short rows
grouped into items (with a short last group), long rows cut into blocks, and broadcast
(stride-0) operands filled into block buffers for each element size."""
import numpy as np
import pytest

import ember_tensor as et
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

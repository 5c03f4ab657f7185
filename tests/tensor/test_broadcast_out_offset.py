"""A big broadcast's result (``fast_path._launched``: x * row, x + col) starts at the same
offset in its page as the operand of its shape: a block allocated by fast_path and adopted
by the array with a NumPy allocation handler. Where the result lands must change no value:
every offset, op, dtype and thread count gives NumPy's values and the same bits as NumPy's
own allocation gave (the switch off; NaN payloads, -0.0, inf included); the result is an
ordinary array that owns its data, and its free and resize (the handler's realloc) keep its
contents."""
import gc

import numpy as np
import pytest

import ember_tensor as et
from ember_tensor import elementwise as E
from ember_tensor._kernels import fast_path

try:  # NEP 49's query of an array's allocation handler
    from numpy._core.multiarray import get_handler_name
except ImportError:  # NumPy 1.x
    from numpy.core.multiarray import get_handler_name

OPS = {"add": (E.add, np.add), "sub": (E.sub, np.subtract), "mul": (E.mul, np.multiply),
       "div": (E.div, np.divide)}
SPECIALS = [np.nan, -np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-40, 3.0e38]
ROWS, COLS = 300, 301  # past PARALLEL_MIN_WORK; 301 elements a row move the rows' offsets


@pytest.fixture
def matching():
    old = fast_path._set_match_offset(True)
    yield
    fast_path._set_match_offset(old)


def _at(shape, dtype, byte_offset, seed):
    """A C-contiguous array starting ``byte_offset`` bytes into a page, with specials and a
    NaN with a payload in its first row."""
    size = np.dtype(dtype).itemsize
    n = int(np.prod(shape))
    buf = np.empty(n + 2 * 4096 // size, dtype)
    start = ((-buf.ctypes.data) % 4096 + byte_offset) // size
    arr = buf[start:start + n].reshape(shape)
    assert arr.ctypes.data % 4096 == byte_offset
    arr[...] = (np.random.default_rng(seed).standard_normal(shape) * 30).astype(dtype)
    arr.flat[:len(SPECIALS)] = SPECIALS
    bits = arr.view(np.uint32 if size == 4 else np.uint64)
    bits.flat[len(SPECIALS)] = 0x7FC00123 if size == 4 else 0x7FF8000000000123
    return arr


def _bits(arr):
    return arr.view(np.uint32 if arr.dtype.itemsize == 4 else np.uint64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("byte_offset", [0, 16, 32, 48, 64, 1040, 2048, 4080])
@pytest.mark.parametrize("nthreads", [1, 2])
def test_result_takes_the_page_offset(matching, dtype, byte_offset, nthreads):
    old_threads = et.get_num_threads()
    et.set_num_threads(nthreads)
    try:
        _check_offsets(dtype, byte_offset)
    finally:
        et.set_num_threads(old_threads)


def _check_offsets(dtype, byte_offset):
    x = _at((ROWS, COLS), dtype, byte_offset, 1)
    row = _at((COLS,), dtype, 16, 2)
    col = _at((ROWS, 1), dtype, 48, 3)
    for name, (op, ref) in OPS.items():
        for a, b in ((x, row), (row, x), (x, col), (col, x)):
            got = op(et.from_numpy(a), et.from_numpy(b))._np
            assert got.ctypes.data % 4096 == byte_offset, name
            assert got.base is None and got.flags.owndata and got.flags.c_contiguous
            assert get_handler_name(got) == "ember_line_offset_allocator"
            with np.errstate(all="ignore"):
                want = ref(a, b)
            np.testing.assert_array_equal(got, want, err_msg=name)  # NaNs where NumPy's
            fast_path._set_match_offset(False)
            old = op(et.from_numpy(a), et.from_numpy(b))._np
            fast_path._set_match_offset(True)
            np.testing.assert_array_equal(_bits(got), _bits(old), err_msg=name)


def test_free_and_resize_keep_contents(matching):
    x = _at((ROWS, COLS), np.float32, 1040, 4)
    row = _at((COLS,), np.float32, 0, 5)
    with np.errstate(all="ignore"):
        want = x * row
    for new_shape in ((2 * ROWS, COLS), (7, 5), (ROWS, COLS)):
        got = E.mul(et.from_numpy(x), et.from_numpy(row))._np
        keep = min(got.size, int(np.prod(new_shape)))
        got.resize(new_shape, refcheck=False)  # the handler's realloc
        assert got.ctypes.data % 4096 == 1040
        np.testing.assert_array_equal(got.reshape(-1)[:keep], want.reshape(-1)[:keep])
        del got
    for _ in range(50):  # allocations and frees through the handler, then NumPy's own
        got = E.mul(et.from_numpy(x), et.from_numpy(row))._np
        np.testing.assert_array_equal(got, want)
        del got
        gc.collect()
    np.testing.assert_array_equal(np.zeros(1 << 20, np.float32)[:3], 0)


def test_small_and_switched_off_keep_numpy_allocation(matching):
    x = _at((10, 30), np.float32, 1040, 6)  # under PARALLEL_MIN_WORK
    row = _at((30,), np.float32, 0, 7)
    with np.errstate(all="ignore"):
        want = x * row
    np.testing.assert_array_equal(E.mul(et.from_numpy(x), et.from_numpy(row))._np, want)
    big = _at((ROWS, COLS), np.float32, 1040, 8)
    fast_path._set_match_offset(False)
    got = E.mul(et.from_numpy(big), et.from_numpy(_at((COLS,), np.float32, 0, 9)))._np
    assert got.flags.owndata and got.base is None

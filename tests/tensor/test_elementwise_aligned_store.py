"""The float loops of the broadcast-capable binary ops (add, sub, mul, div, maximum, minimum)
first take the elements before the output's 32-byte boundary, so that the main loop's vector
stores never straddle two cache lines. Which elements that head holds depends on where the
output starts; the values must not: every output offset, run length and read-once variant
gives NumPy's values bit for bit, and the same bits as the loops without the head. (Runs
under 512 elements take no head.)"""
import numpy as np
import pytest

from ember_tensor import _elementwise_core as C

B = C._binary_kernels
OPS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
       "maximum": np.maximum, "minimum": np.minimum}
SPECIALS = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-40, 3.0e38]


@pytest.fixture
def aligned_out():
    old = B._set_align_out(True)
    yield
    B._set_align_out(old)


def _at(n, dtype, byte_offset):
    """A fresh 1-D array of ``n`` elements starting ``byte_offset`` bytes past a 64-byte line."""
    size = np.dtype(dtype).itemsize
    buf = np.empty(n + 2 * 64 // size, dtype)
    start = ((-buf.ctypes.data) % 64 + byte_offset) // size
    out = buf[start:start + n]
    assert n == 0 or out.ctypes.data % 64 == byte_offset  # (NumPy moves empty slices)
    return out


def _operands(n, dtype, seed):
    rng = np.random.default_rng(seed)
    a = (rng.standard_normal(n) * 30).astype(dtype)
    b = (rng.standard_normal(n) * 30).astype(dtype)
    k = min(n, len(SPECIALS))
    if k:
        a[:k] = np.array(SPECIALS, dtype)[:k]
        b[n - k:] = np.array(SPECIALS[::-1], dtype)[:k]
    return a, b


def _launch(name, dtype, out, ins):
    with np.errstate(all="ignore"):
        assert C._launch(C._FAST[name, np.dtype(dtype)], out, ins) == 0
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", sorted(OPS))
def test_every_output_offset_and_length(aligned_out, name, dtype):
    """Runs of 0..70 elements (no head), 500..530 (across the 512 cut) and 1000, the output
    at every element offset in a line: NumPy's bits."""
    size = np.dtype(dtype).itemsize
    for n in list(range(71)) + list(range(500, 531)) + [1000]:
        a, b = _operands(n, dtype, n)
        with np.errstate(all="ignore"):
            want = OPS[name](a, b)
        for off in range(0, 64, size):
            got = _launch(name, dtype, _at(n, dtype, off), (a, b))
            np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8),
                                          err_msg=f"n={n} offset={off}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", ["mul", "sub", "div", "maximum"])
@pytest.mark.parametrize("form", ["row", "col", "scalar_first", "scalar_last"])
def test_broadcast_rows_same_bits_with_and_without_head(name, dtype, form):
    """A row or column broadcast (one call a row, rows at shifting offsets) and the read-once
    variants of either input: the same bits with the head as without it, and NumPy's."""
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((97, 601)) * 30).astype(dtype)
    x[0, :7] = SPECIALS
    other = {"row": rng.standard_normal(601), "col": rng.standard_normal((97, 1)),
             "scalar_first": np.array(-2.5), "scalar_last": np.array(0.0)}[form].astype(dtype)
    ins = (other, x) if form == "scalar_first" else (x, other)
    with np.errstate(all="ignore"):
        want = OPS[name](*ins)
    old = B._set_align_out(False)
    try:
        got_old = _launch(name, dtype, _at(x.size, dtype, 16).reshape(x.shape), ins)
    finally:
        B._set_align_out(True)
    try:
        for off in (0, 8, 16, 48):
            got = _launch(name, dtype, _at(x.size, dtype, off).reshape(x.shape), ins)
            np.testing.assert_array_equal(got.view(np.uint8), got_old.view(np.uint8))
            np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))
    finally:
        B._set_align_out(old)

"""float32 relu and x + s, x * s, x / s run unary's 256-bit streaming loops (explicit AVX2
vectors, also on the AVX-512 copy; scalar C at baseline). They must give the generated loops'
bits and NumPy's: special values (NaN payloads, -0.0, infinities, subnormals), every tail
length, and relu written in place (output = input)."""
import numpy as np
import pytest

from ember_tensor import _elementwise_core as C

U = C._unary_kernels
F32 = np.dtype(np.float32)
SPECIALS = np.array([np.nan, -np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-40, -1e-40, 3e38, -3e38,
                     1.0, -1.0], np.float32)
# a NaN with a payload, and a negative one: max(0, v) must hand v back whole
PAYLOADS = np.array([0x7FC01234, 0xFFC00001, 0x7F800001], np.uint32).view(np.float32)
CASES = [("relu", (), lambda a: np.where(a < 0, np.float32(0), a)),
         ("add", (2.5,), lambda a: a + np.float32(2.5)),
         ("add", (-0.0,), lambda a: a + np.float32(-0.0)),
         ("mul", (-3.0,), lambda a: a * np.float32(-3.0)),
         ("div", (0.0,), lambda a: a / np.float32(0.0)),
         ("div", (7.0,), lambda a: a / np.float32(7.0))]


def _data(n, seed):
    a = (np.random.default_rng(seed).standard_normal(n) * 50).astype(np.float32)
    special = np.concatenate([SPECIALS, PAYLOADS])
    k = min(n, special.size)
    a[:k] = special[:k]
    return a


def _run(name, a, params, out=None):
    entry = C._FAST_UNARY["relu", F32] if name == "relu" else C._FAST_SCALAR[name, F32]
    out = np.empty_like(a) if out is None else out
    with np.errstate(all="ignore"):
        C._launch(entry, out, (a,), params)
    return out


@pytest.mark.parametrize("name,params,ref", CASES, ids=[f"{c[0]}{c[1]}" for c in CASES])
def test_stream_loops_match_numpy_and_the_generated_loops(name, params, ref):
    old = U._set_stream(True)
    try:
        for n in list(range(40)) + [1000, 70_001]:
            a = _data(n, n)
            got = _run(name, a, params)
            U._set_stream(False)
            try:
                before = _run(name, a, params)
            finally:
                U._set_stream(True)
            with np.errstate(all="ignore"):
                want = ref(a)
            np.testing.assert_array_equal(got.view(np.uint32), before.view(np.uint32),
                                          err_msg=f"n={n}")
            if name != "div":  # NumPy's division of a NaN payload may differ; the loops' not
                np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32),
                                              err_msg=f"n={n}")
            else:
                np.testing.assert_array_equal(got, want, err_msg=f"n={n}")
    finally:
        U._set_stream(old)


def test_relu_in_place():
    a = _data(1037, 5)
    want = _run("relu", a, ())
    got = _run("relu", a, (), out=a)
    assert got is a
    np.testing.assert_array_equal(a.view(np.uint32), want.view(np.uint32))

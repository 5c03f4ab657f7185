"""Softmax's usual forward in one C call (``softmax.forward_plain``, taken by
``ember_tensor.nn.softmax``/``log_softmax`` for a C-contiguous float Array and an int dim):
the same bits as the checked kernel entry on the (outer, D, inner) blocks, close to a
float64 reference; anything not plain returns None and the general form checks it."""
import math

import numpy as np
import pytest

import ember_tensor as et
import ember_tensor.nn as N
from ember_tensor._kernels import softmax as K

SHAPES_DIMS = [((64, 1000), 1), ((64, 1000), 0), ((1000,), 0), ((3, 5, 7), 1), ((3, 5, 7), 2),
               ((2, 3, 4, 5), 0), ((1, 1), 1), ((8, 300, 2), 1), ((256, 1000), 1)]


def _checked(x, d, log):
    xb = x.reshape(math.prod(x.shape[:d]), x.shape[d], math.prod(x.shape[d + 1:]))
    y = np.empty(xb.shape, x.dtype)
    K.softmax_forward(xb, y, log)
    return y.reshape(x.shape)


def _reference(x, d, log):
    x = x.astype(np.float64)
    z = x - x.max(axis=d, keepdims=True)
    lse = np.log(np.exp(z).sum(axis=d, keepdims=True))
    return z - lse if log else np.exp(z - lse)


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,d", SHAPES_DIMS)
def test_same_bits_as_checked_kernel(shape, d, dtype, log):
    x = (np.random.default_rng(1).standard_normal(shape) * 4).astype(dtype)
    got = K.forward_plain(x, d, log)
    assert got is not None and got.shape == x.shape and got.dtype == dtype
    want = _checked(x, d, log)
    assert got.tobytes() == want.tobytes()
    tol = 2e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, _reference(x, d, log), rtol=tol, atol=tol)


@pytest.mark.parametrize("log", [False, True])
def test_specials(log):
    x = np.array([[0.0, -np.inf, 1.0], [np.nan, 0.0, 1.0], [np.inf, 0.0, 1.0],
                  [-np.inf, -np.inf, -np.inf], [1e30, -1e30, 0.0]], np.float32)
    got = K.forward_plain(x, 1, log)
    assert got.tobytes() == _checked(x, 1, log).tobytes()


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [1, -1, 0, -2])
def test_nn_softmax_takes_it(fn, dim, monkeypatch):
    x = et.from_numpy(np.random.default_rng(2).standard_normal((6, 9)).astype(np.float32))
    fast = getattr(N, fn)(x, dim)
    calls = []
    monkeypatch.setattr(K, "forward_plain", lambda *a: calls.append(a) or None)
    slow = getattr(N, fn)(x, dim)
    assert calls  # the fast path was asked first
    assert type(fast) is type(slow)
    assert fast._np.tobytes() == slow._np.tobytes() and fast._np.shape == slow._np.shape


def test_not_plain_returns_none():
    x = np.random.default_rng(3).standard_normal((4, 6)).astype(np.float32)
    assert K.forward_plain(x, 1) is not None
    sub = type("Sub", (np.ndarray,), {})
    for args in [(x.astype(np.float16), 1), (x.astype(np.int32), 1), (x.T, 1),
                 (x[:, ::2], 1), (x.astype(">f4"), 1), (x.view(sub), 1), (x, 2), (x, -1),
                 (np.float32(1.0), 0), (np.array(1.0, np.float32), 0),
                 (np.empty((0, 6), np.float32), 1), (x.tolist(), 1)]:
        assert K.forward_plain(*args) is None


def test_general_form_errors_unchanged():
    x = et.from_numpy(np.ones((2, 3), np.float32))
    with pytest.raises(IndexError, match="Dimension out of range"):
        N.softmax(x, 2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        N.softmax(x, -3)
    with pytest.raises(NotImplementedError):
        N.softmax(et.from_numpy(np.ones((2, 3), np.int64)), 1)
    # 0-d, empty, float16-free paths still work through the general form
    assert N.softmax(et.from_numpy(np.array(2.0, np.float32)), 0)._np == 1.0
    assert N.softmax(et.from_numpy(np.empty((0, 3), np.float32)), 1)._np.shape == (0, 3)

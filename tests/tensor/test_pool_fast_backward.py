"""Max pooling's usual backward in one C call (``max_pool.backward_plain``, taken by
``pooling.max_pool2d_backward`` and ``max_pool2d_backward_plain``): the same bits as the
checked kernel entry (``max_pool.max_pool2d_backward`` on a fresh array) and as a float64
scatter in output order; anything not plain returns None, so the general form checks it."""
import numpy as np
import pytest

import ember_tensor as et
from ember_tensor._kernels import max_pool as K
from ember_tensor.nn import pooling

# (input shape, kernel, stride, padding): ResNet's stem pool, odd sizes, a 3-D input, one
# large enough for two threads, overlapping stride-1 windows
CASES = [
    ((1, 64, 32, 32), 3, 2, 1),
    ((2, 3, 9, 7), 3, 2, 1),
    ((3, 9, 9), 2, 2, 0),
    ((16, 64, 20, 20), 3, 2, 1),
    ((2, 4, 8, 8), 3, 1, 1),
]


def _pooled(shape, k, s, p, dtype, ties):
    rng = np.random.default_rng(7)
    x = rng.standard_normal(shape)
    if ties:  # few distinct values: neighbouring windows pick the same element often
        x = np.round(x)
    x = et.from_numpy(x.astype(dtype))
    _, idx = pooling.max_pool2d_with_indices(x, k, s, p)
    go = rng.standard_normal(idx.shape).astype(dtype)
    return x, idx._np, go


def _checked(go, idx, in_shape):
    """The checked kernel entry on a fresh array, as the general form runs it."""
    gx = np.empty(in_shape, go.dtype)
    oh, ow = go.shape[-2:]
    K.max_pool2d_backward(go.reshape(-1, oh, ow), idx.reshape(-1, oh, ow),
                          gx.reshape((-1,) + gx.shape[-2:]), False)
    return gx


def _reference(go, idx, in_shape):
    planes = int(np.prod(in_shape[:-2]))
    hw = in_shape[-2] * in_shape[-1]
    ref = np.zeros((planes, hw))
    g = go.reshape(planes, -1).astype(np.float64)
    i = idx.reshape(planes, -1)
    for pl in range(planes):
        for o in range(i.shape[1]):  # output order, as the kernel adds
            ref[pl, i[pl, o]] += g[pl, o]
    return ref.reshape(in_shape)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,k,s,p", CASES)
def test_same_bits_as_checked_kernel(shape, k, s, p, dtype, ties):
    x, idx, go = _pooled(shape, k, s, p, dtype, ties)
    got = K.backward_plain(go, idx, tuple(shape))
    assert got is not None and got.dtype == dtype and got.shape == tuple(shape)
    assert got.flags.c_contiguous
    want = _checked(go, idx, tuple(shape))
    assert got.tobytes() == want.tobytes()
    np.testing.assert_allclose(got, _reference(go, idx, tuple(shape)),
                               rtol=1e-6 if dtype == np.float32 else 1e-12, atol=1e-6)


@pytest.mark.parametrize("threads", [1, 2])
def test_same_bits_on_one_and_two_threads(threads):
    x, idx, go = _pooled((16, 64, 20, 20), 3, 2, 1, np.float32, True)
    old = et.get_num_threads()
    try:
        et.set_num_threads(1)
        one = K.backward_plain(go, idx, (16, 64, 20, 20))
        et.set_num_threads(threads)
        assert K.backward_plain(go, idx, (16, 64, 20, 20)).tobytes() == one.tobytes()
    finally:
        et.set_num_threads(old)


def test_general_form_takes_it_and_matches(monkeypatch):
    x, idx, go = _pooled((1, 64, 32, 32), 3, 2, 1, np.float32, True)
    fast = pooling.max_pool2d_backward(et.from_numpy(go), x, et.from_numpy(idx))
    plain = pooling.max_pool2d_backward_plain(et.from_numpy(go), (1, 64, 32, 32),
                                              et.from_numpy(idx))
    monkeypatch.setattr(K, "backward_plain", lambda *a: None)
    slow = pooling.max_pool2d_backward(et.from_numpy(go), x, et.from_numpy(idx))
    assert type(fast) is type(slow) is type(plain)
    assert fast._np.tobytes() == slow._np.tobytes() == plain._np.tobytes()
    assert pooling.max_pool2d_backward_plain(et.from_numpy(go), (1, 64, 32, 32),
                                             et.from_numpy(idx)) is None


def test_not_plain_returns_none():
    _, idx, go = _pooled((2, 3, 9, 7), 3, 2, 1, np.float32, False)
    shape = (2, 3, 9, 7)
    assert K.backward_plain(go, idx, shape) is not None
    refused = [
        (go.astype(np.float16), idx, shape),
        (go.astype(np.int32), idx, shape),
        (np.asfortranarray(go), idx, shape),
        (go[..., ::2], idx[..., ::2], shape),
        (go.astype(">f4"), idx, shape),
        (go.view(np.matrix) if go.ndim == 2 else go.view(type("Sub", (np.ndarray,), {})),
         idx, shape),
        (go, idx.astype(np.int32), shape),
        (go, idx[:1], shape),
        (go, idx, (2, 3, 9)),
        (go, idx, (3, 3, 9, 7)),
        (go, idx, (2, 3, 0, 7)),
        (go, idx, (2, 3, 9, 7.0)),
        (go[0, 0], idx[0, 0], (9, 7)),
        (go[:0], idx[:0], (0, 3, 9, 7)),
        (go.reshape(1, 2, 3, 5, 4), idx.reshape(1, 2, 3, 5, 4), (1, 2, 3, 9, 7)),
        ([[1.0]], idx, shape),
    ]
    for args in refused:
        assert K.backward_plain(*args) is None


def test_out_of_range_index_raises_as_general_form():
    _, idx, go = _pooled((1, 2, 6, 6), 2, 2, 0, np.float32, False)
    bad = idx.copy()
    bad[0, 1, 2, 1] = 36
    with pytest.raises(RuntimeError) as fast:
        K.backward_plain(go, bad, (1, 2, 6, 6))
    with pytest.raises(RuntimeError) as slow:
        _checked(go, bad, (1, 2, 6, 6))
    assert str(fast.value) == str(slow.value)
    bad[0, 1, 2, 1] = -1
    with pytest.raises(RuntimeError, match="index out of range"):
        K.backward_plain(go, bad, (1, 2, 6, 6))

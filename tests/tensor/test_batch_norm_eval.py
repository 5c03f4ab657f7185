"""Batch norm in eval mode: the per-channel constants from one kernel call (any mix of
float32/float64 parameters, weight/bias absent) against the float64 formula, the eval
backward's one sweep (grad-input and both per-channel sums) on plane lengths around its
vector and block sizes, non-contiguous inputs, the same bits on one and two threads, and the
kernels' refusals."""
import numpy as np
import pytest

import ember_tensor
from ember_tensor import from_numpy, nn
from ember_tensor._kernels import norm as K


def _params(rng, C, pdtype, affine):
    w = (rng.random(C) + 0.5).astype(pdtype) if affine else None
    b = rng.standard_normal(C).astype(pdtype) if affine else None
    rm = rng.standard_normal(C).astype(pdtype)
    rv = (rng.random(C) + 0.1).astype(pdtype)
    return w, b, rm, rv


def _arr(a):
    return None if a is None else from_numpy(a)


@pytest.mark.parametrize("xdtype, pdtype", [(np.float32, np.float32), (np.float32, np.float64),
                                            (np.float64, np.float32), (np.float64, np.float64)])
@pytest.mark.parametrize("affine", [True, False])
def test_eval_forward_and_backward_match_float64_formula(xdtype, pdtype, affine):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 6, 5, 4)).astype(xdtype)
    go = rng.standard_normal(x.shape).astype(xdtype)
    w, b, rm, rv = _params(rng, 6, pdtype, affine)
    out, mean, invstd = nn.batch_norm(_arr(x), _arr(w), _arr(b), _arr(rm), _arr(rv), False,
                                      0.1, 1e-3)
    inv64 = 1.0 / np.sqrt(rv.astype(np.float64) + 1e-3)
    w64 = np.ones(6) if w is None else w.astype(np.float64)
    b64 = np.zeros(6) if b is None else b.astype(np.float64)
    want = (x.astype(np.float64) - rm.astype(np.float64)[None, :, None, None]) \
        * (inv64 * w64)[None, :, None, None] + b64[None, :, None, None]
    tol = 1e-6 if xdtype == np.float32 else 1e-13
    np.testing.assert_allclose(out._np, want, rtol=tol, atol=tol)
    assert out._np.dtype == xdtype and mean._np.dtype == xdtype
    np.testing.assert_allclose(mean._np, rm.astype(xdtype))
    np.testing.assert_allclose(invstd._np, inv64.astype(xdtype), rtol=tol)
    gx, gw, gb = nn.batch_norm_backward(_arr(go), _arr(x), _arr(w), mean, invstd, False)
    np.testing.assert_allclose(gx._np, go * (w64 * inv64)[None, :, None, None],
                               rtol=tol, atol=tol)


def test_eval_kernels_refuse_bad_arguments():
    x = np.zeros((2, 3, 4), np.float32)
    out, m, inv = np.empty_like(x), np.empty(3, np.float32), np.empty(3, np.float32)
    ok = np.ones(3, np.float32)
    with pytest.raises(RuntimeError, match="running_var must be a contiguous"):
        K.eval_forward(x, out, ok, np.ones(4), None, None, 1e-5, False, m, inv)
    with pytest.raises(RuntimeError, match="weight must be a contiguous"):
        K.eval_forward(x, out, ok, ok, np.ones(3, np.int64), None, 1e-5, False, m, inv)
    with pytest.raises(RuntimeError, match="bias must be a contiguous"):
        K.eval_forward(x, out, ok, ok, None, np.ones(6)[::2], 1e-5, False, m, inv)
    with pytest.raises(RuntimeError, match="needs running_mean and running_var"):
        K.eval_forward(x, out, None, ok, None, None, 1e-5, False, m, inv)
    with pytest.raises(RuntimeError, match="invstd_out must be a writeable contiguous vector"):
        K.eval_forward(x, out, ok, ok, None, None, 1e-5, False, m, np.empty(3))
    with pytest.raises(RuntimeError, match="one shape"):
        K.eval_forward(x, np.empty((2, 3, 5), np.float32), ok, ok, None, None, 1e-5, False, m,
                       inv)
    with pytest.raises(RuntimeError, match="share a dtype"):
        K.eval_backward(x, x.astype(np.float64), None, ok, ok, None, None, None)
    with pytest.raises(RuntimeError, match="contiguous"):
        K.eval_backward(x[:, :, ::2], x[:, :, ::2], None, ok, ok, None, None, None)
    with pytest.raises(RuntimeError, match="read-only"):
        ro = np.empty_like(x)
        ro.flags.writeable = False
        K.eval_backward(x, x, ro, ok, ok, None, None, None)
    with pytest.raises(RuntimeError, match="gw_out must be a writeable"):
        K.eval_backward(x, x, None, ok, ok, None, np.empty(3), None)


def _eval_grads64(go, x, w, mean, invstd):
    """float64 reference of the eval backward: (gx, gw, gb)."""
    g64, x64 = go.astype(np.float64), x.astype(np.float64)
    axes = (0,) + tuple(range(2, x.ndim))
    bc = (1, -1) + (1,) * (x.ndim - 2)
    m64, i64 = mean.astype(np.float64), invstd.astype(np.float64)
    w64 = np.ones_like(m64) if w is None else w.astype(np.float64)
    gx = g64 * (w64 * i64).reshape(bc)
    gw = (g64 * (x64 - m64.reshape(bc))).sum(axes) * i64
    return gx, gw, g64.sum(axes)


# plane lengths around the sweep's vector (16 floats / 8 doubles) and 4-vector block sizes,
# the 14x14 plane of ResNet's layer3, and planes of one element
PLANES = [1, 7, 8, 15, 16, 17, 63, 64, 65, 196, 1100]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("L", PLANES)
def test_eval_backward_sweep_matches_float64(L, dtype):
    rng = np.random.default_rng(L)
    x = (rng.standard_normal((3, 5, L)) * 2 + 1).astype(dtype)
    go = rng.standard_normal(x.shape).astype(dtype)
    w, _, rm, rv = _params(rng, 5, dtype, True)
    _, mean, invstd = nn.batch_norm(_arr(x), _arr(w), None, _arr(rm), _arr(rv), False, 0.1,
                                    1e-5)
    gx, gw, gb = nn.batch_norm_backward(_arr(go), _arr(x), _arr(w), mean, invstd, False)
    want = _eval_grads64(go, x, w, mean._np, invstd._np)
    tol = 2e-6 if dtype == np.float32 else 1e-12
    for got, ref in zip((gx, gw, gb), want):
        assert got._np.dtype == dtype
        np.testing.assert_allclose(got._np, ref, rtol=tol, atol=tol * np.abs(ref).max())


@pytest.mark.parametrize("mask", [(True, False, False), (False, True, False),
                                  (False, False, True), (True, True, False)])
def test_eval_backward_output_mask(mask):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 3, 4, 5))
    go = rng.standard_normal(x.shape)
    _, _, rm, rv = _params(rng, 3, np.float64, False)
    _, mean, invstd = nn.batch_norm(_arr(x), None, None, _arr(rm), _arr(rv), False, 0.1, 1e-5)
    got = nn.batch_norm_backward(_arr(go), _arr(x), None, mean, invstd, False, output_mask=mask)
    for want, g, m in zip(_eval_grads64(go, x, None, mean._np, invstd._np), got, mask):
        if m:
            np.testing.assert_allclose(g._np, want, rtol=1e-12, atol=1e-12)
        else:
            assert g is None


def test_eval_non_contiguous_inputs():
    rng = np.random.default_rng(9)
    base = rng.standard_normal((4, 6, 9, 14)).astype(np.float32)
    x = base.transpose(0, 1, 3, 2)[:, ::2]  # strided channels, transposed planes
    go = rng.standard_normal((4, 3, 28, 9)).astype(np.float32)[:, :, ::2]
    w, b, rm, rv = _params(rng, 3, np.float32, True)
    out, mean, invstd = nn.batch_norm(_arr(x), _arr(w), _arr(b), _arr(rm), _arr(rv), False,
                                      0.1, 1e-5)
    ref = nn.batch_norm(_arr(np.ascontiguousarray(x)), _arr(w), _arr(b), _arr(rm), _arr(rv),
                        False, 0.1, 1e-5)[0]
    np.testing.assert_array_equal(out._np, ref._np)
    got = nn.batch_norm_backward(_arr(go), _arr(x), _arr(w), mean, invstd, False)
    want = _eval_grads64(go, x, w, mean._np, invstd._np)
    for g, r in zip(got, want):
        np.testing.assert_allclose(g._np, r, rtol=2e-6, atol=2e-6 * np.abs(r).max())


def test_eval_sweeps_give_the_same_bits_on_one_and_two_threads():
    # large enough (and with enough planes) that two threads really split the sweep
    rng = np.random.default_rng(10)
    x = rng.standard_normal((8, 32, 196)).astype(np.float32)
    go = rng.standard_normal(x.shape).astype(np.float32)
    w, b, rm, rv = _params(rng, 32, np.float32, True)
    old = ember_tensor.get_num_threads()
    results = []
    try:
        for n in (1, 2):
            ember_tensor.set_num_threads(n)
            out, mean, invstd = nn.batch_norm(_arr(x), _arr(w), _arr(b), _arr(rm), _arr(rv),
                                              False, 0.1, 1e-5)
            grads = nn.batch_norm_backward(_arr(go), _arr(x), _arr(w), mean, invstd, False)
            results.append([out._np] + [g._np for g in grads])
    finally:
        ember_tensor.set_num_threads(old)
    for a, b_ in zip(*results):
        np.testing.assert_array_equal(a, b_)


def test_eval_backward_kernel_in_place_over_grad():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 3, 37)).astype(np.float32)
    go = rng.standard_normal(x.shape).astype(np.float32)
    mean, invstd = rng.standard_normal(3).astype(np.float32), np.full(3, 0.5, np.float32)
    w = (rng.random(3) + 0.5).astype(np.float32)
    gx, gw, gb = np.empty_like(x), np.empty(3, np.float32), np.empty(3, np.float32)
    K.eval_backward(go, x, gx, mean, invstd, w, gw, gb)
    gw2, gb2 = np.empty_like(gw), np.empty_like(gb)
    K.eval_backward(go, x, go, mean, invstd, w, gw2, gb2)
    np.testing.assert_array_equal(go, gx)
    np.testing.assert_array_equal(gw2, gw)
    np.testing.assert_array_equal(gb2, gb)

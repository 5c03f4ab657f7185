"""Batch norm in eval mode: the per-channel constants from one kernel call (any mix of
float32/float64 parameters, weight/bias absent) against the float64 formula, the eval
backward's grad-input (go * weight * invstd, x unread), and the kernel's refusals."""
import numpy as np
import pytest

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


def test_eval_coefficients_refuses_bad_vectors():
    scale, shift, invstd = np.empty(3), np.empty(3), np.empty(3)
    ok = np.ones(3, np.float32)
    with pytest.raises(RuntimeError, match="running_var must be a contiguous"):
        K.eval_coefficients(ok, np.ones(4), None, None, 1e-5, scale, shift, invstd)
    with pytest.raises(RuntimeError, match="weight must be a contiguous"):
        K.eval_coefficients(ok, ok, np.ones(3, np.int64), None, 1e-5, scale, shift, invstd)
    with pytest.raises(RuntimeError, match="bias must be a contiguous"):
        K.eval_coefficients(ok, ok, None, np.ones(6)[::2], 1e-5, scale, shift, invstd)
    with pytest.raises(RuntimeError, match="needs running_mean and running_var"):
        K.eval_coefficients(None, ok, None, None, 1e-5, scale, shift, invstd)
    with pytest.raises(RuntimeError, match="must hold 3 values"):
        K.eval_coefficients(ok, ok, None, None, 1e-5, scale, np.empty(2), invstd)

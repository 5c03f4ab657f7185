"""The Cython kernels behind softmax/log_softmax, nll_loss, embedding and layer_norm: values
against float64 NumPy references (on both the serial and the threaded paths), IEEE corner
cases, thread-count independence, and the checks that keep their unchecked loops safe."""
import math

import numpy as np
import pytest

from ember_tensor import Array
from ember_tensor import nn as enn
from ember_tensor._kernels import embedding as k_emb
from ember_tensor._kernels import layer_norm as k_ln
from ember_tensor._kernels import nll_loss as k_nll
from ember_tensor._kernels import parallel
from ember_tensor._kernels import softmax as k_sm

RNG = np.random.default_rng(11)
TOL = {np.float32: dict(rtol=2e-6, atol=1e-7), np.float64: dict(rtol=1e-12, atol=1e-14)}


def A(a):
    return Array(np.asarray(a))


def rand(*shape, dtype=np.float64, scale=1.0):
    return (RNG.standard_normal(shape) * scale).astype(dtype)


@pytest.fixture
def threads():
    """Set the kernels' thread count for one test, then restore it."""
    before = parallel.get_num_threads()
    yield parallel.set_num_threads
    parallel.set_num_threads(before)


# ---- softmax -----------------------------------------------------------------------------

def softmax_ref(x, d, log=False):
    x = x.astype(np.float64)
    s = x - x.max(axis=d, keepdims=True)
    lse = np.log(np.exp(s).sum(axis=d, keepdims=True))
    return s - lse if log else np.exp(s - lse)


# (shape, dim): rows, a dim in the middle, inner widths around the 128-column block, and
# shapes big enough for the threaded path
SOFTMAX_CASES = [((7,), 0), ((5, 9), 1), ((5, 9), 0), ((3, 4, 5), 1), ((2, 6, 129), 1),
                 ((2, 3, 300), 1), ((1, 4, 128), -2), ((64, 1000), 1), ((8, 16, 28, 28), 1),
                 ((300, 130), 0), ((4, 1, 6), 1)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,dim", SOFTMAX_CASES)
def test_softmax_and_log_softmax_match_reference(shape, dim, dtype):
    x = rand(*shape, dtype=dtype, scale=4.0)
    d = dim % len(shape)
    for fn, log in ((enn.softmax, False), (enn.log_softmax, True)):
        y = fn(A(x), dim)._np
        assert y.dtype == dtype and y.shape == x.shape
        np.testing.assert_allclose(y, softmax_ref(x, d, log), **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,dim", SOFTMAX_CASES)
def test_softmax_backwards_match_reference(shape, dim, dtype):
    d = dim % len(shape)
    x = rand(*shape, dtype=dtype, scale=2.0)
    g = rand(*shape, dtype=dtype)
    y = enn.softmax(A(x), dim)._np
    y64, g64 = y.astype(np.float64), g.astype(np.float64)
    ref = y64 * (g64 - (g64 * y64).sum(axis=d, keepdims=True))
    got = enn.softmax_backward(A(g), A(y), dim)._np
    assert got.dtype == dtype
    np.testing.assert_allclose(got, ref, rtol=TOL[dtype]["rtol"] * 10, atol=1e-6 if
                               dtype == np.float32 else 1e-13)
    ly = enn.log_softmax(A(x), dim)._np
    ref = g64 - np.exp(ly.astype(np.float64)) * g64.sum(axis=d, keepdims=True)
    got = enn.log_softmax_backward(A(g), A(ly), dim)._np
    np.testing.assert_allclose(got, ref, rtol=TOL[dtype]["rtol"] * 10, atol=1e-5 if
                               dtype == np.float32 else 1e-12)


def test_softmax_reads_strided_input_and_handles_degenerate_shapes():
    x = rand(6, 40).T  # not contiguous
    np.testing.assert_allclose(enn.softmax(A(x), 1)._np, softmax_ref(x, 1), rtol=1e-12)
    assert enn.softmax(A(np.array(3.0)), 0)._np == 1.0
    assert enn.log_softmax(A(np.array(3.0)), -1)._np == 0.0
    assert enn.softmax(A(np.zeros((0, 4))), 1)._np.shape == (0, 4)
    assert enn.log_softmax(A(np.zeros((3, 0))), 1)._np.shape == (3, 0)
    np.testing.assert_array_equal(enn.log_softmax(A(rand(4, 1)), 1)._np, np.zeros((4, 1)))


@pytest.mark.parametrize("dim,shape", [(1, (5, 4)), (0, (4, 5))])
def test_softmax_ieee_corner_cases(dim, shape):
    rows = np.array([[0.0, -np.inf, 1.0, 2.0],     # -inf: probability exactly 0
                     [np.inf, 0.0, 0.0, 0.0],      # +inf: inf - inf, all nan (as torch)
                     [-np.inf] * 4,                # only -inf: all nan
                     [np.nan, 0.0, 1.0, 2.0],      # nan spreads over its row
                     [-200.0, 0.0, -100.0, 1e4]], np.float32)
    x = rows if dim == 1 else rows.T.copy()
    s = enn.softmax(A(x), dim)._np
    ls = enn.log_softmax(A(x), dim)._np
    if dim == 0:
        s, ls = s.T, ls.T
    assert s[0, 1] == 0 and ls[0, 1] == -np.inf
    np.testing.assert_allclose(s[0, [0, 2, 3]], softmax_ref(rows[0, [0, 2, 3]], 0), rtol=1e-6)
    for r in (1, 2, 3):
        assert np.isnan(s[r]).all() and np.isnan(ls[r]).all()
    np.testing.assert_array_equal(s[4], [0, 0, 0, 1])
    np.testing.assert_allclose(ls[4], [-10200, -1e4, -10100, 0], rtol=1e-6)


def test_float32_exp_is_accurate_down_to_subnormals():
    # one row per value, paired with a 0, so softmax = e^v / (1 + e^v) with e^v spanning
    # every float32 exponent, subnormals included
    v = np.concatenate([np.linspace(-103, 0, 4001), -RNG.random(2000) * 20]).astype(np.float32)
    x = np.stack([v, np.zeros_like(v)], axis=1)
    got = enn.softmax(A(x), 1)._np[:, 0].astype(np.float64)
    want = softmax_ref(x, 1)[:, 0]
    normal = want > np.finfo(np.float32).tiny
    assert np.max(np.abs(got[normal] / want[normal] - 1)) < 4e-7  # a few ulp
    assert np.max(np.abs(got[~normal] - want[~normal])) < 3e-45  # subnormal spacing
    big = enn.softmax(A(np.array([[88.0, 89.0, 0.0]], np.float32)), 1)._np
    assert np.isfinite(big).all()


@pytest.mark.parametrize("dim", [1, 0])
def test_float32_softmax_exp_has_the_general_exps_bits(dim):
    # softmax's exp assumes x - max <= 0 (simd.h's ember_fast_exp_nonposf): on that domain it
    # must give ember_fast_expf's bits (E.exp). A row [0, v] gives e = exp(v), the double
    # sum 1 + e and y = e * float32(1 / (1 + e)): rebuilt here from E.exp for every v.
    from ember_tensor import elementwise as E
    v = np.concatenate([np.linspace(-104.5, 0, 300_001), [-0.0, -np.inf],
                        -np.finfo(np.float32).tiny * np.arange(4), [np.nan]]).astype(np.float32)
    x = np.stack([np.zeros_like(v), v], axis=1)
    got = enn.softmax(A(x if dim == 1 else x.T.copy()), dim)._np
    got = got[:, 1] if dim == 1 else got[1]
    e = E.exp(A(v))._np
    want = e * (1.0 / (1.0 + e.astype(np.float64))).astype(np.float32)
    np.testing.assert_array_equal(got.view(np.uint32)[:-1], want.view(np.uint32)[:-1])
    assert got[-6] == 0 and np.isnan(got[-1])  # e^-inf is 0; a NaN spreads


def test_softmax_same_result_on_one_and_two_threads(threads):
    x = rand(64, 1000, dtype=np.float32)
    x4 = rand(4, 64, 14, 14, dtype=np.float32)
    threads(1)
    one = [enn.log_softmax(A(x), 1)._np, enn.softmax(A(x4), 1)._np]
    threads(2)
    two = [enn.log_softmax(A(x), 1)._np, enn.softmax(A(x4), 1)._np]
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


def test_softmax_errors():
    with pytest.raises(NotImplementedError, match='"softmax_lastdim_kernel_impl" not impl'):
        enn.softmax(A(np.arange(6).reshape(2, 3)), 1)
    with pytest.raises(NotImplementedError, match='"log_softmax_kernel_impl" not impl'):
        enn.log_softmax(A(np.arange(6).reshape(2, 3)), 0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        enn.softmax(A(rand(2, 3)), 2)
    y = enn.softmax(A(rand(2, 3)), 1)
    with pytest.raises(RuntimeError, match=r"expected grad_output of size \[2, 3\]"):
        enn.softmax_backward(A(rand(3, 2)), y, 1)
    with pytest.raises(RuntimeError, match="expected scalar type Double but found Float"):
        enn.log_softmax_backward(A(rand(2, 3, dtype=np.float32)), y, 1)


def test_softmax_kernel_refuses_what_its_loops_cannot_take():
    x = rand(2, 3, 4)
    with pytest.raises(RuntimeError):
        k_sm.softmax_forward(x, np.empty((2, 3, 5)))
    with pytest.raises(RuntimeError):
        k_sm.softmax_forward(x, np.empty((2, 3, 4), np.float32))
    with pytest.raises(RuntimeError):
        k_sm.softmax_forward(np.asfortranarray(x), np.empty((2, 3, 4)))
    with pytest.raises(RuntimeError):
        k_sm.softmax_forward(x.reshape(6, 4), np.empty((6, 4)))
    with pytest.raises(RuntimeError):
        k_sm.softmax_backward(x, x, np.empty((2, 3, 4), np.float32), True)
    with pytest.raises(RuntimeError):
        k_sm.softmax_forward(np.zeros((2, 3, 4), np.int64), np.zeros((2, 3, 4), np.int64))


# ---- nll_loss ----------------------------------------------------------------------------

def nll_ref(lp, t, w, reduction, ignore_index):
    """(loss, total_weight, grad for grad_output 1) from explicit loops."""
    C = lp.shape[1] if lp.ndim > 1 else lp.shape[0]
    lp3 = lp.reshape(1, C, 1) if lp.ndim == 1 else lp.reshape(lp.shape[0], C, -1)
    t2 = t.reshape(lp3.shape[0], lp3.shape[2]).astype(np.int64)
    wv = np.ones(C) if w is None else w.astype(np.float64)
    losses = np.zeros(t2.shape)
    weights = np.zeros(t2.shape)
    for n in range(t2.shape[0]):
        for l in range(t2.shape[1]):
            c = t2[n, l]
            if c != ignore_index:
                weights[n, l] = wv[c]
                losses[n, l] = -wv[c] * lp3[n, c, l]
    total = weights.sum()
    grad = np.zeros(lp3.shape)
    scale = {"none": 1.0, "sum": 1.0, "mean": 1.0 / total if total else np.nan}[reduction]
    for n in range(t2.shape[0]):
        for l in range(t2.shape[1]):
            c = t2[n, l]
            if c != ignore_index:
                grad[n, c, l] = -wv[c] * scale
    if reduction == "none":
        loss = losses.reshape(t.shape)
    else:
        loss = losses.sum() * (scale if reduction == "mean" else 1.0)
    return loss, total, grad.reshape(lp.shape)


NLL_SHAPES = [((6,), ()), ((5, 4), (5,)), ((3, 4, 2, 3), (3, 2, 3)), ((2, 3, 5), (2, 5)),
              ((4, 5, 100, 100), (4, 100, 100))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("lp_shape,t_shape", NLL_SHAPES)
@pytest.mark.parametrize("weighted,ignore_index", [(False, -100), (True, -100), (True, 1)])
def test_nll_loss_matches_reference(lp_shape, t_shape, reduction, dtype, weighted,
                                    ignore_index):
    C = lp_shape[1] if len(lp_shape) > 1 else lp_shape[0]
    lp = rand(*lp_shape, dtype=dtype)
    t = RNG.integers(0, C, t_shape)
    if t.ndim and ignore_index == -100:
        t.flat[:: 3] = -100
    w = RNG.random(C).astype(dtype) if weighted else None
    loss, total = enn.nll_loss(A(lp), A(t), None if w is None else A(w), reduction,
                               ignore_index)
    want, want_total, want_grad = nll_ref(lp, t, w, reduction, ignore_index)
    assert loss._np.dtype == dtype and total._np.dtype == dtype
    tol = dict(rtol=1e-5) if dtype == np.float32 else dict(rtol=1e-12)
    np.testing.assert_allclose(loss._np, want, **tol)
    np.testing.assert_allclose(total._np, want_total, **tol)
    go = np.ones(t_shape, dtype) if reduction == "none" else np.array(1.0, dtype)
    # backward reads log_probs for its shape and dtype only: a broadcast stand-in will do
    stand_in = np.broadcast_to(np.zeros((), dtype), lp_shape)
    g = enn.nll_loss_backward(A(go), A(stand_in), A(t), None if w is None else A(w),
                              reduction, ignore_index, total)._np
    assert g.dtype == dtype and g.shape == lp_shape
    np.testing.assert_allclose(g, want_grad, **tol)


def test_nll_loss_byte_targets_and_strided_log_probs():
    lp = rand(5, 8)[:, ::2]  # (5, 4), not contiguous
    t = np.array([0, 3, 1, 2, 3], np.uint8)
    loss, _ = enn.nll_loss(A(lp), A(t), reduction="sum")
    assert loss._np == pytest.approx(-lp[np.arange(5), t.astype(int)].sum(), rel=1e-12)


def test_nll_loss_zero_total_weight_as_torch():
    lp = rand(3, 4)
    t = np.array([-100, -100, -100])
    loss, total = enn.nll_loss(A(lp), A(t))
    assert np.isnan(loss._np) and total._np == 0
    g = enn.nll_loss_backward(A(np.array(1.0)), A(lp), A(t), None, "mean", -100, total)._np
    np.testing.assert_array_equal(g, np.zeros((3, 4)))  # ignored targets: exactly 0
    t = np.array([0, 1, 2])
    g = enn.nll_loss_backward(A(np.array(1.0)), A(lp), A(t), A(np.zeros(4)), "mean")._np
    assert np.isnan(g[np.arange(3), t]).all() and (g[:, 3] == 0).all()


def test_nll_loss_target_range_is_checked_before_the_loops():
    lp = rand(3, 5)
    for bad, shown in (([1, 2, 10], 10), ([1, -2, 0], -2), ([5, 9, 0], 5)):
        with pytest.raises(IndexError, match=rf"^Target {shown} is out of bounds\.$"):
            enn.nll_loss(A(lp), A(np.array(bad)))
        with pytest.raises(IndexError, match=rf"Target {shown} is out of bounds"):
            enn.nll_loss_backward(A(np.array(1.0)), A(lp), A(np.array(bad)))
    # an ignored target may lie anywhere
    loss, _ = enn.nll_loss(A(lp), A(np.array([7, 0, 7])), ignore_index=7)
    assert loss._np == pytest.approx(-lp[1, 0])
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte"):
        enn.nll_loss(A(lp), A(np.array([0.0, 1.0, 2.0])))
    with pytest.raises(RuntimeError, match="Expected a single element grad_output"):
        enn.nll_loss_backward(A(np.ones(3)), A(lp), A(np.array([0, 1, 2])))


def test_nll_loss_kernel_refuses_bad_buffers():
    lp = rand(2, 3, 4)
    t = np.zeros((2, 4), np.int64)
    assert k_nll.first_bad(np.array([0, 2, 3, -1], np.int64), 3, -1) == 2
    assert k_nll.first_bad(np.array([], np.int64), 3, -100) == -1
    with pytest.raises(RuntimeError):
        k_nll.nll_forward(lp, t.astype(np.int32), None, -100)
    with pytest.raises(RuntimeError):
        k_nll.nll_forward(lp, np.zeros((2, 5), np.int64), None, -100)
    with pytest.raises(RuntimeError):
        k_nll.nll_forward(lp, t, np.ones(4), -100)
    with pytest.raises(RuntimeError):
        k_nll.nll_forward(lp, t, None, -100, np.empty((2, 4), np.float32))
    with pytest.raises(RuntimeError):
        k_nll.nll_backward(np.zeros((2, 3, 4)), t, None, -100, np.ones((2, 4), np.float32))
    with pytest.raises(IndexError):
        k_nll.nll_backward(np.zeros((2, 3, 4)), t + 3, None, -100, None, 1.0)


# ---- embedding ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_, np.float16,
                                   np.uint8])
@pytest.mark.parametrize("index_dtype", [np.int64, np.int32])
def test_embedding_gathers_rows_of_any_dtype(dtype, index_dtype):
    w = (RNG.standard_normal((7, 5)) * 3).astype(dtype)
    idx = RNG.integers(0, 7, (2, 3, 4)).astype(index_dtype)
    out = enn.embedding(A(w), A(idx))._np
    assert out.dtype == w.dtype
    np.testing.assert_array_equal(out, w[idx])


def test_embedding_large_strided_and_empty():
    w = rand(10000, 128, dtype=np.float32)
    idx = RNG.integers(0, 10000, 4096)
    np.testing.assert_array_equal(enn.embedding(A(w), A(idx))._np, w[idx])
    wt = rand(6, 9).T  # (9, 6), not contiguous
    np.testing.assert_array_equal(enn.embedding(A(wt), A(np.array([8, 0])))._np, wt[[8, 0]])
    assert enn.embedding(A(wt), A(np.zeros((0, 3), np.int64)))._np.shape == (0, 3, 6)
    assert enn.embedding(A(np.zeros((4, 0))), A(np.array([1, 3])))._np.shape == (2, 0)


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_embedding_backward_sums_repeated_rows(padding_idx, dtype):
    num = 9
    idx = np.array([[2, 8, 2], [0, 2, 8]])
    go = rand(2, 3, 4, dtype=dtype)
    want = np.zeros((num, 4))
    np.add.at(want, idx.reshape(-1), go.reshape(-1, 4).astype(np.float64))
    if padding_idx is not None:
        want[padding_idx % num] = 0
    got = enn.embedding_backward(A(go), A(idx), num, padding_idx=padding_idx)._np
    assert got.dtype == dtype and got.shape == (num, 4)
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_embedding_backward_threaded_is_exact_and_thread_independent(threads):
    num = 50  # few rows, many repeats: every row is hit by many indices
    idx = RNG.integers(0, num, 4096).astype(np.int32)
    go = rand(4096, 128, dtype=np.float32)
    want = np.zeros((num, 128), np.float32)
    np.add.at(want, idx, go)  # same dtype, same (index) order
    threads(1)
    one = enn.embedding_backward(A(go), A(idx), num)._np
    threads(2)
    two = enn.embedding_backward(A(go), A(idx), num)._np
    np.testing.assert_array_equal(one, want)
    np.testing.assert_array_equal(two, want)


def test_embedding_indices_are_checked_before_the_loops():
    w = rand(5, 3)
    for bad in ([0, 5], [-1, 2], [[1, 2], [3, 99]]):
        with pytest.raises(IndexError, match="^index out of range in self$"):
            enn.embedding(A(w), A(np.array(bad)))
        with pytest.raises(IndexError, match="^index out of range in self$"):
            enn.embedding_backward(A(np.ones(np.shape(bad) + (3,))), A(np.array(bad)), 5)
    with pytest.raises(RuntimeError, match="Long, Int; but got torch.FloatTensor instead"):
        enn.embedding(A(w), A(np.array([1.0], np.float32)))
    with pytest.raises(RuntimeError, match="'weight' must be 2-D"):
        enn.embedding(A(rand(5)), A(np.array([1])))
    with pytest.raises(RuntimeError, match="does not match indices"):
        enn.embedding_backward(A(np.ones((3, 3))), A(np.array([1, 2])), 5)


def test_embedding_kernel_refuses_bad_buffers():
    w = rand(5, 3)
    idx = np.array([0, 4])
    with pytest.raises(RuntimeError):
        k_emb.gather(w, idx, np.empty((3, 3)))
    with pytest.raises(RuntimeError):
        k_emb.gather(w, idx, np.empty((2, 3), np.float32))
    with pytest.raises(RuntimeError):
        k_emb.gather(np.asfortranarray(w), idx, np.empty((2, 3)))
    with pytest.raises(RuntimeError):
        k_emb.gather(w, idx.astype(np.int16), np.empty((2, 3)))
    with pytest.raises(RuntimeError):
        k_emb.scatter_add(np.ones((2, 3), np.float32), idx, np.zeros((5, 3)))
    with pytest.raises(RuntimeError):
        k_emb.scatter_add(np.ones((2, 3), np.int64), idx, np.zeros((5, 3), np.int64))
    with pytest.raises(IndexError):
        k_emb.scatter_add(np.ones((2, 3)), np.array([0, 5]), np.zeros((5, 3)))


# ---- layer_norm --------------------------------------------------------------------------

def layer_norm_ref(x, ns, w, b, eps=1e-5):
    k = len(ns)
    axes = tuple(range(x.ndim - k, x.ndim))
    x = x.astype(np.float64)
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    rstd = 1 / np.sqrt(var + eps)
    y = (x - mean) * rstd
    if w is not None:
        y = y * w
    if b is not None:
        y = y + b
    return y, mean, rstd


def layer_norm_grad_ref(g, x, ns, w):
    k = len(ns)
    axes = tuple(range(x.ndim - k, x.ndim))
    lead = tuple(range(x.ndim - k))
    _, mean, rstd = layer_norm_ref(x, ns, None, None)
    xhat = (x - mean) * rstd
    gh = g * (w if w is not None else 1.0)
    gx = rstd * (gh - gh.mean(axis=axes, keepdims=True)
                 - xhat * (gh * xhat).mean(axis=axes, keepdims=True))
    return gx, (g * xhat).sum(axis=lead), g.sum(axis=lead)


LN_CASES = [((4, 6), (6,)), ((2, 3, 4, 5), (4, 5)), ((3, 7), (3, 7)), ((64, 512), (512,)),
            ((8, 33, 200), (200,))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("affine", [(True, True), (True, False), (False, True),
                                    (False, False)])
@pytest.mark.parametrize("shape,ns", LN_CASES)
def test_layer_norm_matches_reference(shape, ns, affine, dtype):
    x = rand(*shape, dtype=dtype, scale=3.0) + 2
    w = rand(*ns, dtype=dtype) if affine[0] else None
    b = rand(*ns, dtype=dtype) if affine[1] else None
    y, mean, rstd = enn.layer_norm(A(x), ns, None if w is None else A(w),
                                   None if b is None else A(b))
    ry, rmean, rrstd = layer_norm_ref(x, ns, w, b)
    stat_shape = shape[:len(shape) - len(ns)] + (1,) * len(ns)
    assert y._np.dtype == dtype and mean._np.shape == stat_shape == rstd._np.shape
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(y._np, ry, **tol)
    np.testing.assert_allclose(mean._np, rmean, **tol)
    np.testing.assert_allclose(rstd._np, rrstd, **tol)
    g = rand(*shape, dtype=dtype)
    gx, gw, gb = enn.layer_norm_backward(A(g), A(x), ns, mean, rstd,
                                         None if w is None else A(w),
                                         None if b is None else A(b))
    rgx, rgw, rgb = layer_norm_grad_ref(g.astype(np.float64), x.astype(np.float64), ns, w)
    np.testing.assert_allclose(gx._np, rgx, **tol)
    assert (gw is None) == (w is None) and (gb is None) == (b is None)
    if w is not None:
        assert gw._np.shape == ns and gw._np.dtype == dtype
        np.testing.assert_allclose(gw._np, rgw, rtol=tol["rtol"], atol=tol["atol"] * 10)
    if b is not None:
        np.testing.assert_allclose(gb._np, rgb, rtol=tol["rtol"], atol=tol["atol"] * 10)


def test_layer_norm_backward_is_the_gradient():
    # central differences of sum(y * g) in float64
    x, w, b, g = rand(3, 5), rand(5), rand(5), rand(3, 5)
    y, mean, rstd = enn.layer_norm(A(x), (5,), A(w), A(b))
    gx, gw, _ = enn.layer_norm_backward(A(g), A(x), (5,), mean, rstd, A(w), A(b))
    h = 1e-6
    for i in range(3):
        for j in range(5):
            xp, xm = x.copy(), x.copy()
            xp[i, j] += h
            xm[i, j] -= h
            fd = ((enn.layer_norm(A(xp), (5,), A(w), A(b))[0]._np * g).sum()
                  - (enn.layer_norm(A(xm), (5,), A(w), A(b))[0]._np * g).sum()) / (2 * h)
            assert gx._np[i, j] == pytest.approx(fd, rel=1e-5, abs=1e-7)


def test_layer_norm_output_mask_and_degenerate_rows():
    x = rand(4, 6)
    w, b = rand(6), rand(6)
    y, mean, rstd = enn.layer_norm(A(x), (6,), A(w), A(b))
    gx, gw, gb = enn.layer_norm_backward(A(rand(4, 6)), A(x), (6,), mean, rstd, A(w), A(b),
                                         output_mask=(False, True, False))
    assert gx is None and gw is not None and gb is None
    const = np.full((2, 6), 3.0)
    y, _, rstd = enn.layer_norm(A(const), (6,), A(w), A(b))
    np.testing.assert_allclose(y._np, np.broadcast_to(b, (2, 6)))
    np.testing.assert_allclose(rstd._np, 1 / math.sqrt(1e-5))
    y, mean, rstd = enn.layer_norm(A(np.zeros((0, 4))), (4,))
    assert y._np.shape == (0, 4) and mean._np.shape == (0, 1)
    _, gw, gb = enn.layer_norm_backward(A(np.zeros((0, 4))), A(np.zeros((0, 4))), (4,), mean,
                                        rstd, A(w[:4]), A(b[:4]))
    np.testing.assert_array_equal(gw._np, np.zeros(4))
    y, mean, rstd = enn.layer_norm(A(np.zeros((3, 0))), (0,))
    assert y._np.shape == (3, 0) and (mean._np == 0).all() and np.isnan(rstd._np).all()


def test_layer_norm_threads_agree(threads):
    x, g = rand(64, 512, dtype=np.float32), rand(64, 512, dtype=np.float32)
    w = rand(512, dtype=np.float32)
    out = []
    for n in (1, 2):
        threads(n)
        y, mean, rstd = enn.layer_norm(A(x), (512,), A(w), A(w))
        out.append((y._np, *[a._np for a in enn.layer_norm_backward(
            A(g), A(x), (512,), mean, rstd, A(w), A(w))]))
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(out[0][0], out[1][0])  # forward rows never mix threads


def test_layer_norm_errors():
    x = rand(3, 4)
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[5\], expected input"):
        enn.layer_norm(A(x), (5,))
    with pytest.raises(RuntimeError, match="Expected weight to be of same shape"):
        enn.layer_norm(A(x), (4,), A(rand(3)))
    with pytest.raises(NotImplementedError, match='"LayerNormKernelImpl" not implemented'):
        enn.layer_norm(A(np.ones((3, 4), np.int64)), (4,))
    _, mean, rstd = enn.layer_norm(A(x), (4,))
    with pytest.raises(RuntimeError, match="layer_norm_backward: expected grad_output"):
        enn.layer_norm_backward(A(rand(4, 3)), A(x), (4,), mean, rstd)


def test_layer_norm_kernel_refuses_bad_buffers():
    x = rand(3, 4)
    mean, rstd = np.empty(3), np.empty(3)
    with pytest.raises(RuntimeError):
        k_ln.forward(x, np.empty((3, 5)), None, None, 1e-5, mean, rstd)
    with pytest.raises(RuntimeError):
        k_ln.forward(x, np.empty((3, 4)), np.ones(5), None, 1e-5, mean, rstd)
    with pytest.raises(RuntimeError):
        k_ln.forward(x, np.empty((3, 4)), None, np.ones(4, np.float32), 1e-5, mean, rstd)
    with pytest.raises(RuntimeError):
        k_ln.forward(x, np.empty((3, 4)), None, None, 1e-5, np.empty(2), rstd)
    with pytest.raises(RuntimeError):
        k_ln.forward(np.asfortranarray(x), np.empty((3, 4)), None, None, 1e-5, mean, rstd)
    with pytest.raises(RuntimeError):
        k_ln.backward(x, x, mean, rstd, None, np.empty((3, 4), np.float32), True, True)
    with pytest.raises(RuntimeError):
        k_ln.forward(np.zeros((3, 0)), np.zeros((3, 0)), None, None, 1e-5, mean, rstd)

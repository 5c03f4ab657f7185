"""The fast paths behind ResNet training speed, against float64 NumPy references.

* batch-norm kernels (``_kernels/norm.pyx``, through ``train_forward``/``train_backward``/
  ``eval_forward``): block-merged statistics, SIMD gradient sums, the fused
  ``a*go + b*x + d`` input gradient, on both sides of the parallel threshold;
* convolution's task split (``nn/conv.py`` + ``_team.py``): images per thread,
  GEMM rows per thread for a single image, the serial path, thread/BLAS settings restored,
  errors re-raised, several caller threads at once, and a forked child;
* pooling on both sides of its parallel threshold.
"""
import os
import signal
import threading
import time

import numpy as np
import pytest

import ember_tensor
from ember_tensor import from_numpy
from ember_tensor._kernels import norm as K
from ember_tensor.nn import (
    batch_norm, batch_norm_backward, conv2d, conv2d_backward, max_pool2d_backward,
    max_pool2d_with_indices,
)
from ember_tensor import _team as CT


@pytest.fixture(params=[1, 2], ids=["1thread", "2threads"])
def threads(request):
    old = ember_tensor.get_num_threads()
    ember_tensor.set_num_threads(request.param)
    yield request.param
    ember_tensor.set_num_threads(old)


def _rel(a, b):
    b = np.asarray(b, np.float64)
    return float(np.abs(np.asarray(a, np.float64) - b).max() / max(np.abs(b).max(), 1e-30))


# ---- batch-norm kernels -----------------------------------------------------------------

# (N, C, L): tiny; L past one 2048-element block and not a multiple of it; above the
# parallel threshold (262144 elements); short rows (summed by position) in channel blocks,
# an odd channel count, above the threshold too
BN_SHAPES = [(3, 5, 7), (2, 3, 4099), (1, 2, 1), (4, 8, 9000), (64, 515, 9)]


def _train_stats(x, momentum=1.0):
    """Batch mean and unbiased variance of ``x``'s channels as ``train_forward`` computes them
    in double, read through float64 running buffers: with momentum 1 a buffer becomes
    ``r * 0 + stat``, the double statistic itself (its own dtype would round it to float32).
    The variance buffer is left out when a channel holds one element (no unbiased variance)."""
    C = x.shape[1]
    rm = np.zeros(C)
    rv = np.zeros(C) if x.shape[0] * x.shape[2] > 1 else None
    out = np.empty_like(x)
    mean_out, invstd_out = np.empty(C, x.dtype), np.empty(C, x.dtype)
    K.train_forward(x, out, rm, rv, None, None, momentum, 1e-5, False, mean_out, invstd_out)
    return rm, rv, out, mean_out, invstd_out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", BN_SHAPES)
def test_train_forward_stats_match_float64(shape, dtype, threads):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 2 + 3).astype(dtype)
    mean, var, out, mean_out, invstd_out = _train_stats(x)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(mean, x64.mean((0, 2)), rtol=1e-12, atol=1e-12)
    if var is not None:
        np.testing.assert_allclose(var, x64.var((0, 2), ddof=1), rtol=1e-10, atol=1e-12)
    # the statistics the backward takes, and the normalised output, in x's dtype
    inv64 = 1 / np.sqrt(x64.var((0, 2)) + 1e-5)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(mean_out, x64.mean((0, 2)), rtol=tol, atol=tol)
    np.testing.assert_allclose(invstd_out, inv64, rtol=tol)
    # error measured against the terms' size: x * scale + shift cancels to ~0 in a channel of
    # one element
    terms = np.abs(x64 * inv64[:, None]).max()
    ref = (x64 - x64.mean((0, 2), keepdims=True)) * inv64[:, None]
    assert np.abs(out - ref).max() <= 10 * tol * terms


@pytest.mark.parametrize("shape", [(32, 512, 4), (64, 515, 9), (40, 257, 63)])
def test_train_forward_short_rows_same_bits_on_any_thread_count(shape):
    # channel blocks, one a thread: each channel is summed in the same order whatever the cut
    x = (np.random.default_rng(3).standard_normal(shape) * 3 + 1).astype(np.float32)
    old = ember_tensor.get_num_threads()
    got = []
    try:
        for n in (1, 2, 3):
            ember_tensor.set_num_threads(n)
            got.append(_train_stats(x, momentum=0.1))
    finally:
        ember_tensor.set_num_threads(old)
    for other in got[1:]:
        for a, b in zip(got[0], other):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(got[0][3], x.astype(np.float64).mean((0, 2)), rtol=1e-6)


def test_train_forward_stats_stable_with_large_mean(threads):
    # E[x^2] - E[x]^2 in float32 or even float64 sums would lose the variance here
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((4, 2, 5000)) + 1e4).astype(np.float32)
    _, var, *_ = _train_stats(x)
    ref = x.astype(np.float64).var((0, 2), ddof=1)
    np.testing.assert_allclose(var, ref, rtol=1e-9)


# float32 outputs of sums made in double: the double sum rounded once, so within a float32
# ulp of the float64 reference (a float32 running sum would be off by far more)
F32_ULP = 2.0 ** -23


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", BN_SHAPES)
def test_train_backward_sums_and_grad_input_match_float64(shape, dtype, threads):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape).astype(dtype)
    go = rng.standard_normal(shape).astype(dtype)
    C = shape[1]
    mean = rng.standard_normal(C).astype(dtype)  # any centre: the kernel takes it as given
    invstd = (rng.random(C) + 0.5).astype(dtype)
    w = rng.standard_normal(C).astype(dtype)
    gx, gw, gb = np.empty_like(x), np.empty(C, dtype), np.empty(C, dtype)
    K.train_backward(go, x, gx, mean, invstd, w, gw, gb)
    g64, x64 = go.astype(np.float64), x.astype(np.float64)
    m64, inv64, w64 = (v.astype(np.float64)[:, None] for v in (mean, invstd, w))
    s1 = g64.sum((0, 2))
    s2 = (g64 * (x64 - m64)).sum((0, 2))
    rtol = F32_ULP if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(gb, s1, rtol=rtol, atol=1e-10)
    np.testing.assert_allclose(gw, s2 * inv64[:, 0], rtol=2 * rtol, atol=1e-10)
    M = shape[0] * shape[2]
    ref = w64 * inv64 * (g64 - s1[:, None] / M - (x64 - m64) * s2[:, None] * inv64**2 / M)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert _rel(gx, ref) < tol
    # in place over the incoming gradient, as autograd may do
    K.train_backward(go, x, go, mean, invstd, w, None, None)
    np.testing.assert_array_equal(go, gx)


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("shape", BN_SHAPES)
def test_eval_forward_affine_fused_relu_and_in_place(shape, relu, threads):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape).astype(np.float32)
    C = shape[1]
    rm, rv = rng.standard_normal(C), rng.random(C) + 0.5
    w, b = rng.standard_normal(C), rng.standard_normal(C)
    out, mean_out, invstd_out = np.empty_like(x), np.empty(C, x.dtype), np.empty(C, x.dtype)
    K.eval_forward(x, out, rm, rv, w, b, 1e-5, relu, mean_out, invstd_out)
    scale = w / np.sqrt(rv + 1e-5)
    ref = x.astype(np.float64) * scale[:, None] + (b - rm * scale)[:, None]
    if relu:
        ref = np.maximum(ref, 0)
        assert (out >= 0).all()
    assert _rel(out, ref) < 1e-6
    K.eval_forward(x, x, rm, rv, w, b, 1e-5, relu, mean_out, invstd_out)
    np.testing.assert_array_equal(x, out)


def test_norm_kernels_refuse_bad_blocks():
    x = np.zeros((2, 3, 4), np.float32)
    v = np.zeros(3, np.float32)

    def forward(x, out=None, mean=v, weight=None):
        K.train_forward(x, np.empty_like(x) if out is None else out, None, None, weight, None,
                        0.1, 1e-5, False, mean, v.copy())

    with pytest.raises(RuntimeError, match="contiguous"):
        forward(x[:, :, ::2])
    with pytest.raises(RuntimeError, match="contiguous"):
        forward(x.reshape(6, 4))
    with pytest.raises(RuntimeError, match="vector of 3 in the input's dtype"):
        forward(x, mean=np.zeros(3))
    with pytest.raises(RuntimeError, match="contiguous float32/float64 vector of 3"):
        forward(x, weight=np.zeros(2))
    with pytest.raises(RuntimeError, match="share a dtype"):
        K.train_backward(x, x.astype(np.float64), None, v, v, None, None, None)
    with pytest.raises(RuntimeError, match="float32/float64"):
        forward(x.astype(np.int32))
    with pytest.raises(RuntimeError, match="one shape"):
        K.train_backward(x, x, np.zeros((2, 3, 5), np.float32), v, v, None, None, None)
    with pytest.raises(RuntimeError, match="empty channel"):
        forward(np.zeros((0, 3, 4), np.float32))


def test_batch_norm_train_step_matches_float64_reference(threads):
    # whole forward + backward through the kernels, large enough to run in parallel
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 16, 70, 70)).astype(np.float32)
    go = rng.standard_normal(x.shape).astype(np.float32)
    w = (rng.random(16) + 0.5).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32)
    out, mean, invstd = batch_norm(from_numpy(x), from_numpy(w), from_numpy(b), None, None,
                                   True, 0.1, 1e-5)
    gx, gw, gb = batch_norm_backward(from_numpy(go), from_numpy(x), from_numpy(w), mean,
                                     invstd, True)
    x64, g64 = x.astype(np.float64), go.astype(np.float64)
    m = x64.mean((0, 2, 3), keepdims=True)
    inv = 1 / np.sqrt(x64.var((0, 2, 3), keepdims=True) + 1e-5)
    xhat = (x64 - m) * inv
    w4 = w.reshape(1, -1, 1, 1).astype(np.float64)
    assert _rel(out._np, xhat * w4 + b.reshape(1, -1, 1, 1)) < 1e-5
    ref_gb = g64.sum((0, 2, 3))
    ref_gw = (g64 * xhat).sum((0, 2, 3))
    M = x.size // 16
    ref_gx = w4 * inv * (g64 - ref_gb.reshape(1, -1, 1, 1) / M
                         - xhat * ref_gw.reshape(1, -1, 1, 1) / M)
    assert _rel(gb._np, ref_gb) < 1e-5
    assert _rel(gw._np, ref_gw) < 1e-5
    assert _rel(gx._np, ref_gx) < 1e-4


@pytest.mark.parametrize("shape", [(3, 8, 2, 2), (2, 8, 9, 9)])  # short rows, long rows
def test_batch_norm_train_running_stats(threads, shape):
    """The running statistics move as torch moves them (``r * (1 - momentum) + momentum *
    stat``, the variance unbiased, in the buffers' dtype), in place; a strided buffer gets a
    working copy that is written back."""
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape).astype(np.float32) * 3 + 1
    C, n = shape[1], x.size // shape[1]
    rm0 = rng.standard_normal(C).astype(np.float32)
    rv0 = (rng.random(C) + 0.5).astype(np.float32)
    rm, rv = rm0.copy(), rv0.copy()
    _, mean, invstd = batch_norm(from_numpy(x), None, None, from_numpy(rm), from_numpy(rv),
                                 True, 0.3, 1e-5)
    x64 = x.astype(np.float64)
    m64, v64 = x64.mean((0, 2, 3)), x64.var((0, 2, 3))
    np.testing.assert_allclose(mean._np, m64, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(invstd._np, 1 / np.sqrt(v64 + 1e-5), rtol=1e-6)
    np.testing.assert_allclose(rm, rm0 * 0.7 + 0.3 * m64, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(rv, rv0 * 0.7 + 0.3 * v64 * n / (n - 1), rtol=1e-6)
    strided = np.zeros((C, 2), np.float32)
    strided[:, 0] = rm0
    batch_norm(from_numpy(x), None, None, from_numpy(strided[:, 0]), None, True, 0.3, 1e-5)
    np.testing.assert_allclose(strided[:, 0], rm, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(strided[:, 1], 0)


# ---- convolution task split ---------------------------------------------------------------

def _taps(xp, i, j, s, d, OH, OW):
    return xp[:, :, i * d:i * d + s * (OH - 1) + 1:s, j * d:j * d + s * (OW - 1) + 1:s]


def _ref_conv(x, w, go, s, p, d, groups):
    """float64 forward output and (gx, gw) for grad_output ``go``, tap by tap."""
    x, w, go = (a.astype(np.float64) for a in (x, w, go))
    N, C, H, W = x.shape
    Cout, Cg, kh, kw = w.shape
    G = groups
    OH = (H + 2 * p - d * (kh - 1) - 1) // s + 1
    OW = (W + 2 * p - d * (kw - 1) - 1) // s + 1
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    wg = w.reshape(G, Cout // G, Cg, kh, kw)
    gog = go.reshape(N, G, Cout // G, OH, OW)
    out = np.zeros((N, G, Cout // G, OH, OW))
    gxp = np.zeros_like(xp)
    gw = np.zeros_like(wg)
    for i in range(kh):
        for j in range(kw):
            patch = _taps(xp, i, j, s, d, OH, OW).reshape(N, G, Cg, OH, OW)
            out += np.einsum("goc,ngchw->ngohw", wg[:, :, :, i, j], patch)
            gw[:, :, :, i, j] = np.einsum("ngohw,ngchw->goc", gog, patch)
            _taps(gxp, i, j, s, d, OH, OW)[...] += np.einsum(
                "goc,ngohw->ngchw", wg[:, :, :, i, j], gog).reshape(N, C, OH, OW)
    gx = gxp[:, :, p:p + H, p:p + W]
    return out.reshape(N, Cout, OH, OW), gx, gw.reshape(w.shape)


# (N, C, Cout, side, k, stride, pad, dilation, groups): which path each takes at 2 threads
CONV_CASES = [
    (1, 32, 64, 34, 3, 1, 1, 1, 1),    # single image, big: GEMM rows split
    (1, 128, 96, 40, 1, 1, 0, 1, 1),   # single image pointwise: rows split, no im2col
    (1, 256, 256, 3, 3, 1, 1, 1, 1),   # single image, few MACs but 2.4 MB of weights: split
    (1, 16, 32, 20, 3, 1, 1, 1, 1),    # single image, small: rows path on one thread
    (4, 32, 64, 36, 3, 2, 1, 1, 1),    # batch: images split, strided
    (5, 96, 64, 24, 1, 1, 0, 1, 1),    # batch pointwise: images split
    (6, 48, 48, 12, 3, 1, 2, 2, 1),    # small maps chunked several images per GEMM, dilated
    (2, 64, 64, 40, 3, 1, 1, 1, 4),    # grouped, images split
    (1, 32, 64, 40, 3, 1, 1, 1, 2),    # single image, grouped: one task, no row split
    (2, 3, 4, 5, 3, 1, 1, 1, 1),       # tiny batch: one chunk writes gw directly
]


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: "x".join(map(str, c)))
def test_conv_paths_match_float64_reference(case, threads):
    N, C, Cout, side, k, s, p, d, groups = case
    rng = np.random.default_rng(5)
    x = rng.standard_normal((N, C, side, side)).astype(np.float32)
    w = (rng.standard_normal((Cout, C // groups, k, k)) * 0.1).astype(np.float32)
    bias = rng.standard_normal(Cout).astype(np.float32)
    out = conv2d(from_numpy(x), from_numpy(w), from_numpy(bias), s, p, d, groups)._np
    go = rng.standard_normal(out.shape).astype(np.float32)
    ref_out, ref_gx, ref_gw = _ref_conv(x, w, go, s, p, d, groups)
    assert _rel(out, ref_out + bias.reshape(1, -1, 1, 1)) < 1e-5
    gx, gw, gb = conv2d_backward(from_numpy(go), from_numpy(x), from_numpy(w), s, p, d,
                                 groups)
    assert _rel(gx._np, ref_gx) < 1e-5
    assert _rel(gw._np, ref_gw) < 1e-5
    assert _rel(gb._np, go.astype(np.float64).sum((0, 2, 3))) < 1e-5
    # only what the mask asks for, the same numbers
    gx2, gw2, gb2 = conv2d_backward(from_numpy(go), from_numpy(x), from_numpy(w), s, p, d,
                                    groups, (False, True, False))
    assert gx2 is None and gb2 is None
    np.testing.assert_allclose(gw2._np, gw._np, rtol=1e-5, atol=1e-5)


def test_conv_split_decisions(monkeypatch):
    from ember_tensor.nn import conv as conv_module
    from ember_tensor.nn.conv import _Geometry

    split = 2 if CT.can_split() else 1
    big1 = _Geometry((1, 32, 34, 34), (64, 32, 3, 3), (1, 1), (1, 1), (1, 1), 1)
    assert big1.threads(2) == split and big1.threads(1) == 1
    assert big1.split_rows()
    batch = _Geometry((3, 16, 36, 36), (32, 16, 3, 3), (2, 2), (1, 1), (1, 1), 1)
    assert not batch.split_rows()
    tiny = _Geometry((2, 3, 5, 5), (4, 3, 3, 3), (1, 1), (1, 1), (1, 1), 1)
    assert tiny.threads(2) == 1 and tiny.threads(2, passes=2) == 1
    # one image splits from _SINGLE_SPLIT_MACS, a batch from _SPLIT_MACS; the backward's
    # two GEMMs count twice
    mid = _Geometry((1, 64, 16, 16), (64, 64, 3, 3), (1, 1), (1, 1), (1, 1), 1)
    monkeypatch.setattr(conv_module, "_SINGLE_SPLIT_MACS", mid.macs + 1)
    assert mid.threads(2, passes=1) == 1 and mid.threads(2, passes=2) == split
    pair = _Geometry((2, 64, 16, 16), (64, 64, 3, 3), (1, 1), (1, 1), (1, 1), 1)
    monkeypatch.setattr(conv_module, "_SPLIT_MACS", pair.macs + 1)
    assert pair.threads(2, passes=1) == 1 and pair.threads(2, passes=2) == split
    assert mid.threads(2, passes=1) == 1  # batches' rule does not move one image's
    # few multiply-adds but 9.4 MB of weights (ResNet-18 layer4 at 64 px): split
    heavy = _Geometry((1, 512, 2, 2), (512, 512, 3, 3), (1, 1), (1, 1), (1, 1), 1)
    assert heavy.macs < 16_000_000 and heavy.threads(2) == split
    # chunks leave every thread some images even for small maps
    small = _Geometry((16, 512, 7, 7), (512, 512, 3, 3), (1, 1), (1, 1), (1, 1), 1)
    assert small.chunk(4, 1) > small.chunk(4, 2) >= 1
    assert -(-16 // small.chunk(4, 2)) >= 2


def test_conv_restores_thread_settings():
    old = ember_tensor.get_num_threads()
    try:
        ember_tensor.set_num_threads(2)
        x = from_numpy(np.ones((1, 32, 34, 34), np.float32))
        w = from_numpy(np.ones((64, 32, 3, 3), np.float32))
        conv2d(x, w, None, 1, 1)
        assert ember_tensor.get_num_threads() == 2
        with CT.serial_region() as budget:
            assert budget == 2
            assert ember_tensor.get_num_threads() == 1
        assert ember_tensor.get_num_threads() == 2
    finally:
        ember_tensor.set_num_threads(old)


def test_run_tasks_runs_each_once_and_reraises():
    seen = []
    lock = threading.Lock()

    def make(i):
        def task():
            with lock:
                seen.append(i)
        return task

    with CT.serial_region():
        CT.run_tasks([make(i) for i in range(37)], 2)
    assert sorted(seen) == list(range(37))

    def boom():
        raise ValueError("task failed")

    with pytest.raises(ValueError, match="task failed"):
        with CT.serial_region():
            CT.run_tasks([make(100), boom, make(101)], 2)


def test_conv_from_several_caller_threads(threads):
    # scratch buffers are per thread: concurrent convolutions must not share columns
    rng = np.random.default_rng(6)
    w = (rng.standard_normal((32, 16, 3, 3)) * 0.1).astype(np.float32)
    xs = [rng.standard_normal((2, 16, 30, 30)).astype(np.float32) for _ in range(3)]
    expected = [conv2d(from_numpy(x), from_numpy(w), None, 1, 1)._np for x in xs]
    results = [None] * len(xs)

    def work(i):
        for _ in range(3):
            results[i] = conv2d(from_numpy(xs[i]), from_numpy(w), None, 1, 1)._np

    ts = [threading.Thread(target=work, args=(i,)) for i in range(len(xs))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for got, exp in zip(results, expected):
        np.testing.assert_array_equal(got, exp)


def _wait_child(pid, seconds=60.0):
    """The child's exit code; a child still running after ``seconds`` is killed and the
    test fails (a hang here is the bug under test, not a reason to hang the suite)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail("the forked child hung")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_kernels_in_forked_child():
    # GNU OpenMP's team does not survive fork: the child must not wait on the parent's
    # threads (conv's tasks and the elementwise kernels run on that team)
    old = ember_tensor.get_num_threads()
    ember_tensor.set_num_threads(2)
    try:
        x = from_numpy(np.ones((2, 32, 34, 34), np.float32))
        w = from_numpy(np.ones((64, 32, 3, 3), np.float32))
        big = from_numpy(np.arange(1 << 20, dtype=np.float32))
        expected = conv2d(x, w, None, 1, 1)._np  # runs the team in the parent
        expected_sum = (big + big)._np
        pid = os.fork()
        if pid == 0:
            ok = (np.array_equal(conv2d(x, w, None, 1, 1)._np, expected)
                  and np.array_equal((big + big)._np, expected_sum)
                  and ember_tensor.get_num_threads() == 1)
            os._exit(0 if ok else 1)
        assert _wait_child(pid) == 0
        assert ember_tensor.get_num_threads() == 2  # the parent keeps its setting
    finally:
        ember_tensor.set_num_threads(old)


# ---- pooling on both sides of the parallel threshold -------------------------------------

@pytest.mark.parametrize("shape", [(1, 4, 9, 9), (2, 32, 64, 64)])
def test_max_pool_forward_backward_match_numpy(shape, threads):
    rng = np.random.default_rng(7)
    x = rng.standard_normal(shape).astype(np.float32)
    out, idx = max_pool2d_with_indices(from_numpy(x), 3, 2, 1)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    OH = (shape[2] + 2 - 3) // 2 + 1
    windows = np.stack([xp[:, :, i:i + 2 * (OH - 1) + 1:2, j:j + 2 * (OH - 1) + 1:2]
                        for i in range(3) for j in range(3)])
    np.testing.assert_array_equal(out._np, windows.max(0))
    flat = x.reshape(shape[0], shape[1], -1)
    np.testing.assert_array_equal(
        np.take_along_axis(flat, idx._np.reshape(shape[0], shape[1], -1), 2),
        out._np.reshape(shape[0], shape[1], -1))
    go = rng.standard_normal(out.shape).astype(np.float32)
    gx = max_pool2d_backward(from_numpy(go), from_numpy(x), idx)._np
    ref = np.zeros(flat.shape, np.float64)
    n_i, c_i = np.indices(idx._np.reshape(shape[0], shape[1], -1).shape)[:2]
    np.add.at(ref, (n_i, c_i, idx._np.reshape(shape[0], shape[1], -1)),
              go.reshape(shape[0], shape[1], -1))
    assert _rel(gx.reshape(flat.shape), ref) < 1e-6

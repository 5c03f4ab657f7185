"""Every nn kernel against torch: forward values and the backward pieces against autograd."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from ember_tensor import Array  # noqa: E402
from ember_tensor import nn as enn  # noqa: E402

RNG = np.random.default_rng(0)


def A(a):
    return Array(np.asarray(a))


def rand(*shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)


def close(ember_arr, torch_t, tol=1e-10):
    got = ember_arr._np if isinstance(ember_arr, Array) else ember_arr
    want = torch_t.detach().numpy()
    assert got.shape == want.shape
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def torch_grads(fn, arrays, go=None):
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ts)
    if go is None:
        go = rand(*out.shape, dtype=arrays[0].dtype)
    out.backward(torch.tensor(go))
    return out, [t.grad for t in ts], go


CONV_CASES = [
    ((2, 3, 9, 8), (4, 3, 3, 3), dict()),
    ((2, 3, 9, 8), (4, 3, 3, 3), dict(stride=2, padding=1)),
    ((1, 4, 11, 7), (6, 2, 3, 2), dict(stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=2)),
    ((3, 4, 5, 5), (4, 1, 3, 3), dict(groups=4, padding=1)),
    ((2, 4, 5, 6), (6, 4, 1, 1), dict()),
    ((2, 4, 5, 6), (6, 4, 1, 1), dict(stride=2)),
    ((2, 4, 6, 6), (6, 2, 1, 1), dict(groups=2)),
    ((40, 3, 4, 4), (5, 3, 3, 3), dict(padding=1, stride=2)),
    ((1, 3, 7, 7), (2, 3, 7, 7), dict(padding=3, stride=2)),
    ((2, 2, 8, 8), (3, 2, 3, 3), dict(dilation=2, padding=2)),
]


@pytest.mark.parametrize("xs,ws,kw", CONV_CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_forward_backward(xs, ws, kw, bias):
    x, w = rand(*xs), rand(*ws)
    b = rand(ws[0]) if bias else None
    arrays = [x, w] + ([b] if bias else [])
    out, grads, go = torch_grads(lambda *t: F.conv2d(*t, **kw), arrays)
    close(enn.conv2d(A(x), A(w), A(b) if bias else None, **kw), out)
    gx, gw, gb = enn.conv2d_backward(
        A(go), A(x), A(w), kw.get("stride", 1), kw.get("padding", 0), kw.get("dilation", 1),
        kw.get("groups", 1), output_mask=(True, True, bias))
    close(gx, grads[0])
    close(gw, grads[1])
    if bias:
        close(gb, grads[2])
    else:
        assert gb is None


def test_conv2d_float32_and_unbatched():
    x, w = rand(3, 10, 10, dtype=np.float32), rand(5, 3, 3, 3, dtype=np.float32)
    close(enn.conv2d(A(x), A(w), padding=1), F.conv2d(torch.tensor(x), torch.tensor(w), padding=1),
          tol=1e-4)


def test_conv2d_output_mask_skips():
    x, w = rand(1, 2, 5, 5), rand(3, 2, 3, 3)
    go = rand(1, 3, 3, 3)
    gx, gw, gb = enn.conv2d_backward(A(go), A(x), A(w), 1, 0, 1, 1, output_mask=(False, True, False))
    assert gx is None and gb is None and gw.shape == (3, 2, 3, 3)


CONV_ERRORS = [
    ((1, 4, 64, 64), (64, 3, 7, 7), None, {}),
    ((1, 3, 2, 2), (4, 3, 3, 3), None, {}),
    ((1, 4, 8, 8), (3, 2, 3, 3), None, dict(groups=2)),
    ((1, 3, 8, 8), (4, 3, 3, 3), (5,), {}),
    ((1, 3, 8, 8), (4, 3, 3, 3), (4, 1), {}),
    ((3, 8), (4, 3, 3, 3), None, {}),
    ((1, 3, 8, 8), (4, 3, 3, 3), None, dict(stride=0)),
    ((1, 3, 8, 8), (4, 3, 3, 3), None, dict(padding=-1)),
    ((1, 3, 8, 8), (4, 3, 3, 3), None, dict(dilation=0)),
    ((1, 3, 8, 8), (4, 3, 3, 3), None, dict(groups=0)),
    ((2, 3, 8, 8), (0, 3, 3, 3), None, {}),
]


def same_error(ember_fn, torch_fn):
    with pytest.raises(Exception) as want:
        torch_fn()
    with pytest.raises(type(want.value)) as got:
        ember_fn()
    assert str(got.value) == str(want.value).split("\n")[0]


@pytest.mark.parametrize("xs,ws,bs,kw", CONV_ERRORS)
def test_conv2d_errors(xs, ws, bs, kw):
    x, w = rand(*xs, dtype=np.float32), rand(*ws, dtype=np.float32)
    b = rand(*bs, dtype=np.float32) if bs else None
    same_error(lambda: enn.conv2d(A(x), A(w), A(b) if bs else None, **kw),
               lambda: F.conv2d(torch.tensor(x), torch.tensor(w),
                                torch.tensor(b) if bs else None, **kw))


def test_conv2d_dtype_errors():
    x, w = rand(1, 3, 8, 8), rand(4, 3, 3, 3, dtype=np.float32)
    same_error(lambda: enn.conv2d(A(x), A(w)), lambda: F.conv2d(torch.tensor(x), torch.tensor(w)))
    x = x.astype(np.float32)
    b = rand(4)
    same_error(lambda: enn.conv2d(A(x), A(w), A(b)),
               lambda: F.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b)))


POOL_CASES = [
    ((2, 3, 8, 8), dict(kernel_size=2)),
    ((2, 3, 9, 7), dict(kernel_size=3, stride=2, padding=1)),
    ((1, 2, 5, 5), dict(kernel_size=2, stride=2, ceil_mode=True)),
    ((1, 2, 5, 6), dict(kernel_size=(2, 3), stride=2, padding=(1, 1), ceil_mode=True)),
    ((3, 7, 7), dict(kernel_size=3, stride=1, padding=1)),
    ((1, 1, 6, 6), dict(kernel_size=(3, 1), stride=(1, 2))),
]


@pytest.mark.parametrize("xs,kw", POOL_CASES)
@pytest.mark.parametrize("dilation", [1, 2])
def test_max_pool2d(xs, kw, dilation):
    x = rand(*xs)
    if dilation == 2:
        kw = dict(kw, padding=0)
        if min(xs[-2:]) < 2 * (np.max(kw["kernel_size"]) - 1) + 1:
            pytest.skip("window does not fit")
    ts = torch.tensor(x, requires_grad=True)
    out, idx = F.max_pool2d(ts, dilation=dilation, return_indices=True, **kw)
    go = rand(*out.shape)
    out.backward(torch.tensor(go))
    kw = dict(kw)
    o, i = enn.max_pool2d_with_indices(A(x), kw.pop("kernel_size"), kw.pop("stride", None),
                                       kw.pop("padding", 0), dilation, kw.pop("ceil_mode", False))
    close(o, out)
    assert np.array_equal(i._np, idx.numpy())
    close(enn.max_pool2d_backward(A(go), A(x), i), ts.grad)


def test_max_pool2d_ties_and_nan():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 1] = np.nan
    t, ti = F.max_pool2d(torch.tensor(x), 2, return_indices=True)
    o, i = enn.max_pool2d_with_indices(A(x), 2)
    np.testing.assert_array_equal(o._np, t.numpy())
    np.testing.assert_array_equal(i._np, ti.numpy())


@pytest.mark.parametrize("xs,kw", POOL_CASES)
@pytest.mark.parametrize("include_pad", [True, False])
@pytest.mark.parametrize("divisor", [None, 3])
def test_avg_pool2d(xs, kw, include_pad, divisor):
    x = rand(*xs)
    f = lambda t: F.avg_pool2d(t, count_include_pad=include_pad, divisor_override=divisor, **kw)  # noqa: E731
    out, (g,), go = torch_grads(f, [x])
    kw = dict(kw)
    args = (kw.pop("kernel_size"), kw.pop("stride", None), kw.pop("padding", 0),
            kw.pop("ceil_mode", False), include_pad, divisor)
    close(enn.avg_pool2d(A(x), *args), out)
    close(enn.avg_pool2d_backward(A(go), A(x), *args), g)


@pytest.mark.parametrize("xs,size", [((2, 3, 7, 7), 1), ((2, 3, 7, 5), (3, 2)),
                                     ((3, 5, 9), (4, None)), ((1, 2, 4, 4), (8, 6))])
def test_adaptive_avg_pool2d(xs, size):
    x = rand(*xs)
    out, (g,), go = torch_grads(lambda t: F.adaptive_avg_pool2d(t, size), [x])
    close(enn.adaptive_avg_pool2d(A(x), size), out)
    close(enn.adaptive_avg_pool2d_backward(A(go), A(x)), g)


POOL_ERRORS = [
    ("max", (1, 3, 8, 8), (3, 2, 2)), ("max", (1, 64, 1, 1), (2, 2)),
    ("max", (1, 3, 8, 8), ((3, 5), 1, (2, 1))), ("max", (1, 3, 8, 8), ((3, 5), 1, (1, 3))),
    ("avg", (1, 3, 8, 8), (3, 2, 2)), ("avg", (1, 64, 1, 1), (2, 2)),
    ("max", (3, 0, 8), (2,)), ("max", (1, 3, 8, 8), (2, 0)), ("avg", (2, 0, 8, 8), (2,)),
]


@pytest.mark.parametrize("kind,xs,args", POOL_ERRORS)
def test_pool_errors(kind, xs, args):
    x = rand(*xs, dtype=np.float32)
    tf = F.max_pool2d if kind == "max" else F.avg_pool2d
    ef = enn.max_pool2d_with_indices if kind == "max" else enn.avg_pool2d
    same_error(lambda: ef(A(x), *args), lambda: tf(torch.tensor(x), *args))


def test_adaptive_errors():
    same_error(lambda: enn.adaptive_avg_pool2d(A(rand(1, 3, 0, 8)), (2, 1)),
               lambda: F.adaptive_avg_pool2d(torch.randn(1, 3, 0, 8), (2, 1)))
    same_error(lambda: enn.adaptive_avg_pool2d(A(rand(1, 3, 8, 8)), (-1, 1)),
               lambda: F.adaptive_avg_pool2d(torch.randn(1, 3, 8, 8), (-1, 1)))


@pytest.mark.parametrize("shape", [(4, 3), (3, 4, 5), (2, 3, 4, 5)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training(shape, affine):
    C = shape[1]
    x = rand(*shape)
    w, b = (rand(C), rand(C)) if affine else (None, None)
    rm, rv = rand(C), np.abs(rand(C)) + 0.5
    trm, trv = torch.tensor(rm), torch.tensor(rv)
    arrays = [x] + ([w, b] if affine else [])
    f = lambda t, *wb: F.batch_norm(t, trm, trv, *(wb or (None, None)), training=True,  # noqa: E731
                                    momentum=0.1, eps=1e-5)
    out, grads, go = torch_grads(f, arrays)
    erm, erv = rm.copy(), rv.copy()
    o, mean, invstd = enn.batch_norm(A(x), A(w) if affine else None, A(b) if affine else None,
                                     A(erm), A(erv), True, 0.1, 1e-5)
    close(o, out)
    np.testing.assert_allclose(erm, trm.numpy(), rtol=1e-12)
    np.testing.assert_allclose(erv, trv.numpy(), rtol=1e-12)
    gx, gw, gb = enn.batch_norm_backward(A(go), A(x), A(w) if affine else None, mean, invstd,
                                         True, (True, affine, affine))
    close(gx, grads[0])
    if affine:
        close(gw, grads[1])
        close(gb, grads[2])


# eval batch norm's sweeps: a plane under one vector, the 14x14 plane of ResNet's layer3
# (12 vectors and a tail), an odd plane, and (N, C) input; float32 checks the single-pass
# sums' rounding against torch's
@pytest.mark.parametrize("shape, dtype", [((2, 3, 4, 4), np.float64), ((3, 5, 14, 14), np.float32),
                                          ((2, 4, 1, 17), np.float32), ((6, 3), np.float64)])
def test_batch_norm_eval_and_relu(shape, dtype):
    C = shape[1]
    x, w, b = rand(*shape, dtype=dtype), rand(C, dtype=dtype), rand(C, dtype=dtype)
    rm, rv = rand(C, dtype=dtype), np.abs(rand(C, dtype=dtype)) + 0.5
    f = lambda t, tw, tb: F.batch_norm(t, torch.tensor(rm), torch.tensor(rv), tw, tb,  # noqa: E731
                                       training=False, eps=1e-3)
    out, grads, go = torch_grads(f, [x, w, b])
    tol = 1e-10 if dtype == np.float64 else 2e-5
    o, mean, invstd = enn.batch_norm(A(x), A(w), A(b), A(rm), A(rv), False, 0.1, 1e-3)
    close(o, out, tol)
    gx, gw, gb = enn.batch_norm_backward(A(go), A(x), A(w), mean, invstd, False)
    close(gx, grads[0], tol)
    close(gw, grads[1], tol)
    close(gb, grads[2], tol)
    close(enn.batch_norm_relu(A(x), A(w), A(b), A(rm), A(rv), 1e-3), torch.relu(out), tol)


def test_batch_norm_errors():
    same_error(lambda: enn.batch_norm(A(rand(2, 3, 4)), None, None, A(rand(4)), A(rand(3)),
                                      False, 0.1, 1e-5),
               lambda: F.batch_norm(torch.randn(2, 3, 4), torch.zeros(4), torch.ones(3)))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        enn.batch_norm(A(rand(1, 3)), None, None, None, None, True, 0.1, 1e-5)


@pytest.mark.parametrize("shape,ns", [((4, 5), (5,)), ((2, 3, 4), (3, 4)), ((2, 3, 4), (4,))])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm(shape, ns, affine):
    x = rand(*shape)
    wb = [rand(*ns), rand(*ns)] if affine else []
    out, grads, go = torch_grads(lambda t, *p: F.layer_norm(t, ns, *p, eps=1e-5), [x] + wb)
    o, mean, rstd = enn.layer_norm(A(x), ns, *(A(a) for a in wb), eps=1e-5)
    close(o, out)
    tm = torch.ops.aten.native_layer_norm(torch.tensor(x), ns, None, None, 1e-5)
    close(mean, tm[1])
    close(rstd, tm[2])
    gx, gw, gb = enn.layer_norm_backward(A(go), A(x), ns, mean, rstd,
                                         *(A(a) for a in wb))
    close(gx, grads[0])
    if affine:
        close(gw, grads[1])
        close(gb, grads[2])


def test_layer_norm_errors():
    same_error(lambda: enn.layer_norm(A(rand(2, 3, 4)), (3,)),
               lambda: F.layer_norm(torch.randn(2, 3, 4), (3,)))
    same_error(lambda: enn.layer_norm(A(rand(2, 3, 4)), (4,), A(rand(3))),
               lambda: F.layer_norm(torch.randn(2, 3, 4), (4,), torch.ones(3)))


@pytest.mark.parametrize("shape,dim", [((3, 5), 1), ((3, 5), 0), ((2, 3, 4), 1), ((2, 3, 4), -1),
                                       ((4,), 0), ((), 0)])
def test_softmax_family(shape, dim):
    x = rand(*shape) * 5
    for tf, ef, eb in ((F.softmax, enn.softmax, enn.softmax_backward),
                       (F.log_softmax, enn.log_softmax, enn.log_softmax_backward)):
        out, (g,), go = torch_grads(lambda t: tf(t, dim), [x])
        o = ef(A(x), dim)
        close(o, out)
        close(eb(A(go), o, dim), g)


def test_softmax_extremes():
    x = np.array([[1000.0, 0.0, -1000.0], [-np.inf, 0.0, 1.0], [np.inf, 0.0, 1.0]])
    for tf, ef in ((F.softmax, enn.softmax), (F.log_softmax, enn.log_softmax)):
        np.testing.assert_allclose(ef(A(x), 1)._np, tf(torch.tensor(x), 1).numpy(), rtol=1e-15)


def test_softmax_errors():
    same_error(lambda: enn.softmax(A(rand(2, 3)), 5), lambda: F.softmax(torch.randn(2, 3), 5))
    same_error(lambda: enn.softmax(A(np.ones((2, 3), np.int64)), 1),
               lambda: F.softmax(torch.ones(2, 3, dtype=torch.long), 1))
    same_error(lambda: enn.log_softmax(A(np.ones((2, 3), np.int64)), 1),
               lambda: F.log_softmax(torch.ones(2, 3, dtype=torch.long), 1))


NLL_CASES = [
    ((5, 4), (5,), {}),
    ((5, 4), (5,), dict(reduction="sum")),
    ((5, 4), (5,), dict(reduction="none")),
    ((5, 4), (5,), dict(weight=True)),
    ((5, 4), (5,), dict(weight=True, ignore_index=2)),
    ((5, 4), (5,), dict(ignore_index=1, reduction="none")),
    ((4,), (), {}),
    ((2, 3, 4), (2, 4), dict(weight=True)),
    ((2, 3, 4, 5), (2, 4, 5), {}),
    ((2, 3, 4, 5), (2, 4, 5), dict(reduction="none", ignore_index=0)),
]


@pytest.mark.parametrize("xs,ts,kw", NLL_CASES)
def test_nll_loss(xs, ts, kw):
    C = xs[1] if len(xs) > 1 else xs[0]
    lp = rand(*xs)
    t = RNG.integers(0, C, size=ts).astype(np.int64)
    w = np.abs(rand(C)) if kw.get("weight") else None
    kw = dict(kw, weight=torch.tensor(w) if w is not None else None)
    out, (g,), go = torch_grads(lambda a: F.nll_loss(a, torch.tensor(t), **kw), [lp])
    red, ign = kw.get("reduction", "mean"), kw.get("ignore_index", -100)
    loss, total = enn.nll_loss(A(lp), A(t), A(w) if w is not None else None, red, ign)
    close(loss, out)
    gi = enn.nll_loss_backward(A(go), A(lp), A(t), A(w) if w is not None else None, red, ign,
                               total)
    close(gi, g)


def test_nll_loss_all_ignored_is_nan():
    lp, t = rand(3, 4), np.full(3, -100, np.int64)
    loss, _ = enn.nll_loss(A(lp), A(t))
    assert np.isnan(loss._np) and np.isnan(F.nll_loss(torch.tensor(lp), torch.tensor(t)).item())


NLL_ERRORS = [
    ((3, 5), [1, 2, 10], {}), ((3, 5), [1, 2, -3], {}), ((3, 5), [1, 2], {}),
    ((3, 5), [1, 2, 3], dict(tdtype="int32")), ((3, 5), [1, 2, 3], dict(weight=4)),
    ((3, 5, 2), [[1, 2], [3, 4], [1, 10]], {}), ((3, 5), [1, 2, 3], dict(reduction="foo")),
    ((2, 3, 4, 5), np.zeros((2, 4, 4), int).tolist(), {}),
]


@pytest.mark.parametrize("xs,t,kw", NLL_ERRORS)
def test_nll_loss_errors(xs, t, kw):
    lp = rand(*xs, dtype=np.float32)
    t = np.array(t, dtype=kw.get("tdtype", "int64"))
    w = np.ones(kw["weight"], np.float32) if "weight" in kw else None
    red = kw.get("reduction", "mean")
    same_error(lambda: enn.nll_loss(A(lp), A(t), A(w) if w is not None else None, red),
               lambda: F.nll_loss(torch.tensor(lp), torch.tensor(t),
                                  torch.tensor(w) if w is not None else None, reduction=red))


def test_embedding():
    w = rand(6, 3)
    idx = np.array([[0, 5, 2], [2, 2, 1]])
    for pad in (None, 2):
        out, (g,), go = torch_grads(lambda t: F.embedding(torch.tensor(idx), t, padding_idx=pad),
                                    [w])
        close(enn.embedding(A(w), A(idx), pad), out)
        close(enn.embedding_backward(A(go), A(idx), 6, pad), g)


def test_embedding_errors():
    w = rand(5, 3, dtype=np.float32)
    for idx in (np.array([1, 5]), np.array([1, -1]), np.array([1.0, 2.0], np.float32)):
        same_error(lambda: enn.embedding(A(w), A(idx)),
                   lambda: F.embedding(torch.tensor(idx), torch.tensor(w)))


def test_dropout_errors():
    same_error(lambda: enn.dropout(A(rand(2, 3)), 1.5, True),
               lambda: F.dropout(torch.randn(2, 3), 1.5))

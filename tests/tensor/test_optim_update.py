"""ember_tensor.optim_update: the fused kernels against plain NumPy versions of torch's
single-tensor formulas, plus the paths around the kernels (threads, copies, bad input)."""
import numpy as np
import pytest

from ember_tensor import Array
from ember_tensor.optim_update import adam_, rmsprop_, sgd_


def _lerp(a, b, w):
    return a + w * (b - a) if abs(w) < 0.5 else b - (b - a) * (1 - w)


def ref_sgd(p, g, buf, lr, momentum, dampening, wd, nesterov, maximize, first):
    g = -g if maximize else g
    if wd:
        g = g + wd * p
    if momentum:
        buf[...] = g if first else buf * momentum + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf.copy()
    p -= lr * g


def ref_adam(p, g, m, v, vmax, step, lr, b1, b2, eps, wd, amsgrad, maximize, decoupled):
    g = -g if maximize else g
    if wd:
        if decoupled:
            p *= 1 - lr * wd
        else:
            g = g + wd * p
    m[...] = _lerp(m, g, 1 - b1)
    v[...] = v * b2 + (1 - b2) * g * g
    denom_src = v
    if amsgrad:
        np.maximum(vmax, v, out=vmax)
        denom_src = vmax
    denom = np.sqrt(denom_src) / (1 - b2 ** step) ** 0.5 + eps
    p += -(lr / (1 - b1 ** step)) * (m / denom)


def ref_rmsprop(p, g, sq, gavg, buf, lr, alpha, eps, wd, momentum, centered, maximize):
    g = -g if maximize else g
    if wd:
        g = g + wd * p
    sq[...] = sq * alpha + (1 - alpha) * g * g
    if centered:
        gavg[...] = _lerp(gavg, g, 1 - alpha)
        avg = np.sqrt(sq - gavg * gavg) + eps
    else:
        avg = np.sqrt(sq) + eps
    if momentum > 0:
        buf[...] = buf * momentum + g / avg
        p -= lr * buf
    else:
        p -= lr * (g / avg)


def _data(dtype, n=3, shape=(4, 5), seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for _ in range(n)]


def _tol(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)


SGD_CASES = [
    dict(lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False),
    dict(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.01, nesterov=True, maximize=False),
    dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.0, nesterov=False, maximize=True),
    # the everyday momentum settings: the kernel's branch-free vector loop after the first step
    dict(lr=0.05, momentum=0.9, dampening=0.2, weight_decay=0.0, nesterov=False, maximize=False),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kw", SGD_CASES)
def test_sgd_matches_reference_over_steps(dtype, kw):
    p0, *grads = _data(dtype, 4)
    p, buf = Array(p0.copy()), Array(np.zeros_like(p0))
    rp, rbuf = p0.copy(), np.zeros_like(p0)
    for t, g in enumerate(grads):
        sgd_(p, Array(g), buf if kw["momentum"] else None, first_step=t == 0, **kw)
        ref_sgd(rp, g, rbuf, kw["lr"], kw["momentum"], kw["dampening"], kw["weight_decay"],
                kw["nesterov"], kw["maximize"], t == 0)
        np.testing.assert_allclose(p._np, rp, **_tol(dtype))
    if kw["momentum"]:
        np.testing.assert_allclose(buf._np, rbuf, **_tol(dtype))
    assert p._np.dtype == dtype


def test_sgd_first_step_sets_buffer_to_grad_without_dampening():
    p, g = Array(np.ones(3, np.float32)), Array(np.full(3, 2.0, np.float32))
    buf = Array(np.full(3, 7.0, np.float32))  # stale content must be ignored
    sgd_(p, g, buf, lr=0.5, momentum=0.9, dampening=0.5, first_step=True)
    np.testing.assert_array_equal(buf._np, [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(p._np, [0.0, 0.0, 0.0])


ADAM_CASES = [
    dict(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False,
         maximize=False, decoupled_weight_decay=False),
    dict(lr=0.02, beta1=0.9, beta2=0.99, eps=1e-6, weight_decay=0.1, amsgrad=True,
         maximize=False, decoupled_weight_decay=False),
    dict(lr=0.01, beta1=0.3, beta2=0.9, eps=1e-8, weight_decay=0.5, amsgrad=True,
         maximize=True, decoupled_weight_decay=True),
    # AdamW's everyday settings, with 1 - beta1 above 0.5 (lerp's other form): the vector loop
    dict(lr=0.01, beta1=0.3, beta2=0.9, eps=1e-8, weight_decay=0.05, amsgrad=False,
         maximize=False, decoupled_weight_decay=True),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kw", ADAM_CASES)
def test_adam_matches_reference_over_steps(dtype, kw):
    p0, *grads = _data(dtype, 5)
    p = Array(p0.copy())
    m, v, vmax = (Array(np.zeros_like(p0)) for _ in range(3))
    rp, rm, rv, rvmax = p0.copy(), *(np.zeros_like(p0) for _ in range(3))
    for t, g in enumerate(grads, 1):
        adam_(p, Array(g), m, v, vmax, step=t, **kw)
        ref_adam(rp, g, rm, rv, rvmax, t, kw["lr"], kw["beta1"], kw["beta2"], kw["eps"],
                 kw["weight_decay"], kw["amsgrad"], kw["maximize"],
                 kw["decoupled_weight_decay"])
        np.testing.assert_allclose(p._np, rp, **_tol(dtype))
    np.testing.assert_allclose(m._np, rm, **_tol(dtype))
    np.testing.assert_allclose(v._np, rv, **_tol(dtype))
    if kw["amsgrad"]:
        np.testing.assert_allclose(vmax._np, rvmax, **_tol(dtype))


RMSPROP_CASES = [
    dict(lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
         maximize=False),
    dict(lr=0.01, alpha=0.9, eps=1e-8, weight_decay=0.05, momentum=0.9, centered=True,
         maximize=False),
    dict(lr=0.02, alpha=0.3, eps=1e-6, weight_decay=0.0, momentum=0.5, centered=True,
         maximize=True),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kw", RMSPROP_CASES)
def test_rmsprop_matches_reference_over_steps(dtype, kw):
    p0, *grads = _data(dtype, 5)
    p = Array(p0.copy())
    sq, gavg, buf = (Array(np.zeros_like(p0)) for _ in range(3))
    rp, rsq, rgavg, rbuf = p0.copy(), *(np.zeros_like(p0) for _ in range(3))
    for g in grads:
        rmsprop_(p, Array(g), sq, gavg, buf, **kw)
        ref_rmsprop(rp, g, rsq, rgavg, rbuf, kw["lr"], kw["alpha"], kw["eps"],
                    kw["weight_decay"], kw["momentum"], kw["centered"], kw["maximize"])
        np.testing.assert_allclose(p._np, rp, **_tol(dtype))
    np.testing.assert_allclose(sq._np, rsq, **_tol(dtype))


def test_unused_buffers_are_left_alone():
    p0, g = _data(np.float32, 2)
    sentinel = np.full_like(p0, 3.0)
    gavg, buf = Array(sentinel.copy()), Array(sentinel.copy())
    rmsprop_(Array(p0.copy()), Array(g), Array(np.zeros_like(p0)), gavg, buf, lr=0.1,
             momentum=0.0, centered=False)
    np.testing.assert_array_equal(gavg._np, sentinel)
    np.testing.assert_array_equal(buf._np, sentinel)


def test_large_tensor_threaded_path_equals_serial_reference():
    # above the kernel's parallel threshold, so blocks are split across threads
    n = 300_001
    rng = np.random.default_rng(3)
    p0, g = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)
    m, v = Array(np.zeros(n, np.float32)), Array(np.zeros(n, np.float32))
    p = Array(p0.copy())
    adam_(p, Array(g), m, v, None, step=1, lr=0.1)
    rp, rm, rv = p0.copy(), np.zeros(n, np.float32), np.zeros(n, np.float32)
    ref_adam(rp, g, rm, rv, None, 1, 0.1, 0.9, 0.999, 1e-8, 0.0, False, False, False)
    np.testing.assert_allclose(p._np, rp, rtol=1e-5, atol=1e-6)
    assert np.isfinite(p._np).all()


def test_sgd_threaded_path_matches_one_thread():
    # SGD shares the team only from 8M elements (optim.pyx: SGD_PARALLEL_MIN); both paths
    # compute each element alone, so the bits are the same
    import ember_tensor
    n = (1 << 23) + 5
    rng = np.random.default_rng(4)
    p0 = rng.standard_normal(n).astype(np.float32)
    g = rng.standard_normal(n).astype(np.float32)
    b0 = rng.standard_normal(n).astype(np.float32)
    old = ember_tensor.get_num_threads()
    got = []
    try:
        for threads in (1, 2):
            ember_tensor.set_num_threads(threads)
            p, buf = Array(p0.copy()), Array(b0.copy())
            sgd_(p, Array(g), buf, lr=0.1, momentum=0.9)
            got.append((p._np, buf._np))
    finally:
        ember_tensor.set_num_threads(old)
    np.testing.assert_array_equal(got[0][0], got[1][0])
    np.testing.assert_array_equal(got[0][1], got[1][1])
    b = b0 * np.float32(0.9) + g
    np.testing.assert_allclose(got[0][1], b, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got[0][0], p0 - np.float32(0.1) * b, rtol=1e-6, atol=1e-6)


def test_non_contiguous_param_and_grad_are_updated_in_place():
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    p = Array(base.T)  # a transposed view: the update must land in ``base``
    g = Array(np.ones((6, 4))[:, :])
    gview = Array(np.ones((6, 8))[:, ::2])
    buf = Array(np.zeros((6, 4)))
    expected = base.T - 0.5
    sgd_(p, gview, buf, lr=0.5, momentum=0.9, first_step=True)
    np.testing.assert_allclose(base.T, expected)
    np.testing.assert_allclose(buf._np, 1.0)
    sgd_(p, g, None, lr=0.5)
    np.testing.assert_allclose(base.T, expected - 0.5)


def test_float16_goes_through_a_float32_copy():
    p = Array(np.ones(4, np.float16))
    sgd_(p, Array(np.full(4, 2.0, np.float16)), None, lr=0.25)
    assert p._np.dtype == np.float16
    np.testing.assert_array_equal(p._np, [0.5] * 4)


def test_empty_tensor_is_a_no_op():
    p = Array(np.zeros((0, 3), np.float32))
    adam_(p, Array(np.zeros((0, 3), np.float32)), Array(np.zeros((0, 3), np.float32)),
          Array(np.zeros((0, 3), np.float32)), None, step=1, lr=0.1)
    assert p._np.shape == (0, 3)


def test_wrong_shape_is_a_runtime_error():
    p = Array(np.zeros(3, np.float32))
    with pytest.raises(RuntimeError, match="grad has shape"):
        sgd_(p, Array(np.zeros(4, np.float32)), None, lr=0.1)
    with pytest.raises(RuntimeError, match="exp_avg_sq has shape"):
        adam_(p, Array(np.zeros(3, np.float32)), Array(np.zeros(3, np.float32)),
              Array(np.zeros((3, 1), np.float32)), None, step=1, lr=0.1)


def test_wrong_dtype_is_a_runtime_error():
    p = Array(np.zeros(3, np.float32))
    with pytest.raises(RuntimeError, match="dtype"):
        sgd_(p, Array(np.zeros(3, np.float64)), None, lr=0.1)
    with pytest.raises(RuntimeError, match="floating point"):
        sgd_(Array(np.zeros(3, np.int64)), Array(np.zeros(3, np.int64)), None, lr=0.1)


def test_missing_buffer_is_a_runtime_error_not_a_crash():
    p, g = Array(np.zeros(3, np.float32)), Array(np.zeros(3, np.float32))
    with pytest.raises(RuntimeError, match="momentum_buffer is required"):
        sgd_(p, g, None, lr=0.1, momentum=0.9)
    with pytest.raises(RuntimeError, match="max_exp_avg_sq is required"):
        adam_(p, g, Array(np.zeros(3, np.float32)), Array(np.zeros(3, np.float32)), None,
              step=1, lr=0.1, amsgrad=True)
    with pytest.raises(RuntimeError, match="grad_avg is required"):
        rmsprop_(p, g, Array(np.zeros(3, np.float32)), None, None, lr=0.1, centered=True)


def test_non_array_arguments_are_type_errors():
    p = Array(np.zeros(3, np.float32))
    with pytest.raises(TypeError, match="must be Array"):
        sgd_(p, np.zeros(3, np.float32), None, lr=0.1)
    with pytest.raises(TypeError, match="must be Array"):
        sgd_(np.zeros(3, np.float32), p, None, lr=0.1)


def test_raw_kernel_rechecks_its_buffers():
    # the Cython entry point refuses mismatched buffers on its own (the loops have no checks)
    from ember_tensor._kernels import optim as k
    p = np.zeros(4, np.float32)
    with pytest.raises(RuntimeError):
        k.sgd(p, np.zeros(3, np.float32), None, 0.1, 0.0, 0.0, 0.0, False, False, False)
    with pytest.raises(RuntimeError):
        k.sgd(p, np.zeros(4, np.float64), None, 0.1, 0.0, 0.0, 0.0, False, False, False)
    with pytest.raises(RuntimeError):
        k.sgd(p, np.zeros(8, np.float32)[::2], None, 0.1, 0.0, 0.0, 0.0, False, False, False)
    with pytest.raises(RuntimeError):
        k.adam(p, p.copy(), p.copy(), None, None, 1.0, 0.1, 0.9, 0.999, 1e-8, 0.0,
               False, False, False)


@pytest.mark.parametrize("kw", [
    {"momentum": 0.0}, {"momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01},
    {"momentum": 0.9, "nesterov": True, "maximize": True},
])
def test_sgd_direct_and_copying_paths_agree_bitwise(kw):
    # contiguous float32 Arrays go straight to the kernel; strided views of the same values
    # go through the checked path's working copies: both must give the same bits
    p0, g, b0 = _data(np.float32)
    direct_p, direct_b = Array(p0.copy()), Array(b0.copy())
    wide = np.zeros((4, 10), np.float32)
    wide_g, wide_b = wide.copy(), wide.copy()
    wide[:, ::2], wide_g[:, ::2], wide_b[:, ::2] = p0, g, b0
    strided_p, strided_b = Array(wide[:, ::2]), Array(wide_b[:, ::2])
    momentum = kw["momentum"]
    for first in (True, False):
        sgd_(direct_p, Array(g), direct_b if momentum else None, lr=0.1, first_step=first, **kw)
        sgd_(strided_p, Array(wide_g[:, ::2]), strided_b if momentum else None, lr=0.1,
             first_step=first, **kw)
    np.testing.assert_array_equal(direct_p._np, wide[:, ::2])
    np.testing.assert_array_equal(direct_b._np, wide_b[:, ::2])

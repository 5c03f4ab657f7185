"""batch_norm's and batch_norm_backward's fast argument path (normalization.FAST_ARGUMENTS:
the kernels called straight on Arrays they can take as they are) against the general path:
the same bits for every output and running-statistic update, over dtypes, ranks, absent
parameters, train/eval, the fused ReLU and output masks; arguments it must not take
(non-contiguous, read-only statistics, float16, empty, ndarrays) still give the general
path's results and errors."""
import numpy as np
import pytest

from ember_tensor import from_numpy, nn
from ember_tensor.nn import normalization as NM


def _arr(a):
    return None if a is None else from_numpy(a)


def _both(monkeypatch, fn, *make_args):
    """``fn`` on fresh copies of the arguments, fast path off then on; each result as
    ndarrays, with the arguments afterwards (the running statistics are updated in place)."""
    results = []
    for fast in (False, True):
        monkeypatch.setattr(NM, "FAST_ARGUMENTS", fast)
        args = [np.copy(a) if isinstance(a, np.ndarray) else a for a in make_args]
        outs = fn(*[_arr(a) if isinstance(a, np.ndarray) else a for a in args])
        results.append(([None if o is None else o._np.copy() for o in outs],
                        [a for a in args if isinstance(a, np.ndarray)]))
    return results


def _same(r0, r1):
    for a, b in zip(r0[0] + r0[1], r1[0] + r1[1]):
        assert (a is None) == (b is None)
        if a is not None:
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a, b)


def _params(rng, C, pdtype, affine, stats):
    w = (rng.random(C) + 0.5).astype(pdtype) if affine else None
    b = rng.standard_normal(C).astype(pdtype) if affine else None
    rm = rng.standard_normal(C).astype(pdtype) if stats else None
    rv = (rng.random(C) + 0.1).astype(pdtype) if stats else None
    return w, b, rm, rv


@pytest.mark.parametrize("shape", [(1, 64, 8, 8), (3, 5, 7), (4, 6), (2, 3, 2, 2, 3)])
@pytest.mark.parametrize("xdtype, pdtype", [(np.float32, np.float32), (np.float64, np.float32),
                                            (np.float32, np.float64)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("relu", [False, True])
def test_forward_fast_path_is_the_general_path(monkeypatch, shape, xdtype, pdtype, training,
                                               affine, relu):
    rng = np.random.default_rng(11)
    x = rng.standard_normal(shape).astype(xdtype)
    w, b, rm, rv = _params(rng, shape[1], pdtype, affine, True)
    r0, r1 = _both(monkeypatch, lambda *a: nn.batch_norm(*a, training, 0.3, 1e-3, relu=relu),
                   x, w, b, rm, rv)
    _same(r0, r1)
    if training:  # the running statistics moved (and alike on both paths)
        assert not np.array_equal(r1[1][-1], rv)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("mask", [(True, True, True), (True, False, False), (False, True, True),
                                  (False, False, True)])
@pytest.mark.parametrize("xdtype", [np.float32, np.float64])
def test_backward_fast_path_is_the_general_path(monkeypatch, training, mask, xdtype):
    rng = np.random.default_rng(12)
    x = rng.standard_normal((2, 5, 4, 3)).astype(xdtype)
    go = rng.standard_normal(x.shape).astype(xdtype)
    w, b, rm, rv = _params(rng, 5, np.float32, True, True)
    _, mean, invstd = nn.batch_norm(_arr(x), _arr(w), _arr(b), _arr(rm), _arr(rv), training,
                                    0.1, 1e-5)
    r0, r1 = _both(monkeypatch,
                   lambda *a: nn.batch_norm_backward(*a, training, output_mask=mask),
                   go, x, w, mean._np, invstd._np)
    _same(r0, r1)
    assert [o is None for o in r1[0]] == [not m for m in mask]


def test_fast_path_takes_the_usual_arguments_and_refuses_the_rest(monkeypatch):
    rng = np.random.default_rng(13)
    x = rng.standard_normal((2, 4, 3, 3)).astype(np.float32)
    w, b, rm, rv = (_arr(a) for a in _params(rng, 4, np.float32, True, True))
    assert NM._fast_batch_norm(_arr(x), w, b, rm, rv, True, 0.1, 1e-5, False) is not None
    refused = [
        (_arr(x.transpose(0, 1, 3, 2)), w, b, rm, rv, True),  # non-contiguous input
        (_arr(x.astype(np.float16)), w, b, rm, rv, True),
        (_arr(x[:0]), w, b, rm, rv, True),  # empty
        (x, w, b, rm, rv, True),  # an ndarray, not an Array
        (_arr(x), _arr(np.ones(5, np.float32)), b, rm, rv, True),  # wrong channel count
        (_arr(x), _arr(np.ones(4, np.int64)), b, rm, rv, True),
        (_arr(x), w, b, _arr(np.zeros(8, np.float32)[::2]), rv, True),  # strided statistic
        (_arr(x), w, b, None, None, False),  # eval without statistics: the error's path
        (_arr(x[:1, :, :1, :1]), w, b, rm, rv, True),  # one value per channel: the error
    ]
    ro = np.zeros(4, np.float32)
    ro.flags.writeable = False
    refused.append((_arr(x), w, b, _arr(ro), rv, True))
    for args in refused:
        assert NM._fast_batch_norm(*args, 0.1, 1e-5, False) is None
    # and the general path still raises its errors for them
    with pytest.raises(RuntimeError, match="weight should contain 4 elements not 5"):
        nn.batch_norm(_arr(x), _arr(np.ones(5, np.float32)), b, rm, rv, True, 0.1, 1e-5)
    with pytest.raises(RuntimeError, match="running_mean and running_var must be defined"):
        nn.batch_norm(_arr(x), w, b, None, None, False, 0.1, 1e-5)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        nn.batch_norm(_arr(x[:1, :, :1, :1]), w, b, rm, rv, True, 0.1, 1e-5)
    go = _arr(np.ones((2, 4, 3, 3), np.float64))
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        nn.batch_norm_backward(go, _arr(x), w, rm, rv, True)
    with pytest.raises(RuntimeError, match="expected grad_output of size"):
        nn.batch_norm_backward(_arr(np.ones((2, 4, 3, 2), np.float32)), _arr(x), w, rm, rv,
                               True)


def test_read_only_running_statistic_updates_through_the_general_path(monkeypatch):
    rng = np.random.default_rng(14)
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    for fast in (False, True):
        monkeypatch.setattr(NM, "FAST_ARGUMENTS", fast)
        rm = np.zeros(3, np.float32)
        rm.flags.writeable = False
        with pytest.raises(ValueError):  # the general path writes it back and NumPy refuses
            nn.batch_norm(_arr(x), None, None, _arr(rm), _arr(np.ones(3, np.float32)), True,
                          0.1, 1e-5)

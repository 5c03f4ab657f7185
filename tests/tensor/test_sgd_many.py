"""sgd_many_: one pass over many parameters gives the bits of sgd_ on each in turn, at
any thread count and setting; arrays that share memory fall back to one by one."""
import numpy as np
import pytest

import ember_tensor
from ember_tensor import Array
from ember_tensor._kernels import optim as _k
from ember_tensor.optim_update import direct_sgd, sgd_, sgd_many_

# sizes around the kernel's 32768-element block, an empty one, and enough in all (8.4M)
# for the team to share the pass
SIZES = [64, 1, 0, 32768, 32769, 100003, 4 << 20, 2359296 + 7, 1 << 21]


def _arrays(dtype, seed, sizes=SIZES):
    rng = np.random.default_rng(seed)
    return ([rng.standard_normal(n).astype(dtype) for n in sizes],
            [rng.standard_normal(n).astype(dtype) for n in sizes],
            [rng.standard_normal(n).astype(dtype) for n in sizes])


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("settings", [
    {"momentum": 0.9}, {"momentum": 0.0}, {"momentum": 0.8, "dampening": 0.3},
    {"momentum": 0.9, "weight_decay": 1e-3, "nesterov": True},
    {"momentum": 0.5, "maximize": True},
])
def test_bits_of_sgd_on_each(threads, dtype, settings):
    old = ember_tensor.get_num_threads()
    ember_tensor.set_num_threads(threads)
    try:
        ps, gs, bs = _arrays(dtype, 1)
        want_p, want_b = [p.copy() for p in ps], [b.copy() for b in bs]
        momentum = settings["momentum"]
        for p, g, b in zip(want_p, gs, want_b):
            sgd_(Array(p), Array(g), Array(b) if momentum else None, lr=0.01, **settings)
        sgd_many_(ps, gs, bs if momentum else None, lr=0.01, **settings)
    finally:
        ember_tensor.set_num_threads(old)
    for got, want in zip(ps + bs, want_p + want_b):
        np.testing.assert_array_equal(got, want)
    assert any((p != p0).any() for p, p0 in zip(ps, _arrays(dtype, 1)[0]))


def test_shared_memory_is_updated_one_by_one():
    # the same parameter twice (torch warns and updates it twice, in order), and a grad
    # that is its parameter's own memory
    ps, gs, bs = _arrays(np.float32, 2, [50000, 70000])
    twice = [ps[0], ps[1], ps[0]]
    grads, bufs = [gs[0], gs[1], gs[0]], [bs[0], bs[1], bs[0]]
    want = [a.copy() for a in (ps[0], ps[1], bs[0], bs[1])]
    wp, wb = [want[0], want[1], want[0]], [want[2], want[3], want[2]]
    for p, g, b in zip(wp, grads, wb):
        sgd_(Array(p), Array(g), Array(b), lr=0.1, momentum=0.9)
    assert not _k.sgd_many([ps[0].copy(), ps[0]], [gs[0], gs[0]], None, 0.1, 0.0, 0.0, 0.0,
                           False, False)
    sgd_many_(twice, grads, bufs, lr=0.1, momentum=0.9)
    for got, w in zip((ps[0], ps[1], bs[0], bs[1]), want):
        np.testing.assert_array_equal(got, w)
    p = ps[1].copy()
    ref = p.copy()
    sgd_(Array(ref), Array(ref), None, lr=0.1)
    sgd_many_([p], [p], None, lr=0.1)
    np.testing.assert_array_equal(p, ref)


def test_refusals():
    ps, gs, bs = _arrays(np.float32, 3, [10, 20])
    with pytest.raises(RuntimeError, match="contiguous"):
        sgd_many_(ps, [gs[0], gs[1][::2].copy()[:5]], bs, lr=0.1, momentum=0.9)
    with pytest.raises(RuntimeError, match="contiguous"):
        sgd_many_(ps, [gs[0], gs[1].astype(np.float64)], bs, lr=0.1, momentum=0.9)
    with pytest.raises(RuntimeError, match="exactly when"):
        sgd_many_(ps, gs, None, lr=0.1, momentum=0.9)
    with pytest.raises(RuntimeError, match="float32 or float64"):
        sgd_many_([p.astype(np.float16) for p in ps], gs, None, lr=0.1)
    ro = ps[0].copy()
    ro.flags.writeable = False
    with pytest.raises(RuntimeError, match="writeable"):
        sgd_many_([ro, ps[1]], gs, None, lr=0.1)
    assert not direct_sgd(Array(ps[0][::2]), Array(gs[0][::2]), None)
    assert direct_sgd(Array(ps[0]), Array(gs[0]), Array(bs[0]))

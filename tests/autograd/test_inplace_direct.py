"""``F.relu(x, inplace=True)`` in grad mode rectifies x's memory with the in-place kernel
(``inplace.recorded_in_place``) instead of computing relu out of place and copying it back.
Everything observable must be what the general in-place form (``x.relu_()``) gives: values,
node, versions, the saved output's version check, gradients, hooks; views and read-only
memory still take the general form."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember._ops import nn as nn_ops


def _pair(shape=(2, 3, 4), dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    x0 = (rng.standard_normal(shape) * 2).astype(dtype)
    x0.flat[0] = np.nan  # a NaN passes relu and its gradient, on both paths
    return x0


def _run(x0, direct, after=None):
    x = ember.tensor(x0, requires_grad=True)
    y = x * 3.0
    if direct:
        out = F.relu(y, inplace=True)
    else:
        out = y.relu_()  # the general in-place form
    assert out is y
    if after is not None:
        after(y)
    loss = (y * ember.tensor(np.arange(y.numel(), dtype=x0.dtype).reshape(x0.shape))).sum()
    loss.backward()
    return x, y


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5,), (2, 3, 4), (1, 4, 3, 3)])
def test_direct_path_matches_the_general_form(shape, dtype):
    x0 = _pair(shape, dtype)
    xa, ya = _run(x0, True)
    xb, yb = _run(x0, False)
    np.testing.assert_array_equal(ya.detach().numpy(), yb.detach().numpy())
    np.testing.assert_array_equal(xa.grad.numpy(), xb.grad.numpy())
    assert type(ya.grad_fn) is type(yb.grad_fn)
    assert ya._version == yb._version == 1
    assert ya.grad_fn.next_functions[0][0].name() == "MulBackward0"


def test_the_direct_path_is_taken(monkeypatch):
    calls = []
    real = nn_ops.recorded_in_place
    monkeypatch.setattr(nn_ops, "recorded_in_place",
                        lambda *a: calls.append(1) or real(*a))
    y = ember.tensor([-1.0, 2.0], requires_grad=True) * 1.0
    F.relu(y, inplace=True)
    assert calls == [1]


def test_saved_output_is_version_checked_as_in_the_general_form():
    def bump(y):
        y.add_(1.0)

    for direct in (True, False):
        x = ember.tensor([-1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2.0
        z = F.relu(y, inplace=True) if direct else y.relu_()
        w = z * z  # saves z as it is now
        bump(y)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            w.sum().backward()
    # the relu node's own saved output: modified after the relu, before backward
    for direct in (True, False):
        x = ember.tensor([-1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2.0
        node_out = F.relu(y, inplace=True) if direct else y.relu_()
        relu_node = node_out.grad_fn
        y.mul_(2.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            relu_node.saved_tensors


def test_saved_output_unpacks_with_the_relu_node_as_grad_fn():
    y = ember.tensor([-1.0, 2.0], requires_grad=True) * 1.0
    F.relu(y, inplace=True)
    (saved,) = y.grad_fn.saved_tensors
    assert saved.grad_fn is y.grad_fn
    np.testing.assert_array_equal(saved.detach().numpy(), [0.0, 2.0])


def test_hooks_on_the_result_and_retain_grad():
    seen = []
    x = ember.tensor([-1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2.0
    F.relu(y, inplace=True)
    y.retain_grad()
    y.register_hook(lambda g: seen.append(g.numpy().copy()))
    y.sum().backward()
    np.testing.assert_array_equal(seen[0], [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 2.0, 2.0])


def test_a_view_takes_the_general_form(monkeypatch):
    monkeypatch.setattr(nn_ops, "recorded_in_place",
                        lambda *a: pytest.fail("a view must take the general form"))
    x = ember.tensor(np.arange(-3.0, 3.0, dtype=np.float32), requires_grad=True)
    base = x * 1.0
    view = base[1:4]
    F.relu(view, inplace=True)
    assert type(base.grad_fn).__name__ == "CopySlices"
    base.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 0, 0, 0, 1, 1])  # relu' = 0 at 0
    # a tensor with live views takes it too: the views must see the new history
    base2 = x * 1.0
    v2 = base2[:2]
    F.relu(base2, inplace=True)
    assert type(v2.grad_fn).__name__ == "AsStridedBackward0"


def test_read_only_memory_raises_as_the_general_form():
    messages = []
    for direct in (True, False):
        x = ember.tensor([-1.0, 2.0], requires_grad=True)
        y = x * 1.0
        y._data._np.flags.writeable = False
        with pytest.raises(Exception) as info:
            if direct:
                F.relu(y, inplace=True)
            else:
                y.relu_()
        messages.append((type(info.value), str(info.value)))
        assert y._version == 0 and type(y.grad_fn).__name__ == "MulBackward0"
    assert messages[0] == messages[1]


# ---- the relu loop itself: fast_path.unary_inplace for contiguous float32/float64 --------
@pytest.mark.parametrize("grad", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("shape", [(7,), (1, 64, 16, 16), (1, 64, 32, 32)])
def test_relu_memory_is_the_out_of_place_relu(monkeypatch, grad, dtype, shape):
    from ember_tensor._kernels import fast_path
    calls = []
    real = fast_path.unary_inplace
    monkeypatch.setattr(nn_ops, "_unary_inplace", lambda n, a: calls.append(real(n, a))
                        or calls[-1])
    x0 = (np.random.default_rng(2).standard_normal(shape) * 3).astype(dtype)
    if x0.size:
        x0.flat[0], x0.flat[-1] = np.nan, -0.0
    want = ember.tensor(x0).relu().numpy()
    x = ember.tensor(x0, requires_grad=grad)
    y = x * 1.0 if grad else x
    assert F.relu(y, inplace=True) is y and y._version == 1
    assert y.detach().numpy().tobytes() == want.tobytes()
    assert calls == [dtype != np.float16]  # (1, 64, 32, 32): past the work bound


def test_relu_memory_refuses_strided_and_read_only():
    from ember_tensor import Array
    from ember_tensor._kernels import fast_path
    a = np.arange(-6.0, 6.0, dtype=np.float32).reshape(3, 4)
    assert fast_path.unary_inplace("relu", Array(a.T)) is False
    r = a.copy()
    r.flags.writeable = False
    assert fast_path.unary_inplace("relu", Array(r)) is False
    assert fast_path.unary_inplace("relu", Array(a.astype(np.int64))) is False
    assert fast_path.unary_inplace("relu", a) is False  # not an Array
    np.testing.assert_array_equal(r, np.arange(-6.0, 6.0).reshape(3, 4))

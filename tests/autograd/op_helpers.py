"""Test helpers: compare an ember expression with the same torch expression.

``helper_test_op(shapes, torch_fn, ember_fn)`` builds random inputs of ``shapes`` in both
frameworks, runs the functions, and checks shape, dtype and values of the outputs, then the
gradients of every input after backpropagating the same random cotangent. ``helper_test_exc``
checks that both raise the same exception type. torch is imported only when called (tests).
"""
import numpy as np

__all__ = ["helper_test_op", "helper_test_exc", "assert_close"]


def _to_np(x):
    if hasattr(x, "detach"):
        x = x.detach()
    if hasattr(x, "numpy"):
        return np.asarray(x.numpy())
    return np.asarray(x)


def assert_close(actual, expected, atol=1e-5, rtol=1e-4, what="value"):
    a, e = _to_np(actual), _to_np(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
    if a.dtype == np.bool_ or e.dtype == np.bool_:
        assert (a == e).all(), f"{what}: {a} != {e}"
        return
    np.testing.assert_allclose(a, e, atol=atol, rtol=rtol, err_msg=what)


def _flat(out):
    return out if isinstance(out, (tuple, list)) else (out,)


def helper_test_op(shapes, torch_fn, ember_fn=None, atol=1e-5, rtol=1e-4, grad_atol=None,
                   grad_rtol=None, low=-2.0, high=2.0, dtype="float32", seed=0, grad=True,
                   check_grad_fn=True):
    """Run ``torch_fn`` and ``ember_fn`` (default: the same function) on equal random inputs;
    assert equal shapes, dtypes, values, grad_fn names, and gradients."""
    import torch

    import ember

    ember_fn = ember_fn or torch_fn
    rng = np.random.default_rng(seed)
    data = [rng.uniform(low, high, size=s).astype(dtype) for s in shapes]
    tt = [torch.tensor(d, requires_grad=grad) for d in data]
    et = [ember.tensor(d, requires_grad=grad) for d in data]
    t_out, e_out = _flat(torch_fn(*tt)), _flat(ember_fn(*et))
    assert len(t_out) == len(e_out)
    for t, e in zip(t_out, e_out):
        assert tuple(t.shape) == tuple(e.shape), f"shape {tuple(e.shape)} != {tuple(t.shape)}"
        assert str(t.dtype).split(".")[1] == e.dtype.name, f"dtype {e.dtype} != {t.dtype}"
        assert_close(e, t, atol, rtol, "forward")
        if check_grad_fn and grad:
            tn = type(t.grad_fn).__name__ if t.grad_fn is not None else None
            en = e.grad_fn.name() if e.grad_fn is not None else None
            assert tn == en, f"grad_fn {en} != {tn}"
    if not grad:
        return
    diff = [(t, e) for t, e in zip(t_out, e_out) if t.requires_grad]
    if not diff:
        return
    t_sum = sum((t * torch.tensor(c)).sum() for (t, _), c in
                zip(diff, [rng.uniform(-1, 1, size=tuple(t.shape)).astype(dtype) for t, _ in diff]))
    rng = np.random.default_rng(seed + 1)
    cot = [rng.uniform(-1, 1, size=tuple(t.shape)).astype(dtype) for t, _ in diff]
    t_sum = sum((t * torch.tensor(c)).sum() for (t, _), c in zip(diff, cot))
    e_sum = None
    for (_, e), c in zip(diff, cot):
        term = (e * ember.tensor(c)).sum()
        e_sum = term if e_sum is None else e_sum + term
    t_sum.backward()
    e_sum.backward()
    for i, (t, e) in enumerate(zip(tt, et)):
        if t.grad is None:
            assert e.grad is None, f"input {i}: ember has a grad, torch has none"
            continue
        assert e.grad is not None, f"input {i}: ember has no grad"
        assert_close(e.grad, t.grad, grad_atol or atol * 10, grad_rtol or rtol * 10,
                     f"grad of input {i}")


def helper_test_exc(torch_fn, ember_fn=None, match_message=True):
    """Both raise the same exception type (and, by default, the same message)."""
    import torch  # noqa: F401

    ember_fn = ember_fn or torch_fn
    t_exc = e_exc = None
    try:
        torch_fn(__import__("torch"))
    except Exception as exc:  # noqa: BLE001 - comparing whatever torch raises
        t_exc = exc
    try:
        ember_fn(__import__("ember"))
    except Exception as exc:  # noqa: BLE001
        e_exc = exc
    assert t_exc is not None, "torch did not raise"
    assert e_exc is not None, f"ember did not raise (torch raised {t_exc!r})"
    assert type(e_exc) is type(t_exc), f"{type(e_exc).__name__} != {type(t_exc).__name__}"
    if match_message:
        assert str(e_exc).replace("ember.", "torch.") == str(t_exc), (str(e_exc), str(t_exc))

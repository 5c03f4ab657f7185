"""test_dropin_refusals.py's cases against live torch: what torch refuses, Ember refuses with
the same exception type and message (loss target dtypes and shapes, tensors inside
``tensor([...])``, in-place writes over a saved output)."""
import pytest

torch = pytest.importorskip("torch")

from dropin_helpers import same as _same  # noqa: E402


def same(fn):
    _same(torch, fn)


SHAPES = [((4, 3), (4,)), ((4, 3), (3,)), ((4, 3), ()), ((4, 3), (4, 2)), ((4, 3), (4, 1)),
          ((3,), ()), ((3,), (1,)), ((3,), (3,)), ((1, 3), ()), ((2, 3, 5), (2, 5)),
          ((2, 3, 5), (2, 4)), ((2, 3, 5), (2,)), ((2, 3, 4, 4), (2, 4, 4)),
          ((2, 3, 4, 4), (2, 4, 3)), ((2, 3, 4, 4), (3, 4, 4)), ((2, 3, 2, 2, 2), (2, 2, 2, 1))]


@pytest.mark.parametrize("fn", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "uint8", "float32", "bool"])
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_class_target_checks(fn, dtype, shapes):
    xs, ts = shapes
    if dtype == "float32" and fn == "cross_entropy" and xs == ts:
        pytest.skip("class probabilities: a value, checked elsewhere (torch gives -0.)")
    same(lambda L: getattr(L.nn.functional, fn)(
        L.zeros(*xs), L.zeros(ts, dtype=getattr(L, dtype))))


def test_cross_entropy_module_batch_mismatch():
    same(lambda L: L.nn.CrossEntropyLoss()(L.zeros(4, 3), L.tensor([0, 1, 2])))


# (a float16 target gives a float16 loss in torch, computed in float16: not matched)
@pytest.mark.parametrize("tdtype", ["int64", "int32", "uint8", "bool", "float64"])
@pytest.mark.parametrize("xdtype", ["float32", "float64"])
@pytest.mark.parametrize("how", ["functional", "module", "pos_weight"])
def test_bce_with_logits_target_dtype(tdtype, xdtype, how):
    def run(L):
        x = L.tensor([0.5, -1.0, 2.0, 0.0], dtype=getattr(L, xdtype))
        t = L.tensor([0, 1, 1, 0]).to(getattr(L, tdtype))
        if how == "module":
            return L.nn.BCEWithLogitsLoss()(x, t)
        if how == "pos_weight":
            return L.nn.functional.binary_cross_entropy_with_logits(
                x, t, pos_weight=L.ones(4, dtype=getattr(L, xdtype)))
        return L.nn.functional.binary_cross_entropy_with_logits(x, t)
    same(run)


@pytest.mark.parametrize("make", [
    lambda L: [L.tensor([1., 2.]), L.tensor([3., 4.])],
    lambda L: (L.ones(2), L.ones(2)),
    lambda L: [[L.ones(2)]],
    lambda L: [L.zeros(0)],
    lambda L: [L.tensor([1.]), L.tensor([3.])],
    lambda L: [L.tensor([1], dtype=L.int32), L.tensor([[2]], dtype=L.int32)],
    lambda L: [L.tensor([1], dtype=L.int32), 2.5],
    lambda L: [[L.ones(1), L.ones(1)], [L.ones(1), L.ones(1)]],
    lambda L: [L.ones(1, dtype=L.float16)],
    lambda L: [L.ones(1, dtype=L.bool), L.tensor(True)],
    lambda L: [L.ones(1, dtype=L.float64)],
])
@pytest.mark.parametrize("create", ["tensor", "as_tensor"])
def test_tensors_inside_tensor_literal(make, create):
    same(lambda L: getattr(L, create)(make(L)))


def _backward(body):
    def run(L):
        x = L.tensor([1.0, -2.0, 3.0], requires_grad=True)
        body(L, x).sum().backward()
        return x.grad
    return run


@pytest.mark.parametrize("body", [
    lambda L, x: L.sigmoid(x).mul_(2),
    lambda L, x: L.exp(x).mul_(2),
    lambda L, x: L.tanh(x).add_(1),
    lambda L, x: L.nn.functional.softmax(x, 0).mul_(2),
    lambda L, x: (x * 1).relu_().mul_(2),
    lambda L, x: L.nn.functional.relu(x * 1, inplace=True).mul_(2),
    lambda L, x: (x * 2).sigmoid_().mul_(3),
    lambda L, x: (x * 1).exp_().mul_(2),
    lambda L, x: (x * 1).tanh_().tanh_(),
    lambda L, x: (x * 1).relu_() * 2,
    lambda L, x: (x * 1).sigmoid_() + 1,
    lambda L, x: (-x).mul_(2),
])
def test_inplace_over_saved_output(body):
    same(_backward(body))

"""BCELoss, SmoothL1Loss, HuberLoss, ELU, Softplus and normalize against live torch: values,
printed results (grad_fn names), gradients and errors."""
import pytest

torch = pytest.importorskip("torch")

import ember  # noqa: E402
from dropin_helpers import outcome  # noqa: E402
from dropin_helpers import same as _same  # noqa: E402


def same(fn):
    _same(torch, fn)


X = [0.2, 0.9, 0.0, 1.0, 0.5, 0.01]
T = [0.0, 1.0, 1.0, 0.0, 0.3, 1.0]
V = [-3.0, -1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 2.5, 30.0]
W = [0.5, -2.0, 0.5, 0.0, 0.0, 0.6, 3.0, 1.0, 29.0]


def _value_and_grads(make, dtype, inputs, grads_of=(0, 1)):
    def run(L):
        ts = [L.tensor(v, dtype=getattr(L, dtype), requires_grad=i in grads_of)
              for i, v in enumerate(inputs)]
        out = make(L, *ts)
        out.sum().backward()
        return out, [t.grad for t in ts]
    return run


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("make", [
    lambda L, x, t: L.nn.functional.binary_cross_entropy(x, t, reduction=R),
    lambda L, x, t: L.nn.BCELoss(reduction=R)(x, t),
    lambda L, x, t: L.nn.BCELoss(weight=L.linspace(0, 2, 6).to(x.dtype), reduction=R)(x, t),
    lambda L, x, t: L.nn.functional.binary_cross_entropy(
        x.view(2, 3), t.view(2, 3), weight=L.tensor([1.0, 2.0, 0.5], dtype=x.dtype),
        reduction=R),
], ids=["F", "module", "weight", "weight_broadcast"])
def test_bce(make, reduction, dtype):
    global R
    R = reduction
    same(_value_and_grads(make, dtype, [X, T]))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("make", [
    lambda L, x, t: L.nn.functional.smooth_l1_loss(x, t, reduction=R),
    lambda L, x, t: L.nn.SmoothL1Loss(reduction=R, beta=0.5)(x, t),
    lambda L, x, t: L.nn.SmoothL1Loss(reduction=R, beta=2.0)(x, t),
    lambda L, x, t: L.nn.functional.smooth_l1_loss(x, t, reduction=R, beta=0.0),
    lambda L, x, t: L.nn.functional.huber_loss(x, t, reduction=R),
    lambda L, x, t: L.nn.HuberLoss(reduction=R, delta=0.5)(x, t),
    lambda L, x, t: L.nn.functional.huber_loss(x, t, reduction=R, delta=2.0,
                                               weight=L.linspace(0, 1, 9).to(x.dtype)),
], ids=["sl1", "sl1_beta_half", "sl1_beta_2", "sl1_beta_0", "huber", "huber_half",
        "huber_weight"])
def test_smooth_l1_and_huber(make, reduction, dtype):
    global R
    R = reduction
    same(_value_and_grads(make, dtype, [V, W]))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("make", [
    lambda L, x: L.nn.functional.elu(x),
    lambda L, x: L.nn.ELU(alpha=0.5)(x),
    lambda L, x: L.nn.functional.elu(x * 1, 2.0, inplace=True),
    lambda L, x: L.nn.functional.elu_(x * 1),
    lambda L, x: L.nn.functional.softplus(x),
    lambda L, x: L.nn.Softplus(beta=2, threshold=10)(x),
    lambda L, x: L.nn.Softplus(beta=0.5, threshold=1)(x),
    lambda L, x: L.nn.functional.normalize(x.view(3, 3)),
    lambda L, x: L.nn.functional.normalize(x.view(3, 3), p=1, dim=0),
    lambda L, x: L.nn.functional.normalize(x, dim=0, eps=100.0),
    lambda L, x: L.nn.functional.normalize(x.view(3, 3), p=float("inf"), dim=-1),
], ids=["elu", "elu_module", "elu_inplace", "elu_", "softplus", "softplus_module",
        "softplus_low_threshold", "normalize", "normalize_p1", "normalize_eps",
        "normalize_inf"])
def test_activations(make, dtype):
    same(_value_and_grads(make, dtype, [V], grads_of=(0,)))


@pytest.mark.parametrize("call", [
    lambda L: L.nn.functional.binary_cross_entropy(L.tensor([0.5, 1.5]), L.tensor([0., 1.])),
    lambda L: L.nn.functional.binary_cross_entropy(L.tensor([-0.5, 0.5]), L.tensor([0., 1.])),
    lambda L: L.nn.functional.binary_cross_entropy(L.tensor([0.5, 0.5]), L.tensor([0., 1.])[:1]),
    lambda L: L.nn.functional.binary_cross_entropy(L.tensor([0.5, 0.5]), L.tensor([0, 1])),
    lambda L: L.nn.functional.binary_cross_entropy(L.tensor([0.5, 0.5]),
                                                   L.tensor([0., 1.], dtype=L.float64)),
    lambda L: L.nn.functional.binary_cross_entropy(L.tensor([0.5, 0.5]), L.tensor([0., 1.]),
                                                   reduction="avg"),
    lambda L: L.nn.functional.binary_cross_entropy(L.full((4,), 0.5), L.ones(4),
                                                   weight=L.ones(2)),
    lambda L: L.nn.functional.binary_cross_entropy(L.full((2, 1), 0.5), L.ones(2, 1),
                                                   weight=L.ones(3, 2, 1)),
    lambda L: L.nn.functional.smooth_l1_loss(L.zeros(2), L.ones(2), beta=-1.0),
    lambda L: L.nn.functional.huber_loss(L.zeros(2), L.ones(2), delta=0.0),
    lambda L: L.nn.functional.huber_loss(L.zeros(2), L.ones(2), weight=L.ones(3)),
    lambda L: L.nn.functional.elu(L.tensor([1, 2])),
    lambda L: L.nn.functional.softplus(L.tensor([1, 2])),
    lambda L: L.nn.functional.elu(L.ones(2, requires_grad=True), inplace=True),
    lambda L: L.nn.functional.smooth_l1_loss(L.zeros(2), L.tensor([0, 3])),
], ids=["bce_above_1", "bce_below_0", "bce_shape", "bce_long", "bce_double", "bce_reduction",
        "bce_weight_mismatch", "bce_weight_bigger", "sl1_beta", "huber_delta", "huber_weight", "elu_long", "softplus_long",
        "elu_leaf_inplace", "sl1_long_target"])
def test_errors_and_edge_values(call):
    same(call)


def test_size_warning():
    with pytest.warns(UserWarning) as ours:
        ember.nn.functional.smooth_l1_loss(ember.zeros(4), ember.zeros(1))
    with pytest.warns(UserWarning) as theirs:
        torch.nn.functional.smooth_l1_loss(torch.zeros(4), torch.zeros(1))
    assert str(ours[0].message).replace("ember", "torch") == str(theirs[0].message)


def test_module_reprs():
    for make in [lambda L: L.nn.ELU(), lambda L: L.nn.ELU(0.5, True),
                 lambda L: L.nn.Softplus(2, 10), lambda L: L.nn.Softplus(),
                 lambda L: L.nn.HuberLoss(delta=2.0), lambda L: L.nn.SmoothL1Loss(beta=0.5),
                 lambda L: L.nn.BCELoss(weight=L.ones(2))]:
        assert outcome(ember, make) == outcome(torch, make)
    state = ember.nn.BCELoss(weight=ember.ones(2)).state_dict()
    assert list(state) == list(torch.nn.BCELoss(weight=torch.ones(2)).state_dict())

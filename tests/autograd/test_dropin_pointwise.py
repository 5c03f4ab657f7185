"""BCELoss, SmoothL1Loss, HuberLoss, ELU, Softplus and normalize: torch's values (read off
torch 2.13, CPU, float64), and gradients that gradcheck and gradgradcheck accept.
test_torch_dropin_pointwise.py compares more cases against live torch."""
import pytest

import ember
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck

D = ember.float64


def t(values, grad=False):
    return ember.tensor(values, dtype=D, requires_grad=grad)


def test_values_as_torch():
    x, y = t([0.2, 0.9, 0.0, 1.0]), t([0.0, 1.0, 1.0, 0.0])
    # torch clamps each log at -100: a confident wrong answer costs 100, not inf
    assert F.binary_cross_entropy(x, y, reduction="none").tolist() == [
        0.22314355131420976, 0.10536051565782628, 100.0, 100.0]
    assert F.binary_cross_entropy(x, y).item() == 50.082126016743004
    v, w = t([-3.0, -0.5, 0.25, 2.5]), t([0.5, 0.5, 0.0, 1.0])
    assert F.smooth_l1_loss(v, w, beta=0.5, reduction="none").tolist() == [3.25, 0.75, 0.0625, 1.25]
    assert F.huber_loss(v, w, delta=2.0, reduction="none").tolist() == [5.0, 0.5, 0.03125, 1.125]
    assert F.elu(v, 0.5).tolist() == [-0.475106465816068, -0.1967346701436833, 0.25, 2.5]
    assert F.softplus(v, 2, 4).tolist() == [
        0.0012378425688652247, 0.15663084375911143, 0.48703849209005334, 2.5]
    assert F.normalize(v.view(2, 2)).tolist() == [
        [-0.9863939238321437, -0.1643989873053573], [0.09950371902099892, 0.9950371902099892]]


def test_grad_fn_names():
    x, y = t([0.3, 0.6], True), t([0.0, 1.0])
    assert type(F.binary_cross_entropy(x, y).grad_fn).__name__ == "BinaryCrossEntropyBackward0"
    assert type(F.smooth_l1_loss(x, y).grad_fn).__name__ == "SmoothL1LossBackward0"
    assert type(F.huber_loss(x, y).grad_fn).__name__ == "HuberLossBackward0"
    assert type(F.elu(x).grad_fn).__name__ == "EluBackward0"
    assert type(F.elu(x * 1, inplace=True).grad_fn).__name__ == "EluBackward1"
    assert type(F.softplus(x).grad_fn).__name__ == "SoftplusBackward0"
    assert type(F.normalize(x, dim=0).grad_fn).__name__ == "DivBackward0"


# inputs kept away from the kinks (|x - t| = beta/delta, x = 0, beta * x = threshold)
P = [0.15, 0.4, 0.55, 0.85]
Q = [0.3, 0.9, 0.05, 0.5]
A = [-2.5, -0.7, 0.35, 1.9]
B = [0.4, -0.1, 0.3, -1.1]


@pytest.mark.parametrize("fn, inputs", [
    (lambda x, y: F.binary_cross_entropy(x, y), (P, Q)),
    (lambda x, y: F.binary_cross_entropy(x, y, weight=t([1.0, 2.0, 0.5, 3.0]),
                                         reduction="sum"), (P, Q)),
    (lambda x, y: F.binary_cross_entropy(x, y, reduction="none"), (P, Q)),
    (lambda x, y: F.smooth_l1_loss(x, y), (A, B)),
    (lambda x, y: F.smooth_l1_loss(x, y, beta=0.5, reduction="none"), (A, B)),
    (lambda x, y: F.huber_loss(x, y, delta=0.5, reduction="sum"), (A, B)),
    (lambda x, y: F.huber_loss(x, y, delta=2.0), (A, B)),
], ids=["bce", "bce_weight_sum", "bce_none", "sl1", "sl1_beta", "huber_sum", "huber_delta"])
def test_loss_gradients(fn, inputs):
    args = tuple(t(v, True) for v in inputs)
    assert gradcheck(fn, args)
    assert gradgradcheck(fn, args)


@pytest.mark.parametrize("fn", [
    lambda x: F.elu(x),
    lambda x: F.elu(x, 0.3),
    lambda x: F.elu(x * 1, 2.0, inplace=True),
    lambda x: F.softplus(x),
    lambda x: F.softplus(x, beta=2.0, threshold=1.0),
    lambda x: F.normalize(x, dim=0),
    lambda x: F.normalize(x.view(2, 2), p=1, dim=1),
], ids=["elu", "elu_alpha", "elu_inplace", "softplus", "softplus_threshold", "normalize",
        "normalize_p1"])
def test_activation_gradients(fn):
    x = t(A, True)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


@pytest.mark.parametrize("call, exc, text", [
    (lambda: F.binary_cross_entropy(t([0.5, 1.5]), t([0.0, 1.0])), RuntimeError,
     "all elements of input should be between 0 and 1"),
    (lambda: F.binary_cross_entropy(ember.tensor([0.5]), ember.tensor([1.0], dtype=D)),
     RuntimeError, "Found dtype Double but expected Float"),
    (lambda: F.binary_cross_entropy(t([0.5, 0.5]), t([1.0])), ValueError,
     "Using a target size (ember.Size([1])) that is different to the input size "
     "(ember.Size([2])) is deprecated. Please ensure they have the same size."),
    (lambda: F.smooth_l1_loss(t([0.0]), t([1.0]), beta=-1.0), RuntimeError,
     "smooth_l1_loss does not support negative values for beta."),
    (lambda: F.huber_loss(t([0.0]), t([1.0]), delta=0.0), RuntimeError,
     "huber_loss does not support non-positive values for delta."),
    (lambda: F.huber_loss(t([0.0]), t([1.0]), weight=t([1.0, 2.0])), ValueError,
     "Weights and input must have the same size."),
    (lambda: F.elu(ember.tensor([1, 2])), NotImplementedError,
     "\"elu_cpu\" not implemented for 'Long'"),
    (lambda: F.softplus(ember.tensor([1, 2])), NotImplementedError,
     "\"softplus_cpu\" not implemented for 'Long'"),
])
def test_errors(call, exc, text):
    with pytest.raises(exc) as info:
        call()
    assert str(info.value) == text


def test_modules():
    assert repr(ember.nn.ELU(0.5, True)) == "ELU(alpha=0.5, inplace=True)"
    assert repr(ember.nn.Softplus(2, 10)) == "Softplus(beta=2, threshold=10)"
    assert repr(ember.nn.HuberLoss(delta=2.0)) == "HuberLoss()"
    loss = ember.nn.BCELoss(weight=ember.tensor([1.0, 3.0]))
    assert list(loss.state_dict()) == ["weight"]
    assert loss(ember.tensor([0.5, 0.5]), ember.tensor([0.0, 1.0])).item() == pytest.approx(
        1.3862943611198906)

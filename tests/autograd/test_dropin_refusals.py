"""What torch refuses, Ember refuses too, in torch's words, so code written on Ember does
not break when it meets torch: int32 class targets, integer targets for BCE-with-logits,
multi-element tensors inside ``tensor([...])``, batch-size mismatches, and in-place writes
over an output saved for backward.

Expected messages were read off torch 2.13 (CPU); test_torch_dropin_refusals.py checks the
same cases and more against live torch.
"""
import re

import pytest

import ember
import ember.nn.functional as F


def raises(exc, text):
    return pytest.raises(exc, match="^" + re.escape(text) + "$")


@pytest.mark.parametrize("dtype, name", [(ember.int32, "Int"), (ember.int16, "Short"),
                                         (ember.float32, "Float"), (ember.bool, "Bool")])
@pytest.mark.parametrize("fn", [F.nll_loss, F.cross_entropy,
                                lambda x, t: ember.nn.CrossEntropyLoss()(x, t)])
def test_class_targets_must_be_long_or_byte(fn, dtype, name):
    with raises(RuntimeError, f"expected target dtype to be Long or Byte, but got {name}"):
        fn(ember.zeros(4, 3), ember.zeros(4, dtype=dtype))


def test_byte_targets_pass_for_2d_and_fail_for_spatial():
    assert F.nll_loss(ember.zeros(4, 3), ember.zeros(4, dtype=ember.uint8)).item() == 0.0
    with raises(RuntimeError, "expected scalar type Long but found Byte"):
        F.nll_loss(ember.zeros(2, 3, 4, 4), ember.zeros(2, 4, 4, dtype=ember.uint8))


@pytest.mark.parametrize("dtype", [ember.int64, ember.int32, ember.float32])
def test_batch_size_mismatch(dtype):
    # checked before the dtype, as torch does
    with raises(ValueError, "Expected input batch_size (4) to match target batch_size (3)."):
        F.cross_entropy(ember.zeros(4, 3), ember.zeros(3, dtype=dtype))


@pytest.mark.parametrize("xs, ts, exc, text", [
    ((4, 3), (4, 2), RuntimeError, "0D or 1D target tensor expected, multi-target not supported"),
    ((3,), (3,), ValueError, "For 1D input, 1D target must have size 1, but got target size: 3"),
    ((2, 3, 5), (2, 4), RuntimeError, "Expected target size [2, 5], got [2, 4]"),
    ((2, 3, 4, 4), (2, 4, 3), RuntimeError,
     "size mismatch (got input: [2, 3, 4, 4] , target: [2, 4, 3]"),
])
def test_target_shape_messages(xs, ts, exc, text):
    with raises(exc, text):
        F.nll_loss(ember.zeros(*xs), ember.zeros(ts, dtype=ember.int64))


def test_one_element_target_for_1d_input():
    assert F.cross_entropy(ember.zeros(3), ember.tensor([1])).item() == pytest.approx(1.0986123)


def test_same_shape_integer_target_means_probabilities():
    with raises(RuntimeError, "Expected floating point type for target with class "
                              "probabilities, got Long"):
        F.cross_entropy(ember.zeros(3), ember.zeros(3, dtype=ember.int64))


@pytest.mark.parametrize("xdtype, tdtype, text", [
    (ember.float32, ember.int64, "result type Float can't be cast to the desired output type Long"),
    (ember.float64, ember.int64, "result type Double can't be cast to the desired output type Long"),
    (ember.float32, ember.int32, "result type Float can't be cast to the desired output type Int"),
    (ember.float32, ember.uint8, "result type Float can't be cast to the desired output type Byte"),
    (ember.float32, ember.bool, "Subtraction, the `-` operator, with two bool tensors is not "
                                "supported. Use the `^` or `logical_xor()` operator instead."),
])
def test_bce_with_logits_refuses_integer_targets(xdtype, tdtype, text):
    x = ember.zeros(4, dtype=xdtype)
    t = ember.tensor([0, 1, 1, 0]).to(tdtype)
    with raises(RuntimeError, text):
        F.binary_cross_entropy_with_logits(x, t)
    with raises(RuntimeError, text):
        ember.nn.BCEWithLogitsLoss()(x, t)


def test_bce_with_logits_float_target_value():
    loss = F.binary_cross_entropy_with_logits(ember.tensor([0.5, -1.0]), ember.tensor([1.0, 0.0]))
    assert loss.item() == pytest.approx(0.39366936683654785)


@pytest.mark.parametrize("data", [
    lambda: [ember.tensor([1., 2.]), ember.tensor([3., 4.])],
    lambda: (ember.ones(2), ember.ones(2)),
    lambda: [[ember.ones(2)]],
    lambda: [ember.zeros(0)],
])
def test_multi_element_tensors_in_a_literal(data):
    with raises(ValueError, "only one element tensors can be converted to Python scalars"):
        ember.tensor(data())


def test_one_element_tensors_in_a_literal_are_numbers():
    t = ember.tensor([ember.tensor([1], dtype=ember.int32), ember.tensor([[2]], dtype=ember.int32)])
    assert (t.tolist(), t.dtype) == ([1, 2], ember.int32)
    t = ember.tensor([ember.tensor([1.]), ember.tensor([3.])])
    assert (t.tolist(), t.shape) == ([1.0, 3.0], ember.Size([2]))
    with pytest.warns(UserWarning, match="Converting a tensor with requires_grad=True"):
        assert ember.tensor([ember.ones(1, requires_grad=True)]).tolist() == [1.0]


def _message(op, version, expected):
    return ("one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: [torch.FloatTensor [3]], which is output 0 of {op}, is at "
            f"version {version}; expected version {expected} instead. Hint: enable anomaly "
            "detection to find the operation that failed to compute its gradient, with "
            "torch.autograd.set_detect_anomaly(True, check_nan=False).")


@pytest.mark.parametrize("body, op, version, expected", [
    (lambda x: ember.sigmoid(x).mul_(2), "Sigmoid", 1, 0),
    (lambda x: (x * 1).relu_().mul_(2), "Relu", 2, 1),
    (lambda x: F.relu(x * 1, inplace=True).mul_(2), "Relu", 2, 1),
    (lambda x: (x * 2).sigmoid_().mul_(3), "Sigmoid", 2, 1),
    (lambda x: (x * 1).tanh_().tanh_(), "Tanh", 2, 1),
])
def test_inplace_over_saved_output_raises(body, op, version, expected):
    x = ember.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = body(x)
    with raises(RuntimeError, _message(op, version, expected)):
        y.sum().backward()


def test_inplace_result_used_as_is_still_differentiates():
    x = ember.tensor([1.0, -2.0, 3.0], requires_grad=True)
    ((x * 1).relu_() * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 0.0, 2.0]

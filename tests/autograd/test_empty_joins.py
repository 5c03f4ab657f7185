"""Joining no tensors raises torch's exception type and words for each function."""
import pytest

import ember


@pytest.mark.parametrize("fn, kind, message", [
    (ember.cat, ValueError, "torch.cat(): expected a non-empty list of Tensors"),
    (ember.stack, RuntimeError, "stack expects a non-empty TensorList"),
    (ember.hstack, RuntimeError, "hstack expects a non-empty TensorList"),
    (ember.vstack, RuntimeError, "vstack expects a non-empty TensorList"),
])
def test_joining_nothing(fn, kind, message):
    with pytest.raises(kind) as info:
        fn([])
    assert str(info.value) == message

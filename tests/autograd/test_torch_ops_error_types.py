"""Error types and words that used to differ from torch's (issue 14): huge allocations,
empty cat/stack, saving into a missing folder, MSE on integers, class-index targets."""
import pytest

torch = pytest.importorskip("torch")

from dropin_helpers import same  # noqa: E402


@pytest.mark.parametrize("fn", [
    lambda L: L.empty(10**15),
    lambda L: L.zeros(10**8, 10**8),
    lambda L: L.full((10**15,), 1.0),
    lambda L: L.cat([]),
    lambda L: L.stack([]),
    lambda L: L.save({"a": L.ones(2)}, "/nonexistent_ember_dir/a.pt"),
    lambda L: L.nn.functional.mse_loss(L.tensor([1, 2]), L.tensor([1, 3])),
    lambda L: L.nn.MSELoss()(L.tensor([1, 2]), L.tensor([1, 3])),
    lambda L: L.nn.functional.mse_loss(L.tensor([1.0, 2.0]), L.tensor([1, 3])),
    lambda L: L.nn.CrossEntropyLoss()(L.zeros(4, 3), L.tensor([0.0, 1.0, 2.0, 1.0])),
    lambda L: L.nn.CrossEntropyLoss()(L.zeros(4, 3), L.tensor([[0.0], [1.0], [2.0], [1.0]])),
    lambda L: L.nn.CrossEntropyLoss()(L.zeros(4, 3), L.tensor([0, 1, 2, 1], dtype=L.int32)),
], ids=["empty_huge", "zeros_huge", "full_huge", "cat_empty", "stack_empty", "save_missing",
        "mse_int", "mse_int_module", "mse_mixed", "ce_float_targets", "ce_float_targets_2d",
        "ce_int32"])
def test_same_error_as_torch(fn):
    same(torch, fn)

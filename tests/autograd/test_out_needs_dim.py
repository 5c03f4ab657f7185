"""torch.sum and torch.prod take out= only with a dim (their whole-tensor overloads have no
out): Ember refuses the same calls with torch 2.13's TypeError and words."""
import pytest

import ember


@pytest.mark.parametrize("name, dim", [("sum", "tuple of ints dim"), ("prod", "int dim")])
def test_out_without_dim_is_refused(name, dim):
    with pytest.raises(TypeError) as info:
        getattr(ember, name)(ember.ones(3), out=ember.empty(()))
    assert str(info.value) == (
        f"{name}() received an invalid combination of arguments - got (Tensor, out=Tensor), "
        "but expected one of:\n * (Tensor input, *, torch.dtype dtype = None)\n * (Tensor "
        f"input, {dim}, bool keepdim = False, *, torch.dtype dtype = None, Tensor out = None)\n")


@pytest.mark.parametrize("name, want", [("sum", 3.0), ("prod", 1.0)])
def test_out_with_dim_writes_the_result(name, want):
    out = ember.empty(())
    assert getattr(ember, name)(ember.ones(3), 0, out=out) is out
    assert out.item() == want

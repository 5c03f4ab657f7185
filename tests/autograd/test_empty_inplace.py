"""Empty tensors: torch's strides (each 0-sized dim counted as one element) and in-place ops
that succeed without writing. NumPy reports zero strides for them, which made every in-place
op refuse the empty write as "one memory location, several elements"."""
import pytest

import ember

from empty_tensor_cases import IN_PLACE, IN_PLACE_ONLY, MAKERS

# torch 2.13's strides for each maker, written out so the default suite checks them
STRIDES = {
    "zeros(3, 0)": (1, 1),
    "zeros(2, 0, 4)": (4, 4, 1),
    "zeros(0)": (1,),
    "zeros(3, 4)[:, :0]": (4, 1),
    "zeros(0, 5)[1:]": (5, 1),
}


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_strides_are_torchs(name):
    t = MAKERS[name](ember)
    assert t.stride() == STRIDES[name]
    assert t.stride(-1) == STRIDES[name][-1]
    assert t.is_contiguous()


@pytest.mark.parametrize("op", sorted(IN_PLACE))
@pytest.mark.parametrize("name", sorted(MAKERS) + sorted(IN_PLACE_ONLY))
def test_in_place_on_empty_is_accepted(name, op):
    t = {**MAKERS, **IN_PLACE_ONLY}[name](ember)
    version = t._version
    out = IN_PLACE[op](ember, t)
    assert out is t
    assert t.numel() == 0
    assert t._version > version


def test_empty_with_grad_backward():
    x = ember.zeros(3, 0, requires_grad=True)
    y = x * 2
    y.add_(1)
    y.sum().backward()
    assert x.grad.shape == (3, 0)


def test_expanded_non_empty_is_still_refused():
    t = ember.ones(1).expand(3)
    with pytest.raises(RuntimeError, match="single memory location"):
        t.add_(1)

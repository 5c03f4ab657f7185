"""Empty tensors against torch: the same strides, and the same in-place ops accepted."""
import pytest

import ember

from empty_tensor_cases import IN_PLACE, IN_PLACE_ONLY, MAKERS

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_strides_match_torch(name):
    assert MAKERS[name](ember).stride() == MAKERS[name](torch).stride()


@pytest.mark.parametrize("op", sorted(IN_PLACE))
@pytest.mark.parametrize("name", sorted(MAKERS) + sorted(IN_PLACE_ONLY))
def test_in_place_matches_torch(name, op):
    make = {**MAKERS, **IN_PLACE_ONLY}[name]
    ours, theirs = make(ember), make(torch)
    IN_PLACE[op](torch, theirs)
    IN_PLACE[op](ember, ours)
    assert tuple(ours.shape) == tuple(theirs.shape)

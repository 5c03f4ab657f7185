"""The view + in-place scenarios against torch: values, grad_fn names, gradients, and the
refusals' types and messages."""
import numpy as np
import pytest

import ember

from view_inplace_cases import CASES, refusals

torch = pytest.importorskip("torch")


def flatten(result):
    if isinstance(result, (list, tuple)):
        return [leaf for item in result for leaf in flatten(item)]
    return [result]


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    ours, theirs = flatten(CASES[name](ember)), flatten(CASES[name](torch))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        if isinstance(b, str):
            assert a == b
        else:
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_refusals_match_torch():
    assert refusals(ember) == refusals(torch)

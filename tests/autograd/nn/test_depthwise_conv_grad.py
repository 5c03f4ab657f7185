"""gradcheck and autograd plumbing of depthwise convolution (groups == in_channels), which
runs on its own direct kernels; values are checked in tests/tensor/test_depthwise_conv.py."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F

# (N, C, H, W, multiplier, (kh, kw), stride, padding, dilation)
GEOMETRIES = [
    (2, 3, 7, 8, 1, (3, 3), (1, 1), (1, 1), (1, 1)),
    (2, 4, 9, 7, 1, (3, 3), (2, 2), (1, 1), (1, 1)),
    (1, 2, 9, 9, 1, (5, 5), (2, 2), (2, 2), (1, 1)),
    (2, 3, 10, 11, 2, (3, 3), (2, 1), (0, 2), (2, 1)),
]


@pytest.mark.parametrize("geo", GEOMETRIES)
def test_gradcheck(geo):
    N, C, H, W, m, k, s, p, d = geo
    rng = np.random.default_rng(1)
    x = ember.tensor(rng.standard_normal((N, C, H, W)), requires_grad=True)
    w = ember.tensor(rng.standard_normal((C * m, 1) + k), requires_grad=True)
    b = ember.tensor(rng.standard_normal(C * m), requires_grad=True)
    assert ember.autograd.gradcheck(lambda x, w, b: F.conv2d(x, w, b, s, p, d, C), (x, w, b))


def test_unbatched_and_grad_fn():
    rng = np.random.default_rng(2)
    x = ember.tensor(rng.standard_normal((4, 6, 6)), requires_grad=True)
    w = ember.tensor(rng.standard_normal((4, 1, 3, 3)), requires_grad=True)
    out = F.conv2d(x, w, None, 1, 1, 1, 4)
    assert out.shape == (4, 6, 6)
    batched = F.conv2d(x[None], w, None, 1, 1, 1, 4)[0]
    np.testing.assert_allclose(out.detach().numpy(), batched.detach().numpy(), rtol=0, atol=0)
    assert type(out.grad_fn).__name__ == "SqueezeBackward1"
    out.sum().backward()
    assert x.grad.shape == (4, 6, 6) and w.grad.shape == (4, 1, 3, 3)


def test_empty_batch():
    x = ember.zeros(0, 3, 5, 5, requires_grad=True)
    w = ember.ones(3, 1, 3, 3, requires_grad=True)
    out = F.conv2d(x, w, groups=3)
    assert out.shape == (0, 3, 3, 3)
    out.sum().backward()
    assert float(w.grad.abs().sum()) == 0.0

"""The few-channel direct convolution (ResNet's stem) against torch: forward, and the input,
weight and bias gradients torch's autograd gives, on one thread and two."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ember_tensor  # noqa: E402
from ember_tensor import Array  # noqa: E402
from ember_tensor import nn as enn  # noqa: E402

# (N, C, H, W, Cout, k, stride, padding): the stem at 64 and 224 px, a batch of odd planes,
# grey 5x5 stride 1
CASES = [
    (1, 3, 64, 64, 64, 7, 2, 3),
    (1, 3, 224, 224, 64, 7, 2, 3),
    (3, 3, 45, 38, 24, 7, 2, 3),
    (4, 1, 28, 28, 6, 5, 1, 2),
]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("case", CASES)
def test_matches_torch(case, threads):
    N, C, H, W, co, k, s, p = case
    rng = np.random.default_rng(H + co)
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    w = (rng.standard_normal((co, C, k, k)) * 0.1).astype(np.float32)
    b = rng.standard_normal(co).astype(np.float32)
    xt, wt, bt = (torch.from_numpy(a).requires_grad_() for a in (x, w, b))
    yt = torch.nn.functional.conv2d(xt, wt, bt, s, p)
    dy = rng.standard_normal(tuple(yt.shape)).astype(np.float32)
    yt.backward(torch.from_numpy(dy))
    old = ember_tensor.get_num_threads()
    try:
        ember_tensor.set_num_threads(threads)
        y = enn.conv2d(Array(x), Array(w), Array(b), s, p)._np
        gx, gw, gb = enn.conv2d_backward(Array(dy), Array(x), Array(w), s, p, 1, 1)
    finally:
        ember_tensor.set_num_threads(old)
    for got, want in ((y, yt), (gx._np, xt.grad), (gw._np, wt.grad), (gb._np, bt.grad)):
        want = want.detach().numpy()
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())

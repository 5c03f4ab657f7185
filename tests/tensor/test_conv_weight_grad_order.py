"""A batch's weight gradient is the same bits whatever order its image chunks finish in:
chunks' partial gradients are added in chunk order (conv_backward._WeightGrad), never in
finishing order, so a training run repeats exactly at a given thread count."""
import numpy as np
import pytest

import ember_tensor as et
from ember_tensor.nn import conv_backward


def _weight_grad(x, w, go, order, padding):
    """conv2d's weight gradient with the chunk tasks run in the given order."""
    real = conv_backward.run_tasks

    def reordered(tasks, threads):
        assert len(tasks) >= 3, "the case must cut the batch into three or more chunks"
        real([tasks[i] for i in order(len(tasks))], 1)

    conv_backward.run_tasks = reordered
    try:
        _, gw, _ = conv_backward.conv2d_backward(go, x, w, stride=2, padding=padding,
                                                 output_mask=(False, True, False))
    finally:
        conv_backward.run_tasks = real
    return gw.numpy()


@pytest.mark.parametrize("kernel", [3, 1])  # im2col chunks, and the unpadded 1x1's chunks
def test_weight_gradient_does_not_depend_on_chunk_finishing_order(kernel, monkeypatch):
    from ember_tensor.nn import conv
    monkeypatch.setattr(conv, "_COLUMN_BYTES", 1)  # one image a chunk: six chunks
    # a batch too big for one column buffer (the smaller ones take one GEMM, no chunks)
    monkeypatch.setattr(conv_backward, "_BATCH_COLUMN_BYTES", 0)
    rng = np.random.default_rng(7)
    # stride 2: neither Winograd nor the few-channel stem kernel; 8 input channels
    x = et.tensor(rng.standard_normal((6, 8, 64, 64)).astype(np.float32))
    w = et.tensor(rng.standard_normal((16, 8, kernel, kernel)).astype(np.float32))
    pad = kernel // 2
    out_side = (64 + 2 * pad - kernel) // 2 + 1
    go = et.tensor(rng.standard_normal((6, 16, out_side, out_side)).astype(np.float32))
    forward = _weight_grad(x, w, go, lambda n: range(n), pad)
    backward = _weight_grad(x, w, go, lambda n: reversed(range(n)), pad)
    shuffled = _weight_grad(x, w, go, lambda n: [2, 0, 5, 1, 4, 3][:n], pad)
    np.testing.assert_array_equal(forward, backward)
    np.testing.assert_array_equal(forward, shuffled)
    # and it is the gradient: float64 reference over the whole batch
    xs, ws, gs = (a.numpy().astype(np.float64) for a in (x, w, go))
    ref = np.zeros(ws.shape)
    xp = np.pad(xs, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    for i in range(kernel):
        for j in range(kernel):
            patch = xp[:, :, i:i + 2 * out_side:2, j:j + 2 * out_side:2]
            ref[:, :, i, j] = np.einsum("nohw,nchw->oc", gs, patch)
    np.testing.assert_allclose(forward, ref, rtol=1e-4, atol=1e-3)

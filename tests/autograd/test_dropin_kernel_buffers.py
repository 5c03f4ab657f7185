"""The nn kernels take read-only buffers: the gradient of ``out.sum()`` for a one-element
``out`` is a read-only broadcast that NumPy already calls contiguous, and it used to reach the
Cython kernels as is (``ValueError: buffer source array is read-only``).

Expected values were read off torch 2.13 (CPU).
"""
import pytest

import ember
import ember.nn.functional as F

D = ember.float64


def grads(fn, *values):
    xs = [ember.tensor(v, dtype=D, requires_grad=True) for v in values]
    fn(*xs).sum().backward()
    return [x.grad.tolist() for x in xs]


PLANE = [[[[1.0, 3.0], [2.0, -1.0]]]]


@pytest.mark.parametrize("fn, values, expected", [
    (lambda x: F.softmax(x, 0), ([0.5],), [[0.0]]),
    (lambda x: F.log_softmax(x, 0), ([0.5],), [[0.0]]),
    (lambda x: F.softmax(x, 0), (0.5,), [0.0]),
    (lambda x: F.log_softmax(x, -1), (0.5,), [0.0]),
    (lambda x: F.max_pool2d(x, 2), (PLANE,), [[[[[0.0, 1.0], [0.0, 0.0]]]]]),
    (lambda x: F.avg_pool2d(x, 2), (PLANE,), [[[[[0.25, 0.25], [0.25, 0.25]]]]]),
    (lambda x, w, b: F.conv2d(x, w, b), (PLANE, [[[[0.5, -1.0], [2.0, 1.5]]]], [0.25]),
     [[[[[0.5, -1.0], [2.0, 1.5]]]], PLANE, [1.0]]),
    (lambda x, w, b: F.batch_norm(x, ember.tensor([0.5], dtype=D), ember.tensor([4.0], dtype=D),
                                  w, b, training=False), ([[2.0]], [3.0], [1.0]),
     [[[1.4999981250035157]], [0.7499990625017579], [1.0]]),
    (lambda x, w, b: F.layer_norm(x, (1,), w, b), ([2.0], [3.0], [1.0]), [[0.0], [0.0], [1.0]]),
    (lambda x: F.cross_entropy(x, ember.tensor([1])), ([[1.0, 2.0, 0.5]],),
     [[[0.23122389762214904, -0.37146828078823757, 0.14024438316608848]]]),
], ids=["softmax_1", "log_softmax_1", "softmax_0d", "log_softmax_0d", "max_pool2d",
        "avg_pool2d", "conv2d", "batch_norm_eval", "layer_norm", "cross_entropy"])
def test_one_element_output_backward(fn, values, expected):
    assert grads(fn, *values) == expected


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_softmax_1d_backward(dtype):
    # the snippet: the gradient of a sum through softmax is zero
    x = ember.randn(5, dtype=dtype, requires_grad=True)
    ember.softmax(x, 0).sum().backward()
    assert x.grad.abs().max().item() < 1e-6


def test_read_only_one_element_inputs_forward():
    x = ember.tensor(2.0, dtype=D).expand(1, 1, 1, 1)
    assert F.softmax(x, 1).tolist() == [[[[1.0]]]]
    assert F.max_pool2d(x, 1).tolist() == [[[[2.0]]]]
    assert F.avg_pool2d(x, 1).tolist() == [[[[2.0]]]]

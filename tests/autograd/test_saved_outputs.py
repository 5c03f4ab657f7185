"""A node's saved outputs come back in backward as torch gives them: a float output with the
node as its history (so create_graph differentiates through it), an integer one (indices)
with none."""
import numpy as np

import ember
from ember._core.node import Node, record
from ember_tensor import Array

seen = {}


class TakeWithIndices(Node):
    def backward(self, g_values, g_indices=None):
        values, indices = self.saved_tensors
        seen["values"] = (values.requires_grad, values.grad_fn is self)
        seen["indices"] = (indices.requires_grad, indices.grad_fn)
        return (g_values * 1,)


def test_saved_integer_outputs_have_no_history():
    x = ember.randn(3, requires_grad=True)
    values, indices = Array(x._data._np * 2), Array(np.arange(3))
    v, i = record(TakeWithIndices, (values, indices), (x,), save=(values, indices),
                  non_differentiable=(indices,))
    v.sum().backward()
    assert seen["values"] == (True, True)
    assert seen["indices"] == (False, None)

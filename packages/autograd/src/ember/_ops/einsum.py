"""Differentiable ``einsum``. The gradient of each operand is itself an einsum: the incoming
gradient contracted with the other operands onto that operand's subscripts. Letters only
that operand has are broadcast back, and a repeated letter (a diagonal, ``"ii->i"``) is put
back on the diagonal, both by reshaping to size-1 dimensions and multiplying by a constant
0/1 mask.

torch records einsum as the primitive ops it lowers to (``BmmBackward0``, ``ViewBackward0``,
...); Ember records one ``EinsumBackward0`` (README lists the difference).
"""
import numpy as np

from ember_tensor import Array
from ember_tensor import einsum as K

from .._core.node import Node, record
from .._tensor import Tensor
from ._common import require_tensor


def _mask(term, shape, dtype):
    """1 where every repeated letter of ``term`` has one index, else 0 (ones if none repeat)."""
    grids = np.indices(shape, sparse=True)
    keep = np.ones(shape, dtype=bool)
    first = {}
    for axis, ch in enumerate(term):
        if ch in first:
            keep = keep & (grids[axis] == grids[first[ch]])
        else:
            first[ch] = axis
    return Tensor._make(Array(keep.astype(dtype)))


class EinsumBackward0(Node):
    def backward(self, g):
        operands = self.saved_tensors
        subs, output = self.subs, self.output
        grads = []
        for i, term in enumerate(subs):
            if not self.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [(s, t) for j, (s, t) in enumerate(zip(subs, operands)) if j != i]
            seen = set(output).union(*(s for s, _ in others))
            target = "".join(dict.fromkeys(c for c in term if c in seen))
            expr = ",".join([output] + [s for s, _ in others]) + "->" + target
            r = einsum(expr, g, *(t for _, t in others))
            if target != term:  # broadcast lone letters, restore diagonals
                shape = tuple(self.sizes[c] for c in term)  # broadcast sizes: the engine
                # sums a size-1 operand's gradient back to its shape
                got = dict(zip(target, r.shape))
                r = r.reshape(tuple(got[c] if c in got and term.index(c) == p else 1
                                    for p, c in enumerate(term)))
                r = r * _mask(term, shape, operands[i]._data._np.dtype)
            grads.append(r)
        return tuple(grads)


def einsum(equation, *operands):
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): argument 'equation' must be str, not "
                        f"{type(equation).__name__}")
    for i, x in enumerate(operands):
        require_tensor(x, "einsum", "tensors", i + 2)
    res = K.einsum(equation, *(x._data for x in operands))
    subs, output, sizes = K.parse(equation, [x._data._np.shape for x in operands])
    return record(EinsumBackward0, res, operands, save=operands, subs=subs, output=output,
                  sizes=sizes)


FUNCTIONS = {"einsum": einsum}
TENSOR_METHODS: dict = {}

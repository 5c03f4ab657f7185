"""The steps of a backward pass that both engines share: the graph walk that counts
dependencies, hooks, fitting a gradient to its input's shape and dtype, and accumulation
into ``.grad``.

Used by the compiled engine (``ember/_core/_engine_compiled.pyx``) and its readable reference
(``engine.py``); the rare paths (hooks, broadcasting, dtype casts) stay here in Python.
"""
import numpy as np

from ember_tensor import Array
from ember_tensor import _dtype as D
from ember_tensor._elementwise_core import _fast
from ember_tensor.reduction import sum_to_shape

from .._tensor import Tensor
from ._graph import AccumulateGrad


def _sum_to_shape(grad, shape, create_graph):
    if grad._data._np.shape == shape:
        return grad
    if create_graph:
        # an op, so that the reduction is itself recorded; the ops import the engine's layer,
        # so the engine reaches them at run time (only double backward takes this path)
        from .._ops.reduction import sum_to_size

        return sum_to_size(grad, shape)
    return Tensor._make(_array_sum_to_shape(grad._data, shape))


def _array_sum_to_shape(a, shape):
    return sum_to_shape(a, shape)


def _add(a, b, create_graph):
    if a is None:
        return b
    if b is None:
        return a
    if create_graph:
        return a + b
    an, bn = a._data._np, b._data._np
    if an.shape == bn.shape and an.dtype == bn.dtype and an.dtype in _FLOATS:
        # Ember's add kernel (C call; big sums split over the threads, as NumPy's do not):
        # the same correctly rounded sums
        return Tensor._make(_fast("add", a._data, b._data))
    return Tensor._make(type(a._data)(an + bn))


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _zeros(meta):
    if meta is None:  # an output no gradient can reach (see record)
        return None
    shape, np_dtype = meta
    if np_dtype is None:
        np_dtype = D.get_default_dtype().np
    return Tensor._make(Array(np.zeros(shape, dtype=np_dtype)))


def _hook_grad_outputs(grads, out_meta):
    """A node hook's ``grad_outputs`` as torch gives them: None where no gradient came (not
    the zeros the backward formula gets), and no entry for an output no gradient can reach
    (meta None: max-pool's or topk's indices), which torch's node does not count."""
    if not out_meta:
        return tuple(grads)
    return tuple([g for g, m in zip(grads, out_meta) if m is not None])


def _call_tensor_hooks(hooks, grad):
    for fn in list(hooks.values()):
        new = fn(grad)
        if new is not None:
            grad = new
    return grad


def _graph(roots, want_parents):
    """Dependency counts of every node reachable from ``roots`` (iteratively), and the
    reverse edges when ``want_parents``."""
    deps = {}
    stack = [n for n in roots if n is not None]
    root_set = set(stack)
    parents = {} if want_parents else None
    while stack:
        node = stack.pop()
        for nxt, _ in node.next_functions:
            if nxt is None:
                continue
            count = deps.get(nxt)
            if count is None:
                deps[nxt] = 1
                if nxt not in root_set:  # first edge into it: walk it once
                    stack.append(nxt)
            else:
                deps[nxt] = count + 1
            if want_parents:
                parents.setdefault(nxt, []).append(node)
    return deps, parents


def _needed(targets, parents):
    """Nodes from which some target is reachable: only these need to run."""
    needed = set(targets)
    stack = list(targets)
    while stack:
        node = stack.pop()
        for p in parents.get(node, ()):
            if p not in needed:
                needed.add(p)
                stack.append(p)
    return needed


def _feeds_other_target(node, needed):
    return any(nxt in needed for nxt, _ in node.next_functions if nxt is not None)


def _fit(meta, g, create_graph):
    """Reduce a broadcast gradient to the input's shape and cast it to the input's dtype."""
    shape, np_dtype = meta
    if g._data._np.shape != shape:
        g = _sum_to_shape(g, shape, create_graph)
    if g._data._np.dtype != np_dtype:
        dtype = D.from_numpy_dtype(np_dtype)
        if create_graph:
            g = g.to(dtype)
        else:
            g = Tensor._make(g._data.to(dtype))
    return g


def _pre_hooks(node, grads, create_graph):
    for nr, hooks in node._tensor_pre_hooks.items():
        if hooks and nr < len(grads) and grads[nr] is not None:
            grads[nr] = _call_tensor_hooks(hooks, grads[nr])
    for nr, ref in node._retain_grad.items():
        t = ref()
        if t is not None and nr < len(grads) and grads[nr] is not None:
            _accumulate_into(t, grads[nr], create_graph)
    for fn in list(node._pre_hooks.values()):
        new = fn(tuple(grads))
        if new is not None:
            grads = list(new)
    if isinstance(node, AccumulateGrad) and grads[0] is not None:
        hooks = node.variable._hooks
        if hooks:
            grads[0] = _call_tensor_hooks(hooks, grads[0])
    return grads


def _accumulate_into(t, grad, create_graph):
    """First gradient: a fresh tensor; later ones: added in place (a new tensor under
    create_graph so the sum stays differentiable)."""
    if t._grad is None:
        if create_graph:
            t._grad = grad
        else:
            t._grad = Tensor._make(grad._data.clone())
    elif create_graph or t._grad._requires_grad:
        t._grad = t._grad + grad
    else:
        t._grad._data._np += grad._data._np

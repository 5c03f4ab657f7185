"""The backward engine: walks the graph from the roots without recursion.

Dependencies are counted first (how many edges point into each node), so a node runs only
once every consumer has delivered its gradient; a heap on the creation sequence number makes
the order deterministic (latest op first, as torch). Broadcast gradients are reduced to each
input's shape here, in one place.
"""
import heapq
import sys

import numpy as np

from ember_tensor import Array
from ember_tensor import _dtype as D

from . import anomaly_mode, grad_mode
from .._tensor import Tensor
from .node import AccumulateGrad, edge

__all__ = ["run_backward"]


def _sum_to_shape(grad, shape, create_graph):
    if grad._data._np.shape == shape:
        return grad
    if create_graph:
        from .._ops.reduction import sum_to_size

        return sum_to_size(grad, shape)
    return Tensor._make(_array_sum_to_shape(grad._data, shape))


def _array_sum_to_shape(a, shape):
    from ember_tensor.reduction import sum_to_shape

    return sum_to_shape(a, shape)


def _add(a, b, create_graph):
    if a is None:
        return b
    if b is None:
        return a
    if create_graph:
        return a + b
    return Tensor._make(type(a._data)(a._data._np + b._data._np))


def _zeros(meta):
    shape, np_dtype = meta
    if np_dtype is None:
        np_dtype = D.get_default_dtype().np
    return Tensor._make(Array(np.zeros(shape, dtype=np_dtype)))


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


def run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs=None,
                 accumulate=True, allow_unused=True):
    """Backpropagate from ``tensors``; accumulate into leaves or return grads of ``inputs``.

    With ``accumulate=False`` (``autograd.grad``) returns a tuple with the gradient for each
    of ``inputs`` (None if unreached) and touches no ``.grad``.
    """
    if retain_graph is None:
        retain_graph = create_graph
    root_edges = []
    for i, t in enumerate(tensors):
        if not t._requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn"
            )
        root_edges.append(edge(t))
    # where the captured gradients go: (node, output_nr) -> input index
    capture = {}
    if inputs is not None:
        for i, t in enumerate(inputs):
            if not isinstance(t, Tensor):
                raise TypeError(f"expected Tensor in inputs, got {type(t).__name__}")
            if not t._requires_grad:
                if accumulate:
                    raise RuntimeError("One of the differentiated Tensors does not require grad")
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            capture.setdefault(edge(t), []).append(i)
    captured = [None] * (len(inputs) if inputs is not None else 0)

    state = grad_mode._state
    saved = state.grad_enabled, state.inference
    state.grad_enabled = create_graph = bool(create_graph)
    try:
        _execute(root_edges, grad_tensors, retain_graph, create_graph, inputs, capture,
                 captured, accumulate)
    finally:
        state.grad_enabled, state.inference = saved
    if not accumulate:
        return tuple(captured)
    if inputs is not None:
        for i, t in enumerate(inputs):
            if t.grad_fn is not None and captured[i] is not None:
                _accumulate_into(t, captured[i], create_graph)
    return None


def _deliver(buffers, node, nr, grad, create_graph):
    buf = buffers.get(node)
    if buf is None:
        n_out = len(node._out_meta) if node._out_meta else 1
        buf = buffers[node] = [None] * max(n_out, nr + 1)
    old = buf[nr]
    buf[nr] = grad if old is None else _add(old, grad, create_graph)


def _execute(root_edges, grad_tensors, retain_graph, create_graph, inputs, capture,
             captured, accumulate):
    """Run the graph's nodes in dependency order, latest op first.

    Written for the many small graphs of eager code: the per-node path tests each rare
    feature (hooks, capture, anomaly mode, broadcast/dtype fitting) with one cheap check.
    """
    root_nodes = [n for n, _ in root_edges]
    restrict = inputs is not None
    deps, parents = _graph(root_nodes, restrict)
    needed = _needed([n for n, _ in capture], parents) if restrict else None
    grad_state = grad_mode._state
    anomaly = anomaly_mode._local.__dict__
    heappush = heapq.heappush
    heappop = heapq.heappop

    buffers = {}  # node -> list of grads per output
    ready = []
    for (node, nr), g in zip(root_edges, grad_tensors):
        _deliver(buffers, node, nr, g, create_graph)
    follow = None  # the one node a step made ready, when it would be popped next anyway
    if len(root_nodes) == 1:
        if root_nodes[0] not in deps:
            follow = root_nodes[0]
    else:
        for node in set(root_nodes):
            if deps.get(node, 0) == 0:
                heappush(ready, (-node._sequence_nr, id(node), node))
    # Locals that could still point at a gradient are cleared after use, so that when a leaf
    # is reached its ``grads`` list is the engine's only reference (see ``_adoptable``).
    g = out = new = node = None

    while True:
        if follow is not None:
            node = follow
            follow = None
        elif ready:
            node = heappop(ready)[2]
        else:
            break
        grads = buffers.pop(node, None) or [None]
        if restrict and node not in needed:
            _release_and_continue(node, retain_graph)
            continue
        is_leaf = isinstance(node, AccumulateGrad)
        if (node._tensor_pre_hooks or node._retain_grad or node._pre_hooks
                or (is_leaf and node.variable._hooks)):
            grads = _pre_hooks(node, grads, create_graph)
        # a gradient captured for ``inputs``/``autograd.grad`` at this (node, output)
        if capture:
            for nr, g in enumerate(grads):
                for i in capture.get((node, nr), ()):
                    captured[i] = g if captured[i] is None else _add(captured[i], g,
                                                                     create_graph)
            g = None
        if is_leaf:
            if accumulate and grads[0] is not None and (not restrict or (node, 0) in capture):
                variable = node.variable
                if variable._grad is None and not create_graph and _adoptable(grads):
                    variable._grad = Tensor._make(grads[0]._data)
                else:
                    _accumulate_into(variable, grads[0], create_graph)
                if variable._post_accumulate_grad_hooks:
                    grads = None  # the hook sees .grad, and the engine must not pin it
                    for fn in list(variable._post_accumulate_grad_hooks.values()):
                        fn(variable)
            continue
        if restrict and not _feeds_other_target(node, needed):
            _release_and_continue(node, retain_graph)
            for nxt, _ in node.next_functions:
                if nxt is not None:
                    deps[nxt] -= 1
                    if deps[nxt] == 0:
                        heappush(ready, (-nxt._sequence_nr, id(nxt), nxt))
            continue
        if create_graph and node.once_differentiable:
            raise RuntimeError(
                f"{node.name()} is implemented with once_differentiable kernels: its backward "
                "cannot be differentiated (create_graph=True passed through it)"
            )
        out_meta = node._out_meta
        if out_meta and (len(grads) != 1 or grads[0] is None):
            grads = [g if g is not None else _zeros(out_meta[k]) for k, g in
                     enumerate(grads)]
        if grad_state.grad_enabled == create_graph:
            out = node.backward(*grads)
        else:  # a hook switched grad mode: run the formula in the backward's own mode
            with grad_mode.set_grad_enabled(create_graph):
                out = node.backward(*grads)
        if type(out) is not tuple:
            out = tuple(out) if isinstance(out, tuple) else (out,)
        if anomaly.get("enabled"):
            anomaly_mode.check_gradients(node, out)
        if node._hooks:
            for fn in list(node._hooks.values()):
                new = fn(out, tuple(grads))
                if new is not None:
                    out = tuple(new)
            new = None
        if not retain_graph and node._saved:
            node._release()
        nexts = node.next_functions
        n_next = len(nexts)
        if len(out) != n_next:
            if len(out) < n_next and all(n is None for n, _ in nexts[len(out):]):
                out = out + (None,) * (n_next - len(out))
            else:
                raise RuntimeError(
                    f"function {node.name()} returned an incorrect number of gradients "
                    f"(expected {n_next}, got {len(out)})"
                )
        meta = node._input_meta
        n_meta = len(meta)
        for k in range(n_next):
            nxt, nr = nexts[k]
            if nxt is None:
                continue
            g = out[k]
            if g is not None:
                m = meta[k] if k < n_meta else None
                if m is not None:
                    shape = g._data._np.shape
                    dt = g._data._np.dtype
                    if shape != m[0] or (dt is not m[1] and dt != m[1]):
                        g = _fit(m, g, create_graph)
                if nr == 0 and nxt not in buffers and len(nxt._out_meta) <= 1:
                    buffers[nxt] = [g]
                else:
                    _deliver(buffers, nxt, nr, g, create_graph)
            count = deps[nxt] - 1
            deps[nxt] = count
            if count == 0:
                if follow is not None:
                    heappush(ready, (-follow._sequence_nr, id(follow), follow))
                follow = nxt
        g = out = None
        if follow is not None and ready and ready[0][0] < -follow._sequence_nr:
            heappush(ready, (-follow._sequence_nr, id(follow), follow))  # not next in order
            follow = None


def _feeds_other_target(node, needed):
    return any(nxt in needed for nxt, _ in node.next_functions if nxt is not None)


def _release_and_continue(node, retain_graph):
    if not retain_graph:
        node._release()


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


def _ref_counts(holder):
    """References to holder[0] (a Tensor), to its Array and to that Array's ndarray, as
    ``sys.getrefcount`` sees them from here (each expression adds one temporary)."""
    return (_getrefcount(holder[0]), _getrefcount(holder[0]._data),
            _getrefcount(holder[0]._data._np))


def _sole_counts():
    """What ``_ref_counts`` reports for a gradient nobody else holds: measured, not assumed,
    so that interpreter differences in counting temporaries cannot make it unsafe."""
    if _getrefcount is None or not getattr(sys, "_is_gil_enabled", lambda: True)():
        return None  # no exact reference counts: never adopt
    holder = [Tensor._make(Array(np.empty(2, dtype=np.float32)))]
    return _ref_counts(holder)


def _adoptable(holder):
    """True when the gradient Tensor in ``holder`` (a one-owner list) may become a leaf's
    ``.grad`` without the copy: as torch does when nothing else references the incoming
    gradient. That needs the engine's list to be the only reference to the Tensor (not the
    user's ``gradient=``, not another leaf's pending gradient, not a hook's or a node's
    stash), the Tensor the only one on its Array, and the Array the only holder of an
    ndarray that owns its memory (no view of something else, no views of it), laid out as
    the copy would be (C order) and writable (later gradients are added in place)."""
    global _SOLE
    if _SOLE is False:
        _SOLE = _sole_counts()
    if _SOLE is None or _ref_counts(holder) != _SOLE:
        return False
    arr = holder[0]._data._np
    return (type(arr) is np.ndarray and arr.base is None and arr.flags.c_contiguous
            and arr.flags.writeable)


_getrefcount = getattr(sys, "getrefcount", None)
_SOLE = False  # measured on first use


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

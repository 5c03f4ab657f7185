"""The backward engine: walks the graph from the roots without recursion.

Dependencies are counted first (how many edges point into each node), so a node runs only
once every consumer has delivered its gradient; a heap on the creation sequence number makes
the order deterministic (latest op first, as torch). Broadcast gradients are reduced to each
input's shape here, in one place (``_backward_steps``).

``_execute`` below is the readable reference of the loop. By default its compiled copy,
``ember/_core/_engine_compiled.pyx``, runs instead: the same steps with the speed
shortcuts (the node a step made ready runs next without the heap, a leaf adopts a gradient
nobody else holds as its ``.grad`` instead of copying it). ``EMBER_PURE_PYTHON_CORE=1``
selects this one.
"""
import heapq

from . import PURE_PYTHON_CORE
from .._tensor import Tensor
from .. import _anomaly_mode as anomaly_mode, _grad_mode as grad_mode
from ._backward_steps import (
    _accumulate_into, _add, _feeds_other_target, _fit, _graph, _hook_grad_outputs, _needed,
    _pre_hooks, _zeros,
)
from .node import AccumulateGrad, edge

__all__ = ["run_backward"]


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


def _execute(root_edges, grad_tensors, retain_graph, create_graph, inputs, capture,
             captured, accumulate):
    """Run every node reachable from the roots once all its consumers have delivered their
    gradients, latest op first; leaves accumulate into ``.grad`` or are captured."""
    restrict = inputs is not None  # only the nodes leading to ``inputs`` need to run
    deps, parents = _graph([n for n, _ in root_edges], restrict)
    needed = _needed([n for n, _ in capture], parents) if restrict else None
    buffers = {}  # node -> its gradient per output, summed as they arrive
    for (node, nr), g in zip(root_edges, grad_tensors):
        _deliver(buffers, node, nr, g, create_graph)
    ready = []  # heap of (-sequence number, id, node) of nodes with all gradients in
    for node in {n for n, _ in root_edges}:
        if deps.get(node, 0) == 0:
            heapq.heappush(ready, (-node._sequence_nr, id(node), node))
    while ready:
        node = heapq.heappop(ready)[2]
        grads = buffers.pop(node, None) or [None]
        if restrict and node not in needed:
            if not retain_graph:
                node._release()
            continue
        grads = _pre_hooks(node, grads, create_graph)
        for nr, g in enumerate(grads):
            for i in capture.get((node, nr), ()):
                captured[i] = _add(captured[i], g, create_graph)
        if isinstance(node, AccumulateGrad):
            _accumulate_leaf(node, grads[0], create_graph,
                             accumulate and (not restrict or (node, 0) in capture))
            continue
        if restrict and not _feeds_other_target(node, needed):
            out = (None,) * len(node.next_functions)  # it ran for a captured gradient only
        else:
            out = _run_node(node, grads, create_graph)
        if not retain_graph:
            node._release()
        for (nxt, nr), g, meta in zip(node.next_functions, out, _padded(node._input_meta, out)):
            if nxt is None:
                continue
            if g is not None:
                if meta is not None:
                    g = _fit(meta, g, create_graph)
                _deliver(buffers, nxt, nr, g, create_graph)
            deps[nxt] -= 1
            if deps[nxt] == 0:
                heapq.heappush(ready, (-nxt._sequence_nr, id(nxt), nxt))


def _padded(meta, out):
    return tuple(meta) + (None,) * (len(out) - len(meta))


def _deliver(buffers, node, nr, grad, create_graph):
    """Add ``grad`` to what ``node`` has received for its output ``nr``."""
    buf = buffers.get(node)
    if buf is None:
        buf = buffers[node] = [None] * max(len(node._out_meta) or 1, nr + 1)
    buf[nr] = _add(buf[nr], grad, create_graph)


def _accumulate_leaf(node, grad, create_graph, wanted):
    if not wanted or grad is None:
        return
    variable = node.variable
    _accumulate_into(variable, grad, create_graph)
    for fn in list((variable._post_accumulate_grad_hooks or {}).values()):
        fn(variable)


def _run_node(node, grads, create_graph):
    """The node's backward, given a gradient (zeros where none came) for each output;
    returns one gradient per input, checked, after the node's post-hooks."""
    if create_graph and node.once_differentiable:
        raise RuntimeError(
            f"{node.name()} is implemented with once_differentiable kernels: its backward "
            "cannot be differentiated (create_graph=True passed through it)"
        )
    out_meta = node._out_meta
    # as they came, for the node's hooks (held only then: a second reference to a gradient
    # would keep its consumers from reusing or adopting it)
    given = grads if node._hooks else None
    if out_meta:
        grads = [g if g is not None else _zeros(out_meta[k]) for k, g in enumerate(grads)]
    with grad_mode.set_grad_enabled(create_graph):  # a hook may have switched it
        out = node.backward(*grads)
    out = tuple(out) if isinstance(out, tuple) else (out,)
    if anomaly_mode._local.__dict__.get("enabled"):
        anomaly_mode.check_gradients(node, out)
    for fn in list(node._hooks.values()):
        new = fn(out, _hook_grad_outputs(given, out_meta))
        if new is not None:
            out = tuple(new)
    n_next = len(node.next_functions)
    if len(out) < n_next and all(n is None for n, _ in node.next_functions[len(out):]):
        out = out + (None,) * (n_next - len(out))
    if len(out) != n_next:
        raise RuntimeError(
            f"function {node.name()} returned an incorrect number of gradients "
            f"(expected {n_next}, got {len(out)})"
        )
    return out


if not PURE_PYTHON_CORE:
    # the compiled copy of _execute above (the switch: ember/_core/__init__.py)
    from ._engine_compiled import execute as _execute  # type: ignore[no-redef]  # noqa: E402,F811

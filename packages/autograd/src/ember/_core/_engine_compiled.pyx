"""The backward engine's loop, compiled, with its speed shortcuts.

The readable reference is ``_execute`` in ``ember/_core/engine.py`` (same arguments, same
results; ``EMBER_PURE_PYTHON_CORE=1`` runs it instead). The shortcuts, all here:

* each rare feature (hooks, capture, anomaly mode, broadcast or dtype fitting, zeros for
  missing gradients) is tested with one cheap check per node before its Python helper runs;
* the one node a step made ready runs next without a trip through the heap, when it would be
  popped next anyway;
* a gradient for an output no other edge feeds is stored without summing;
* a leaf adopts a gradient nobody else holds as its ``.grad`` instead of copying it
  (``adoptable`` decides; torch steals it the same way);
* without ``inputs`` the dependency counts come from a typed walk (``_dependencies``).
"""
import sys
from heapq import heappop, heappush

import numpy as np

from cpython.ref cimport Py_REFCNT

from ember._tensor import Tensor
from ember import _anomaly_mode as anomaly_mode, _grad_mode as grad_mode
from ember._core._backward_steps import (
    _accumulate_into, _add, _feeds_other_target, _fit, _graph, _hook_grad_outputs, _needed,
    _pre_hooks, _zeros,
)
from ember._core._graph import AccumulateGrad
from ember_tensor import Array

from ember._core.grad_flags cimport grad_enabled
from ember._core.graph_base cimport NodeBase
from ember._core.tensor_base cimport TensorBase, new_tensor


cdef tuple _ref_counts(list holder):
    """References to holder[0] (a Tensor), to its Array and to that Array's ndarray, as seen
    from here (the locals add one each)."""
    cdef TensorBase t = holder[0]
    data = t._data
    arr = data._np
    return (Py_REFCNT(t), Py_REFCNT(data), Py_REFCNT(arr))


def sole_counts():
    """What ``_ref_counts`` reports for a gradient nobody else holds: measured, not assumed,
    so that interpreter differences in counting temporaries cannot make adoption unsafe.
    None where reference counts are not exact (free-threaded Python): never adopt there."""
    if not getattr(sys, "_is_gil_enabled", lambda: True)():
        return None
    return _ref_counts([new_tensor(Tensor, Array(np.empty(2, dtype=np.float32)))])


_SOLE = sole_counts()


cdef Py_ssize_t _base_count(arr):
    """References to ``arr.base`` as seen from here (the attribute read adds one)."""
    return Py_REFCNT(arr.base)


def sole_base_count():
    """What ``_base_count`` reports for an ndarray held only as its one view's base: the
    case of a gradient formed transposed and transposed back (Linear's weight gradient).
    None where reference counts are not exact."""
    if _SOLE is None:
        return None
    view = np.empty((2, 3), dtype=np.float32).T.T
    _base = view.base  # held as ``adoptable`` holds it
    return _base_count(view)


_SOLE_BASE = sole_base_count()


def adoptable(list holder):
    """True when the gradient Tensor in ``holder`` (a one-owner list) may become a leaf's
    ``.grad`` without the copy: as torch does when nothing else references the incoming
    gradient. That needs the engine's list to be the only reference to the Tensor (not the
    user's ``gradient=``, not another leaf's pending gradient, not a hook's or a node's
    stash), the Tensor the only one on its Array, and the Array the only holder of an
    ndarray that owns its memory (no view of something else, no views of it), laid out as
    the copy would be (C order) and writable (later gradients are added in place). A view
    qualifies too when it is the only holder of its base and spans all of it in C order (a
    product formed transposed and transposed back, as Linear's weight gradient is)."""
    if _SOLE is None or _ref_counts(holder) != _SOLE:
        return False
    arr = (<TensorBase>holder[0])._data._np
    if type(arr) is not np.ndarray or not arr.flags.c_contiguous or not arr.flags.writeable:
        return False
    if arr.base is None:
        return True
    base = arr.base
    return (type(base) is np.ndarray and base.base is None and base.nbytes == arr.nbytes
            and _base_count(arr) == _SOLE_BASE)


cdef dict _dependencies(list roots):
    """How many edges point into each node reachable from ``roots`` (iteratively)."""
    cdef dict deps = {}
    cdef list stack = [n for n in roots if n is not None]
    cdef set root_set = set(stack)
    cdef NodeBase node
    cdef tuple edge
    while stack:
        node = stack.pop()
        for edge in node.next_functions:
            nxt = edge[0]
            if nxt is not None:
                count = deps.get(nxt, 0) + 1
                deps[nxt] = count
                if count == 1 and nxt not in root_set:  # first edge into it: walk it once
                    stack.append(nxt)
    return deps


cdef inline tuple _entry(NodeBase node):
    return (-node._sequence_nr, id(node), node)


cdef void _deliver(dict buffers, NodeBase node, Py_ssize_t nr, object grad, bint create_graph):
    cdef list buf = buffers.get(node)
    cdef Py_ssize_t n_out
    if buf is None:
        n_out = len(node._out_meta) if node._out_meta else 1
        buf = buffers[node] = [None] * max(n_out, nr + 1)
    old = buf[nr]
    buf[nr] = grad if old is None else _add(old, grad, create_graph)


cdef bint _fits(tuple m, TensorBase g):
    arr = g._data._np
    dt = arr.dtype
    return arr.shape == m[0] and (dt is m[1] or dt == m[1])


def execute(list root_edges, grad_tensors, bint retain_graph, bint create_graph, inputs,
            dict capture, list captured, bint accumulate):
    """Run the graph's nodes in dependency order, latest op first."""
    cdef NodeBase node, nxt, follow = None
    cdef list ready = [], grads
    cdef dict buffers = {}, deps
    cdef bint restrict = inputs is not None, is_leaf
    cdef Py_ssize_t k, nr, n_next, n_meta, count
    cdef tuple out, nexts, meta, out_meta, m
    root_nodes = [n for n, _ in root_edges]
    if restrict:
        deps, parents = _graph(root_nodes, True)
        needed = _needed([n for n, _ in capture], parents)
    else:
        deps, needed = _dependencies(root_nodes), None
    anomaly = anomaly_mode._local.__dict__  # this thread's: read per call, not at import

    for (node_obj, nr), g in zip(root_edges, grad_tensors):
        _deliver(buffers, node_obj, nr, g, create_graph)
    if len(root_nodes) == 1:
        if root_nodes[0] not in deps:
            follow = root_nodes[0]
    else:
        for node_obj in set(root_nodes):
            if deps.get(node_obj, 0) == 0:
                heappush(ready, _entry(node_obj))
    # Locals that could still point at a gradient are cleared after use, so that when a leaf
    # is reached its ``grads`` list is the engine's only reference (see ``_adoptable``).
    g = new = None
    out = None

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
            if not retain_graph:
                node.release()
            continue
        is_leaf = isinstance(node, AccumulateGrad)
        if (node._tensor_pre_hooks or node._retain_grad or node._pre_hooks
                or (is_leaf and node.variable._hooks)):
            grads = _pre_hooks(node, grads, create_graph)
        if capture:  # a gradient captured for ``inputs``/``autograd.grad`` at this output
            for nr in range(len(grads)):
                for i in capture.get((node, nr), ()):
                    captured[i] = _add(captured[i], grads[nr], create_graph)
        if is_leaf:
            if accumulate and grads[0] is not None and (not restrict or (node, 0) in capture):
                variable = node.variable
                if variable._grad is None and not create_graph and adoptable(grads):
                    variable._grad = new_tensor(Tensor, (<TensorBase>grads[0])._data)
                else:
                    _accumulate_into(variable, grads[0], create_graph)
                if variable._post_accumulate_grad_hooks:
                    grads = None  # the hook sees .grad, and the engine must not pin it
                    for fn in list(variable._post_accumulate_grad_hooks.values()):
                        fn(variable)
                variable = None
            continue
        if restrict and not _feeds_other_target(node, needed):
            if not retain_graph:
                node.release()
            for nxt_obj, _ in node.next_functions:
                if nxt_obj is not None:
                    count = deps[nxt_obj] - 1
                    deps[nxt_obj] = count
                    if count == 0:
                        heappush(ready, _entry(nxt_obj))
            continue
        if create_graph and node.once_differentiable:
            raise RuntimeError(
                f"{node.name()} is implemented with once_differentiable kernels: its backward "
                "cannot be differentiated (create_graph=True passed through it)"
            )
        out_meta = node._out_meta
        # as they came, for the node's hooks (held only then: a second reference to a
        # gradient would keep its consumers from reusing or adopting it)
        given = grads if node._hooks else None
        if out_meta and (len(grads) != 1 or grads[0] is None):
            grads = [grads[k] if grads[k] is not None else _zeros(out_meta[k])
                     for k in range(len(grads))]
        if grad_enabled() == create_graph:
            result = node.backward(*grads)
        else:  # a hook switched grad mode: run the formula in the backward's own mode
            with grad_mode.set_grad_enabled(create_graph):
                result = node.backward(*grads)
        if type(result) is tuple:
            out = <tuple>result
        elif isinstance(result, tuple):
            out = tuple(result)
        else:
            out = (result,)
        result = None
        if anomaly.get("enabled"):
            anomaly_mode.check_gradients(node, out)
        if node._hooks:
            for fn in list(node._hooks.values()):
                new = fn(out, _hook_grad_outputs(given, out_meta))
                if new is not None:
                    out = tuple(new)
            new = None
        given = None
        if not retain_graph and node._saved:
            node.release()
        nexts = node.next_functions
        n_next = len(nexts)
        if len(out) != n_next:
            if len(out) < n_next and all([n is None for n, _ in nexts[len(out):]]):
                out = out + (None,) * (n_next - len(out))
            else:
                raise RuntimeError(
                    f"function {node.name()} returned an incorrect number of gradients "
                    f"(expected {n_next}, got {len(out)})"
                )
        meta = node._input_meta
        n_meta = len(meta)
        for k in range(n_next):
            nxt_obj, nr = nexts[k]
            if nxt_obj is None:
                continue
            nxt = nxt_obj
            g = out[k]
            if g is not None:
                m = meta[k] if k < n_meta else None
                if m is not None and not _fits(m, g):
                    g = _fit(m, g, create_graph)
                if nr == 0 and nxt not in buffers and len(nxt._out_meta) <= 1:
                    buffers[nxt] = [g]
                else:
                    _deliver(buffers, nxt, nr, g, create_graph)
                g = None
            count = deps[nxt] - 1
            deps[nxt] = count
            if count == 0:
                if follow is not None:
                    heappush(ready, _entry(follow))
                follow = nxt
        out = None
        grads = None
        if follow is not None and ready and ready[0][0] < -follow._sequence_nr:
            heappush(ready, _entry(follow))  # not next in order
            follow = None

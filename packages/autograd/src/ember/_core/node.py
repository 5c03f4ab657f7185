"""``record``, the one function every differentiable op calls.

An op computes its result on Arrays, then calls ``record(NodeClass, outputs, inputs, ...)``:
``record`` wraps the outputs as Tensors and, only when grad mode is on and some input
requires grad, builds the node that knows how to send gradients back to the inputs.
The graph's pieces live in _core/_graph.py and are re-exported here, where the ops look.
"""
from .. import _grad_mode as grad_mode
from . import PURE_PYTHON_CORE
from .._hooks import RemovableHandle
from .._tensor import Tensor, check_inplace
from .. import _anomaly_mode as anomaly_mode
from . import views
from ._graph import _NO_EDGE, AccumulateGrad, Node, SavedTensor, edge

__all__ = ["Node", "AccumulateGrad", "SavedTensor", "edge", "record", "check_inplace",
           "RemovableHandle"]


def record(node_cls, outputs, inputs, save=(), non_differentiable=(), view_of=None, **attrs):
    """Wrap already computed ``outputs`` as Tensors and, if needed, attach a ``node_cls``.

    ``outputs``: an Array, a tuple of Arrays, or a Tensor that an in-place op modified.
    ``inputs``: the op's inputs (Tensors, or anything else, which gets a None gradient).
    ``save``: Tensors from ``inputs`` or Arrays from ``outputs`` the backward needs, in order.
    ``non_differentiable``: output Arrays that never require grad (indices, masks).
    ``view_of``: the input the outputs are views of; they share its version counter.
    ``attrs``: set on the node, for its backward.
    Returns a Tensor (or a tuple of Tensors when ``outputs`` is a tuple).

    This is the readable reference. The one ops run by default is its compiled copy,
    ``ember/_core/_record_compiled.pyx``, with the speed shortcuts; ``EMBER_PURE_PYTHON_CORE=1``
    selects this one.
    """
    grad_enabled = grad_mode._state.grad_enabled
    builds_graph = grad_enabled and any(isinstance(x, Tensor) and x._requires_grad
                                        for x in inputs)
    node = None
    if builds_graph:
        node = node_cls()
        if anomaly_mode._local.__dict__.get("enabled"):
            node._anomaly_trace = anomaly_mode.forward_trace()
        _link(node, inputs)
        for name, value in attrs.items():
            setattr(node, name, value)
    single = type(outputs) is not tuple
    outs = (outputs,) if single else outputs
    shared_counter = view_of._version_counter if view_of is not None else None
    result = []
    modified = None  # the tensor an in-place op wrote to
    metas = []  # None for an output no gradient can reach: the engine hands it None
    for i, out in enumerate(outs):
        if isinstance(out, Tensor):  # in-place: the tensor keeps its identity
            t = out
            t._version_counter[0] += 1
            modified = t
        else:
            t = Tensor._make(out)
            if shared_counter is not None:
                t._version_counter = shared_counter
                if grad_enabled:
                    views.register_view(t, view_of, not single)
        differentiable = not any(out is nd for nd in non_differentiable)
        if node is not None and t._data._np.dtype.kind == "f" and differentiable:
            t._requires_grad = True
            t.grad_fn = node
            t._output_nr = i
            metas.append((t._data._np.shape, t._data._np.dtype))
        else:
            metas.append(None)
        result.append(t)
    if node is not None:
        node._out_meta = tuple(metas)
        node._saved = tuple(_save(s, outs, result) for s in save)
        if modified is not None and (modified._base is not None or modified._views):
            target = next((k for k, x in enumerate(inputs) if x is modified), 0)
            views.after_inplace(modified, node, target)
    return result[0] if single else tuple(result)


def _link(node, inputs):
    """Set the node's edges, ``needs_input_grad`` and input meta, one entry per input."""
    node.next_functions = tuple(edge(x) if isinstance(x, Tensor) else _NO_EDGE
                                for x in inputs)
    node.needs_input_grad = tuple(isinstance(x, Tensor) and x._requires_grad for x in inputs)
    node._input_meta = tuple((x._data._np.shape, x._data._np.dtype)
                             if isinstance(x, Tensor) else None for x in inputs)


def _save(s, outs, result):
    """What a node keeps of one saved value: an input Tensor as is; an output by its data
    and version counter (keeping the Tensor would make a cycle through its grad_fn)."""
    if s is None:
        return None
    if isinstance(s, Tensor):
        return SavedTensor(s)
    for i, out in enumerate(outs):
        if out is s:
            t = result[i]
            return SavedTensor(None, output_nr=i, data=t._data, counter=t._version_counter)
    # a helper Array that is neither input nor output: keep it as is
    return SavedTensor(Tensor._make(s))


if not PURE_PYTHON_CORE:
    # the compiled copy of record above (the switch: ember/_core/__init__.py)
    from ._record_compiled import record  # type: ignore[no-redef]  # noqa: E402,F811

"""``record``, the one function every differentiable op calls.

An op computes its result on Arrays, then calls ``record(NodeClass, outputs, inputs, ...)``:
``record`` wraps the outputs as Tensors and, only when grad mode is on and some input
requires grad, builds the node that knows how to send gradients back to the inputs.
The graph's pieces live in autograd/_graph.py and are re-exported here, where the ops look.
"""
from .. import _grad_mode as grad_mode
from .._hooks import RemovableHandle
from .._tensor import Tensor, check_inplace
from . import anomaly_mode, views
from ._graph import _NO_EDGE, AccumulateGrad, Node, SavedTensor, _accumulator, edge

__all__ = ["Node", "AccumulateGrad", "SavedTensor", "edge", "record", "check_inplace",
           "RemovableHandle"]

_new = object.__new__
_grad_state = grad_mode._state
_anomaly_local = anomaly_mode._local


def record(node_cls, outputs, inputs, save=(), non_differentiable=(), view_of=None, **attrs):
    """Wrap already computed ``outputs`` as Tensors and, if needed, attach a ``node_cls``.

    ``outputs``: an Array, a tuple of Arrays, or a Tensor that an in-place op modified.
    ``inputs``: the op's inputs (Tensors, or anything else, which gets a None gradient).
    ``save``: Tensors from ``inputs`` or Arrays from ``outputs`` the backward needs, in order.
    ``non_differentiable``: output Arrays that never require grad (indices, masks).
    ``view_of``: the input the outputs are views of; they share its version counter.
    Returns a Tensor (or a tuple of Tensors when ``outputs`` is a tuple).

    This runs once per op, so it is written for speed: plain loops, no generators, and a
    short path for the usual single output.
    """
    needs = False
    if _grad_state.grad_enabled:
        for x in inputs:
            if isinstance(x, Tensor) and x._requires_grad:
                needs = True
                break
    single = type(outputs) is not tuple
    if not needs:
        if view_of is None:  # the no-graph path: just wrap
            if single:
                if isinstance(outputs, Tensor):
                    outputs._version_counter[0] += 1
                    return outputs
                # the hottest path: Tensor._make inlined, saving a classmethod call per op
                t = _new(Tensor)
                t._init(outputs)
                return t
            result = []
            for out in outputs:
                if isinstance(out, Tensor):
                    out._version_counter[0] += 1
                    result.append(out)
                else:
                    result.append(Tensor._make(out))
            return tuple(result)
        node = None
    else:
        node = node_cls()
        if _anomaly_local.__dict__.get("enabled"):
            node._anomaly_trace = anomaly_mode.forward_trace()
        if len(inputs) == 1:
            x = inputs[0]  # requires grad, or needs would be False
            arr = x._data._np
            fn = x.grad_fn
            node.next_functions = ((fn, x._output_nr) if fn is not None else
                                   (_accumulator(x), 0),)
            node.needs_input_grad = _NEEDS_ONE
            node._input_meta = ((arr.shape, arr.dtype),)
        else:
            _link(node, inputs, Tensor)
        if attrs:
            node.__dict__.update(attrs)
    if single and view_of is None and not non_differentiable and not isinstance(outputs,
                                                                                Tensor):
        t = _new(Tensor)
        t._init(outputs)
        arr = outputs._np
        if arr.dtype.kind == "f":
            t._requires_grad = True
            t.grad_fn = node
        node._out_meta = ((arr.shape, arr.dtype),)
        if save:
            saved = []
            for x in save:
                if x is None:
                    saved.append(None)
                elif x is outputs:
                    saved.append(SavedTensor(None, 0, outputs, t._version_counter))
                elif isinstance(x, Tensor):
                    saved.append(SavedTensor(x))
                else:
                    saved.append(_save(x, (outputs,), (t,), Tensor))
            node._saved = tuple(saved)
        return t
    outs = (outputs,) if single else outputs
    result = []
    counter = view_of._version_counter if view_of is not None else None
    register = counter is not None and _grad_state.grad_enabled
    modified = None
    for i, out in enumerate(outs):
        if isinstance(out, Tensor):  # in-place: the tensor keeps its identity
            t = out
            t._version_counter[0] += 1
            modified = t
        else:
            t = Tensor._make(out)
            if counter is not None:
                t._version_counter = counter
                if register:
                    views.register_view(t, view_of, not single)
        if node is not None and t._data._np.dtype.kind == "f" and not (
            non_differentiable and any(out is nd for nd in non_differentiable)
        ):
            t._requires_grad = True
            t.grad_fn = node
            t._output_nr = i
        result.append(t)
    if node is not None:
        node._out_meta = tuple([(t._data._np.shape, t._data._np.dtype) for t in result])
        if save:
            node._saved = tuple([_save(s, outs, result, Tensor) for s in save])
        if modified is not None and (modified._base is not None or modified._views):
            target = next((k for k, x in enumerate(inputs) if x is modified), 0)
            views.after_inplace(modified, node, target)
    return result[0] if single else tuple(result)


_NEEDS_ONE = (True,)


def _input_link(x, Tensor):
    """(edge, needs grad, meta) of one input of a binary op."""
    if isinstance(x, Tensor):
        arr = x._data._np
        if x._requires_grad:
            fn = x.grad_fn
            return ((fn, x._output_nr) if fn is not None else (_accumulator(x), 0), True,
                    (arr.shape, arr.dtype))
        return _NO_EDGE, False, (arr.shape, arr.dtype)
    return _NO_EDGE, False, None


def _link(node, inputs, Tensor):
    """Set the node's edges, needs_input_grad and input meta for several inputs."""
    if len(inputs) == 2:  # binary ops: no lists to grow
        e0, n0, m0 = _input_link(inputs[0], Tensor)
        e1, n1, m1 = _input_link(inputs[1], Tensor)
        node.next_functions = (e0, e1)
        node.needs_input_grad = (n0, n1)
        node._input_meta = (m0, m1)
        return
    nexts = []
    needs_grad = []
    meta = []
    for x in inputs:
        if isinstance(x, Tensor):
            if x._requires_grad:
                fn = x.grad_fn
                nexts.append((fn, x._output_nr) if fn is not None else (_accumulator(x), 0))
                needs_grad.append(True)
            else:
                nexts.append(_NO_EDGE)
                needs_grad.append(False)
            arr = x._data._np
            meta.append((arr.shape, arr.dtype))
        else:
            nexts.append(_NO_EDGE)
            needs_grad.append(False)
            meta.append(None)
    node.next_functions = tuple(nexts)
    node.needs_input_grad = tuple(needs_grad)
    node._input_meta = tuple(meta)


def _save(s, outs, result, Tensor):
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


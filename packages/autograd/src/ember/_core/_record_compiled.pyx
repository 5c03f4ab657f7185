"""``record``, compiled: the call every differentiable op makes, with its speed shortcuts.

The readable reference, with the same arguments and results, is ``record`` in
``ember/_core/node.py`` (``EMBER_PURE_PYTHON_CORE=1`` runs it instead). What this copy
adds: the no-graph path wraps without building anything, a single Array output (most ops)
skips the general loop, one- and two-input ops set the node's edges without growing lists,
and fields are written in C (``TensorBase``, ``NodeBase``, ``SavedTensor``).
"""
from cpython.weakref cimport PyWeakref_NewRef

import numpy as np

from ember._tensor import Tensor
from ember import _anomaly_mode as anomaly_mode
from ember._core import views
from ember._core._graph import AccumulateGrad

from ember._core.graph_base cimport AccumulateGradBase, NodeBase, save_input, save_output
from ember._core.grad_flags cimport grad_enabled
from ember._core.tensor_base cimport TensorBase, instance_of, new_tensor

_anomaly_local = anomaly_mode._local
cdef tuple _NO_EDGE = (None, 0)
cdef object _FLOAT32 = np.dtype(np.float32), _FLOAT64 = np.dtype(np.float64)
cdef tuple _NEEDS_ONE = (True,)


cdef inline tuple _edge(TensorBase x):
    """The (node, output_nr) a gradient for ``x`` (which requires grad) flows into."""
    cdef AccumulateGradBase node
    if x.grad_fn is not None:
        return (x.grad_fn, x._output_nr)
    ref = x._accumulator
    if ref is not None:
        alive = ref()
        if alive is not None:
            return (alive, 0)
    # AccumulateGrad(x) without the call machinery: its __init__ only sets the field
    node = <AccumulateGradBase>instance_of(AccumulateGradBase, AccumulateGrad)
    node.variable = x
    x._accumulator = PyWeakref_NewRef(node, None)
    return (node, 0)


cdef inline tuple _meta(TensorBase x):
    arr = x._data._np
    return (arr.shape, arr.dtype)


cdef void _link(NodeBase node, tuple inputs):
    """Set the node's edges, needs_input_grad and input meta."""
    cdef Py_ssize_t n = len(inputs), k
    cdef list nexts = [None] * n, needs = [None] * n, meta = [None] * n
    for k in range(n):
        x = inputs[k]
        if isinstance(x, TensorBase):
            if (<TensorBase>x)._requires_grad:
                nexts[k] = _edge(<TensorBase>x)
                needs[k] = True
            else:
                nexts[k] = _NO_EDGE
                needs[k] = False
            meta[k] = _meta(<TensorBase>x)
        else:
            nexts[k] = _NO_EDGE
            needs[k] = False
    node.next_functions = tuple(nexts)
    node.needs_input_grad = tuple(needs)
    node._input_meta = tuple(meta)


cdef object _save(object s, tuple outs, list result):
    cdef Py_ssize_t i
    cdef TensorBase t
    if s is None:
        return None
    if isinstance(s, TensorBase):
        return save_input(s)
    for i in range(len(outs)):
        if outs[i] is s:
            t = result[i]
            return save_output(i, t._data, t._version_counter)
    return save_input(new_tensor(Tensor, s))  # a helper Array, neither input nor output


cdef inline bint _float_dtype(dt):
    # NumPy's own float32/float64 descriptors by identity, any other by its kind
    return dt is _FLOAT32 or dt is _FLOAT64 or dt.kind == "f"


cdef inline bint _is_float(TensorBase t):
    return _float_dtype(t._data._np.dtype)


def record(node_cls, outputs, inputs, save=(), non_differentiable=(), view_of=None, **attrs):
    """Wrap already computed ``outputs`` as Tensors and, if needed, attach a ``node_cls``
    (see the reference ``ember._core.node.record`` for the arguments)."""
    cdef bint needs = False, single, register
    cdef TensorBase t, x
    cdef NodeBase node = None
    cdef Py_ssize_t i
    cdef tuple ins = inputs if type(inputs) is tuple else tuple(inputs)
    cdef list result
    for obj in ins:  # the inputs first: the grad mode is read only when one requires grad
        if isinstance(obj, TensorBase) and (<TensorBase>obj)._requires_grad:
            needs = grad_enabled()
            break
    single = type(outputs) is not tuple
    if not needs:
        if view_of is None:  # the no-graph path: just wrap
            if single:
                if isinstance(outputs, TensorBase):
                    (<TensorBase>outputs)._version_counter[0] += 1
                    return outputs
                return new_tensor(Tensor, outputs)
            result = []
            for out in outputs:
                if isinstance(out, TensorBase):
                    (<TensorBase>out)._version_counter[0] += 1
                    result.append(out)
                else:
                    result.append(new_tensor(Tensor, out))
            return tuple(result)
    else:
        node = node_cls()
        if _anomaly_local.__dict__.get("enabled"):
            node._anomaly_trace = anomaly_mode.forward_trace()
        if len(ins) == 1:
            x = ins[0]  # requires grad, or needs would be False
            node.next_functions = (_edge(x),)
            node.needs_input_grad = _NEEDS_ONE
            node._input_meta = (_meta(x),)
        else:
            _link(node, ins)
        if attrs:
            node.__dict__.update(attrs)
    if single and view_of is None and not non_differentiable and not isinstance(outputs,
                                                                                TensorBase):
        # the usual op: one new Array output
        t = new_tensor(Tensor, outputs)
        arr = outputs._np  # read once for the float test and the meta
        dt = arr.dtype
        if _float_dtype(dt):
            t._requires_grad = True
            t.grad_fn = node
        node._out_meta = ((arr.shape, dt),)
        if save:
            node._saved = tuple([_save(s, (outputs,), [t]) for s in save])
        return t
    outs = (outputs,) if single else outputs
    result = []
    counter = view_of._version_counter if view_of is not None else None
    register = counter is not None and grad_enabled()
    modified = None
    # an output that can never carry a gradient (indices, a mask) has no meta: the engine
    # then hands the backward None for it instead of allocating zeros it would not read
    metas = []
    for i in range(len(outs)):
        out = outs[i]
        if isinstance(out, TensorBase):  # in-place: the tensor keeps its identity
            t = out
            t._version_counter[0] += 1
            modified = t
        else:
            t = new_tensor(Tensor, out)
            if counter is not None:
                t._version_counter = counter
                if register:
                    views.register_view(t, view_of, not single)
        if node is not None and _is_float(t) and not (
                non_differentiable and any([out is nd for nd in non_differentiable])):
            t._requires_grad = True
            t.grad_fn = node
            t._output_nr = i
            metas.append(_meta(<TensorBase>t))
        else:
            metas.append(None)
        result.append(t)
    if node is not None:
        node._out_meta = tuple(metas)
        if save:
            node._saved = tuple([_save(s, outs, result) for s in save])
        if modified is not None and (modified._base is not None or modified._views):
            target = next((k for k, v in enumerate(ins) if v is modified), 0)
            views.after_inplace(modified, node, target)
    return result[0] if single else tuple(result)

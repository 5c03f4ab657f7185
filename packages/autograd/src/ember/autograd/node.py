"""Graph nodes and ``record``, the one function every differentiable op calls.

An op computes its result on Arrays, then calls ``record(NodeClass, outputs, inputs, ...)``:
``record`` wraps the outputs as Tensors and, only when grad mode is on and some input
requires grad, builds the node that knows how to send gradients back to the inputs.
"""
import itertools
import re
import weakref
from types import MappingProxyType

from .._hooks import RemovableHandle  # noqa: F401 - tensor hooks use it from here
from . import anomaly_mode, grad_mode

__all__ = ["Node", "AccumulateGrad", "record", "check_inplace", "RemovableHandle"]

_sequence = itertools.count()

_FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)


class _HookDict(dict):
    """A dict that can be weakly referenced, so handles don't keep hooks alive."""


def _type_name(data):
    names = {
        "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
        "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
        "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor",
    }
    return f"[torch.{names[data.dtype.name]} [{', '.join(str(s) for s in data.shape)}]]"


class SavedTensor:
    """One tensor a node keeps for its backward, with the version it had when saved."""

    __slots__ = ("tensor", "data", "counter", "version", "output_nr", "is_output")

    def __init__(self, tensor, output_nr=None, data=None, counter=None):
        if output_nr is None:
            self.tensor = tensor
            self.data = tensor._data
            self.counter = counter = tensor._version_counter
            self.output_nr = None
            self.is_output = False
        else:
            # an output would reference its own grad_fn: keep data only, rebuild on unpack
            self.tensor = None
            self.data = data
            self.counter = counter
            self.output_nr = output_nr
            self.is_output = True
        self.version = counter[0]

    def unpack(self, node):
        if self.counter[0] != self.version:
            if self.is_output:
                where = f", which is output {self.output_nr} of {_op_name(node)},"
            elif self.tensor.grad_fn is not None:
                where = (f", which is output {self.tensor._output_nr} of "
                         f"{_op_name(self.tensor.grad_fn)},")
            else:
                where = ""
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: {_type_name(self.data)}{where} is at version "
                f"{self.counter[0]}; expected version {self.version} instead. Hint: enable "
                "anomaly detection to find the operation that failed to compute its gradient, "
                "with torch.autograd.set_detect_anomaly(True, check_nan=False)."
            )
        if not self.is_output:
            return self.tensor
        from .._tensor import Tensor

        t = Tensor._make(self.data)
        t._version_counter = self.counter
        if self.data._np.dtype.kind == "f":  # integer outputs (indices) have no history
            t._requires_grad = True
            t.grad_fn = node
            t._output_nr = self.output_nr
        return t


def _op_name(node):
    return re.sub(r"Backward\d*$", "", node.name())


_NO_HOOKS = MappingProxyType({})  # what a node without hooks shows: empty, read-only


class Node:
    """A step of the backward graph. Subclasses are named as torch's grad_fn classes.

    ``backward(*grad_outputs)`` returns one gradient (Tensor or None) per input, written
    with Tensor ops so that ``create_graph=True`` differentiates through it.

    A node is made for every recorded op, so its construction sets one attribute; the rest
    start as class-level defaults (immutable), and hook tables appear on first registration.
    ``_input_meta``/``_out_meta`` hold ``(shape, numpy dtype)`` per input/output.
    """

    once_differentiable = False
    next_functions = ()
    needs_input_grad = ()
    _input_meta = ()
    _out_meta = ()
    _saved = ()
    _freed = False
    _tensor_pre_hooks = _NO_HOOKS  # output_nr -> _HookDict of tensor hooks
    _retain_grad = _NO_HOOKS  # output_nr -> weakref of a tensor that retains its grad
    _hooks = _NO_HOOKS
    _pre_hooks = _NO_HOOKS

    def __init__(self):
        self._sequence_nr = next(_sequence)

    @property
    def metadata(self):
        meta = self.__dict__.get("_metadata")
        if meta is None:
            meta = self._metadata = {}
        return meta

    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"

    @property
    def saved_tensors(self):
        if self._freed:
            raise RuntimeError(_FREED_MSG)
        result = []
        for s in self._saved:
            if s is None:
                result.append(None)
            elif s.tensor is not None and s.counter[0] == s.version:  # the usual case
                result.append(s.tensor)
            else:
                result.append(s.unpack(self))
        return tuple(result)

    def _release(self):
        if self._saved:
            self._freed = True
            self._saved = ()

    def backward(self, *grad_outputs):
        raise NotImplementedError(f"{self.name()} has no backward")

    def __call__(self, *grad_outputs):
        return self.backward(*grad_outputs)

    def _own(self, name):
        """This node's own (writable) hook table ``name``, made on first use."""
        table = self.__dict__.get(name)
        if table is None:
            table = _HookDict() if name != "_retain_grad" else {}
            setattr(self, name, table)
        return table

    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` runs after this node; may return new grad_inputs."""
        hooks = self._own("_hooks")
        handle = RemovableHandle(hooks)
        hooks[handle.id] = fn
        return handle

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` runs before this node; may return new grad_outputs."""
        hooks = self._own("_pre_hooks")
        handle = RemovableHandle(hooks)
        hooks[handle.id] = fn
        return handle

    def _add_tensor_hook(self, output_nr, fn):
        hooks = self._own("_tensor_pre_hooks").setdefault(output_nr, _HookDict())
        handle = RemovableHandle(hooks)
        hooks[handle.id] = fn
        return handle

    def _add_retain_grad(self, output_nr, tensor):
        self._own("_retain_grad")[output_nr] = weakref.ref(tensor)


class AccumulateGrad(Node):
    """The sink of a leaf tensor: adds the incoming gradient into ``variable.grad``."""

    def __init__(self, variable):
        self._sequence_nr = next(_sequence)
        self.variable = variable

    @property
    def _input_meta(self):
        arr = self.variable._data._np
        return ((arr.shape, arr.dtype),)

    def backward(self, grad):  # the engine accumulates; this is only for direct calls
        return ()


def _accumulator(tensor):
    ref = tensor._accumulator
    node = ref() if ref is not None else None
    if node is None:
        node = AccumulateGrad(tensor)
        tensor._accumulator = weakref.ref(node)
    return node


def edge(tensor):
    """The (node, output_nr) a gradient for ``tensor`` flows into, or (None, 0)."""
    if not tensor._requires_grad:
        return (None, 0)
    if tensor.grad_fn is not None:
        return (tensor.grad_fn, tensor._output_nr)
    return (_accumulator(tensor), 0)


def check_inplace(tensor):
    """Raise torch's error before an in-place op mutates a leaf that requires grad."""
    if tensor._requires_grad and tensor.grad_fn is None and grad_mode._state.grad_enabled:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation."
        )


_Tensor = None  # ember.Tensor, bound on first use (node.py is imported before _tensor.py)


def _tensor_class():
    global _Tensor
    if _Tensor is None:
        from .._tensor import Tensor

        _Tensor = Tensor
    return _Tensor


_new = object.__new__
_NO_EDGE = (None, 0)
_grad_state = grad_mode._state
_anomaly_local = anomaly_mode._local


def _wrap(array):
    t = _new(_Tensor)
    t._init(array)
    return t


def make_tensor(array):
    """A Tensor with no history around ``array`` (usable before any op has run)."""
    t = _new(_Tensor or _tensor_class())
    t._init(array)
    return t


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
    Tensor = _Tensor or _tensor_class()
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
                t = _new(Tensor)
                t._init(outputs)
                return t
            result = []
            for out in outputs:
                if isinstance(out, Tensor):
                    out._version_counter[0] += 1
                    result.append(out)
                else:
                    result.append(_wrap(out))
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
            t = _wrap(out)
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


# The view + in-place rules build on Node and are called from record: imported last.
from . import views  # noqa: E402

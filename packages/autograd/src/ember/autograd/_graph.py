"""The backward graph's pieces: ``Node``, ``SavedTensor``, ``AccumulateGrad`` and edges.

Below ``record`` (autograd/node.py) and the view rules (autograd/views.py), which both build
nodes; above ``ember._tensor``, whose Tensors the nodes save and hand back.
"""
import itertools
import re
import weakref
from types import MappingProxyType

from .._hooks import RemovableHandle, _HookDict
from .._tensor import Tensor, _type_name

__all__ = ["Node", "AccumulateGrad", "SavedTensor", "edge"]

_sequence = itertools.count()
_NO_EDGE = (None, 0)  # the edge of an input that needs no gradient

_FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)


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


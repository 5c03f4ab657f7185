"""The backward graph's pieces: ``Node``, ``SavedTensor``, ``AccumulateGrad`` and edges.

Below ``record`` (_core/node.py) and the view rules (_core/views.py), which both build
nodes; above ``ember._tensor``, whose Tensors the nodes save and hand back.
"""
import re
import weakref

from .._hooks import RemovableHandle, _HookDict
from .graph_base import _NO_HOOKS, AccumulateGradBase, NodeBase, SavedTensor
from .._tensor import _type_name

__all__ = ["Node", "AccumulateGrad", "SavedTensor", "edge"]

_NO_EDGE = (None, 0)  # the edge of an input that needs no gradient


def version_error(saved, node):
    """torch's error for a saved tensor modified in place since it was saved."""
    if saved.is_output:
        where = f", which is output {saved.output_nr} of {_op_name(node)},"
    elif saved.tensor.grad_fn is not None:
        where = f", which is output {saved.tensor._output_nr} of {_op_name(saved.tensor.grad_fn)},"
    else:
        where = ""
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: {_type_name(saved.data)}{where} is at version "
        f"{saved.counter[0]}; expected version {saved.version} instead. Hint: enable "
        "anomaly detection to find the operation that failed to compute its gradient, "
        "with torch.autograd.set_detect_anomaly(True, check_nan=False)."
    )


def _op_name(node):
    return re.sub(r"Backward\d*$", "", node.name())


class Node(NodeBase):
    """A step of the backward graph. Subclasses are named as torch's grad_fn classes.

    ``backward(*grad_outputs)`` returns one gradient (Tensor or None) per input, written
    with Tensor ops so that ``create_graph=True`` differentiates through it.

    The fields record and the engine use (edges, ``needs_input_grad``, ``_input_meta``/
    ``_out_meta`` as ``(shape, numpy dtype)`` per input/output, None for an output no
    gradient reaches, saved tensors, hook tables)
    live in the compiled ``NodeBase``; a subclass's own attributes go to its ``__dict__``.
    """

    once_differentiable = False

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

    def backward(self, *grad_outputs):
        raise NotImplementedError(f"{self.name()} has no backward")

    def __call__(self, *grad_outputs):
        return self.backward(*grad_outputs)

    def _own(self, name):
        """This node's own (writable) hook table ``name``, made on first use."""
        table = getattr(self, name)
        if table is _NO_HOOKS:
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


class AccumulateGrad(AccumulateGradBase, Node):
    """The sink of a leaf tensor: adds the incoming gradient into ``variable.grad``
    (``AccumulateGrad(variable)``; the field lives in the compiled base)."""

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


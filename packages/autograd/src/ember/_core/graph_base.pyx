"""The compiled base of the backward graph: node fields, saved tensors and their unpacking.

``ember._core._graph.Node`` (Python) adds names, hooks registration and metadata; the
ops' hundreds of backward classes subclass it in Python, so they keep a ``__dict__`` for
their own attributes.
"""
from types import MappingProxyType

from ember._tensor import Tensor

from .tensor_base cimport TensorBase, new_tensor

_NO_HOOKS = MappingProxyType({})  # what a node without hooks shows: empty, read-only

_FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)

cdef long long _sequence = 0


cdef long long next_sequence_nr():
    global _sequence
    _sequence += 1
    return _sequence


cdef class NodeBase:
    """A step of the backward graph: edges, metadata and saved tensors, no behaviour."""

    def __cinit__(self):  # no arguments: subclasses' constructors take what they like
        self._sequence_nr = next_sequence_nr()
        self.next_functions = ()
        self.needs_input_grad = ()
        self._input_meta = ()
        self._out_meta = ()
        self._saved = ()
        self._tensor_pre_hooks = _NO_HOOKS
        self._retain_grad = _NO_HOOKS
        self._hooks = _NO_HOOKS
        self._pre_hooks = _NO_HOOKS

    cpdef tuple unpack_saved(self):
        """The saved tensors, checked against in-place modification since they were saved."""
        cdef SavedTensor s
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

    @property
    def saved_tensors(self):
        return self.unpack_saved()

    cpdef release(self):
        """Free the saved tensors after a backward that does not retain the graph."""
        if self._saved:
            self._freed = True
            self._saved = ()

    def _release(self):
        self.release()


cdef class AccumulateGradBase(NodeBase):
    """The fields of ``_graph.AccumulateGrad``: its leaf in C, so that ``record`` makes one
    (a leaf's first use in a graph) without running a Python ``__init__``."""

    def __init__(self, variable):
        self.variable = variable


cdef SavedTensor save_input(object tensor):
    cdef SavedTensor s = SavedTensor.__new__(SavedTensor)
    cdef TensorBase t = <TensorBase?>tensor
    s.tensor = t
    s.data = t._data
    s.counter = t._version_counter
    s.version = s.counter[0]
    return s


cdef SavedTensor save_output(Py_ssize_t output_nr, object data, list counter):
    # an output would reference its own grad_fn: keep its data only, rebuild it on unpack
    cdef SavedTensor s = SavedTensor.__new__(SavedTensor)
    s.data = data
    s.counter = counter
    s.version = counter[0]
    s.output_nr = output_nr
    s.is_output = True
    return s


cdef class SavedTensor:
    """One tensor a node keeps for its backward, with the version it had when saved."""

    def __init__(self, tensor, output_nr=None, data=None, counter=None):
        if output_nr is None:
            self.tensor = tensor
            self.data = tensor._data
            self.counter = tensor._version_counter
        else:
            self.data = data
            self.counter = counter
            self.output_nr = output_nr
            self.is_output = True
        self.version = self.counter[0]

    cpdef object unpack(self, node):
        cdef TensorBase t
        if self.counter[0] != self.version:
            from ember._core._graph import version_error

            raise version_error(self, node)
        if not self.is_output:
            return self.tensor
        t = new_tensor(Tensor, self.data)
        t._version_counter = self.counter
        if self.data._np.dtype.kind == "f":  # integer outputs (indices) have no history
            t._requires_grad = True
            t.grad_fn = node
            t._output_nr = self.output_nr
        return t

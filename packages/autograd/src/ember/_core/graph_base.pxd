# The fields of every backward-graph node and saved tensor, laid out in C for record and the
# engine. ``ember.autograd.graph.Node`` and the ops' backward classes subclass NodeBase in Python.

cdef class NodeBase:
    cdef public long long _sequence_nr    # creation order: the engine runs the latest first
    cdef public tuple next_functions      # per input: (node, output_nr) or (None, 0)
    cdef public tuple needs_input_grad
    cdef public tuple _input_meta         # per input: (shape, numpy dtype) or None
    cdef public tuple _out_meta           # per output: (shape, numpy dtype)
    cdef public tuple _saved              # SavedTensor (or None) per saved value
    cdef public bint _freed               # the saved tensors were released by a backward
    cdef public object _tensor_pre_hooks  # output_nr -> _HookDict of tensor hooks
    cdef public object _retain_grad       # output_nr -> weakref of a tensor retaining grad
    cdef public object _hooks             # post-hooks fn(grad_inputs, grad_outputs)
    cdef public object _pre_hooks         # pre-hooks fn(grad_outputs)
    cdef object __weakref__

    cpdef tuple unpack_saved(self)
    cpdef release(self)


cdef class AccumulateGradBase(NodeBase):
    cdef public object variable   # the leaf tensor whose .grad this node accumulates into


cdef class SavedTensor:
    cdef public object tensor     # the input tensor itself, or None for a saved output
    cdef public object data       # its Array
    cdef public list counter      # its version counter, checked on unpack
    cdef public Py_ssize_t version
    cdef public object output_nr  # which output of the node, for a saved output
    cdef public bint is_output

    cpdef object unpack(self, node)


cdef SavedTensor save_input(object tensor)
cdef SavedTensor save_output(Py_ssize_t output_nr, object data, list counter)
cdef long long next_sequence_nr()

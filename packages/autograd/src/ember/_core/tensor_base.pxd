from cpython.object cimport PyObject, PyTypeObject

# The fields of every ember.Tensor, laid out in C so that record and the engine reach them
# without a dictionary lookup. ``ember._tensor.Tensor`` subclasses this in Python.

cdef class TensorBase:
    cdef public object _data              # the ember_tensor.Array holding the values
    cdef public bint _requires_grad
    cdef public object _grad
    cdef public object grad_fn            # the Node that made this tensor, None for a leaf
    cdef public list _version_counter     # [n]: shared with views, bumped by in-place ops
    cdef public Py_ssize_t _output_nr     # which output of grad_fn this tensor is
    cdef public object _hooks             # a leaf's tensor hooks (_HookDict) or None
    cdef public object _accumulator       # weak reference to a leaf's AccumulateGrad
    cdef public bint _retains_grad
    cdef public bint _inference
    cdef public object _base              # the tensor this one is a differentiable view of
    cdef public object _views             # weak references to this tensor's live views
    cdef object __weakref__


cdef TensorBase new_tensor(type cls, object data)


cdef inline object instance_of(type base, type cls):
    """``base.__new__(cls)`` for a compiled ``base`` and its subclass ``cls``, straight
    through ``base``'s allocator (Cython calls ``__new__`` as a Python method when ``cls``
    is not known at compile time: ~800 instructions more)."""
    return (<PyTypeObject*>base).tp_new(cls, <PyObject*>(), NULL)

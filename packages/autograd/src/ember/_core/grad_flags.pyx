"""This thread's grad-mode flags, read from C: ``record``, every new Tensor and the engine
read them on each call.

The flags live in ``ember._grad_mode._state``, a ``threading.local``; reading an attribute of
one costs a lookup of the calling thread's dictionary first (~500 instructions, two of them
on every op). Here the dictionary of the last thread that read is kept with that thread's
id, so a read is the id comparison and one lookup in that dictionary. The dictionary of a
living thread never changes (``local.__dict__`` cannot be reassigned), and thread-state ids
are never reused, so a kept dictionary is never another thread's. Writers keep writing the
attributes; they land in the same dictionary.

Not used where the cache could not be exact: a ``_state`` that is not a plain
``_thread._local`` (replaced by a green-thread library's), or a free-threaded interpreter
(two threads would race on the kept pair); reads then take the attribute.
"""
import sys
import _thread

from cpython.object cimport PyObject
from cpython.dict cimport PyDict_GetItem

from ember import _grad_mode

cdef extern from "Python.h":
    ctypedef struct PyThreadState:
        pass
    PyThreadState* PyThreadState_Get()
    unsigned long long PyThreadState_GetID(PyThreadState* tstate)

_state = _grad_mode._state
cdef bint _cached = (isinstance(_state, _thread._local)
                     and getattr(sys, "_is_gil_enabled", lambda: True)())
cdef unsigned long long _thread_id = 0
cdef dict _flags = None


cdef inline PyObject* _read(str name) except? NULL:
    """The flag's value in this thread's dictionary (borrowed), or NULL when not cached."""
    global _thread_id, _flags
    cdef unsigned long long tid
    if not _cached:
        return NULL
    tid = PyThreadState_GetID(PyThreadState_Get())
    if tid != _thread_id or _flags is None:
        _flags = _state.__dict__  # made, with __init__'s values, on this thread's first read
        _thread_id = tid
    return PyDict_GetItem(_flags, name)


cdef bint grad_enabled() except -1:
    cdef PyObject* v = _read("grad_enabled")
    if v != NULL:
        return <object>v is True or (<object>v is not False and bool(<object>v))
    return bool(_state.grad_enabled)


cdef bint inference_enabled() except -1:
    cdef PyObject* v = _read("inference")
    if v != NULL:
        return <object>v is True or (<object>v is not False and bool(<object>v))
    return bool(_state.inference)


def _flags_for_test():
    """(grad_enabled, inference) as the compiled core reads them: for tests."""
    return grad_enabled(), inference_enabled()

"""The common elementwise call, from Python to its kernel in C.

Most calls of an elementwise op are the plain case: Arrays of one dtype and one shape, C
contiguous, small, no ``out=``. ``binary`` and ``unary`` run that case here without a Python
frame: the operands' ndarrays are read from the Arrays' slot directly, the kernel address
comes from a per-op table indexed by NumPy type number, the result is allocated with
NumPy's C API and the kernel is called on the flat buffers, as ``strided.launch`` would
after merging the dims (one thread, since the work is below ``PARALLEL_MIN_WORK``). The same
call on float operands past that bound is handed to ``strided.launch`` (threads, slabs) from
here, as the general forms would hand it: their Python frame cost 1-2 us a call at 1e6
elements, where the kernel's streaming has just pushed the interpreter's data out of cache.
Two Arrays of one dtype whose shapes broadcast, or with a strided operand, are also handed to
``strided.launch`` from here, with torch's broadcast of the shapes worked out in C (a bias
added to a 64x128 batch: 4.9 -> 2.7 us a call). Every other call goes to the Python
function given to ``bind`` (``_elementwise_core``'s general forms), which returns the same
results and raises the same errors; this module decides nothing torch's rules are about.

The work bound also keeps the GIL question out: launch releases it around a loop, here a loop
of at most ``PARALLEL_MIN_WORK`` element touches runs holding it (a few microseconds).
"""
# offset_alloc.h sets an array's ``mem_handler`` (NEP 49, NumPy 1.22), which NumPy's headers
# declare only for builds that target that API or later; NumPy 2.0-2.2 target 1.19 by
# default. Ember requires NumPy 1.23 at run time, so nothing narrows. Defined before
# NumPy's headers are included (this block comes before the cimport).
cdef extern from *:
    """
    #ifndef NPY_TARGET_VERSION
    #define NPY_TARGET_VERSION NPY_1_22_API_VERSION
    #endif
    """

cimport numpy as cnp
from cpython.object cimport Py_TYPE, PyObject, PyTypeObject
from cpython.ref cimport Py_INCREF

from .parallel cimport PARALLEL_MIN_WORK
from .strided cimport MAX_DIMS, MAX_PARAMS, kernel_fn
from .strided import launch as _launch

cnp.import_array()

# A big broadcast's result (x * row, x + col: the calls ``_launched`` hands to strided.launch)
# starts at the same offset in its page as the operand of its own shape. NumPy's buffers
# start at any 16-byte step of a line, and the float loops align their stores (a broadcast's
# rows on 32 bytes), so an x 16 bytes off the output has every other vector load split
# across two lines, on every row. 1000x1000 times a row, x on a line, in-process A/B of
# launch into outputs at each offset (medians of 25 calls, 8 rounds): out 16 or 48 bytes off
# x 97.7/96.8 us, 0 or 32 off 92.4-93.5 (1 thread, thread time); 51.0/50.6 against 48.0-48.9
# on 2 threads. torch's 64-byte-aligned result met that x on the fast side, Ember's NumPy
# result on the slow one (1.09 in the ops row). The same page offset (not only the line's)
# was as fast as any (1 thread: 93.6 against 93.4-96.7 us over ten offsets). The flat calls
# keep NumPy's allocation: add/relu 1e6 came out 0.2-1.3 us slower matched (ops row,
# alternating processes), their output already 64-byte aligned by the launcher's head.
# The buffer is a page-aligned block (``offset_alloc.h``) handed to the array with a NumPy
# allocation handler (the array keeps it for its free and resize), so the result is an
# ordinary array that owns its data (``base`` None, as the engine's buffer reuse wants).
cdef extern from "offset_alloc.h":
    void* ember_off_alloc(size_t size, size_t off)
    void ember_off_free(void* ctx, void* p, size_t size)
    void ember_off_adopt(cnp.ndarray arr, object handler)
    object ember_off_capsule()


cdef object _offset_handler = ember_off_capsule()

# Whether big broadcasts' results take their operand's page offset (A/B without a rebuild).
cdef bint _match_offset = True


def _set_match_offset(bint on=True):
    """Switch the page-offset matching of big broadcasts' results; returns the old setting."""
    global _match_offset
    old = _match_offset
    _match_offset = on
    return old


cdef cnp.ndarray _empty_like_line(int nd, cnp.npy_intp* dims, int out_type, cnp.ndarray like):
    """A C-ordered result starting at ``like``'s offset in a page (NumPy's own allocation
    when the switch is off): a block of ``offset_alloc.h``'s, adopted by an array made over
    it. (Setting the handler around NumPy's own allocation instead, a context variable's set
    and reset, cost ~2,700 instructions a call of the ~10,000 a 1000x1000 broadcast spends
    outside its loop: callgrind, 00c4f99.)"""
    cdef size_t nbytes
    cdef void* data
    cdef int k
    if not _match_offset or _offset_handler is None:
        return cnp.PyArray_EMPTY(nd, dims, out_type, 0)
    nbytes = cnp.PyArray_DescrFromType(out_type).itemsize
    for k in range(nd):
        nbytes *= <size_t>dims[k]
    data = ember_off_alloc(nbytes if nbytes else 1, (<size_t>cnp.PyArray_DATA(like)) & 4095)
    if data == NULL:
        raise MemoryError()
    try:
        res = cnp.PyArray_SimpleNewFromData(nd, dims, out_type, data)
    except BaseException:
        ember_off_free(NULL, data, 0)
        raise
    ember_off_adopt(res, _offset_handler)
    return res

cdef extern from "Python.h":
    ctypedef struct PyMemberDef:
        int type
        Py_ssize_t offset

    ctypedef struct PyMemberDescrObject:
        PyMemberDef* d_member

    object PyType_GenericAlloc(PyTypeObject* t, Py_ssize_t nitems)


cdef enum:
    # type numbers below this have a slot in the tables (NumPy's builtin types are 0..23)
    NTYPES = 32
    # PyMemberDef.type of a __slots__ entry (T_OBJECT_EX / Py_T_OBJECT_EX)
    SLOT_OBJECT = 16


cdef class _Kernels:
    """One op's kernels by input type number: the same-dtype loop and its result's type,
    and for binary ops the loop taking the second operand as a parameter (``*_scalar``)."""
    cdef kernel_fn same[NTYPES]
    cdef int out_type[NTYPES]
    cdef kernel_fn scalar[NTYPES]
    cdef bint negate  # the scalar loop is add's: sub passes the negated number
    # the launch entries of ``same`` and ``scalar`` by type number (None: no loop), for the
    # big float calls, which go through ``strided.launch`` (its threads) from here
    cdef list same_entry
    cdef list scalar_entry

    def __cinit__(self):
        cdef int k
        self.same_entry = [None] * NTYPES
        self.scalar_entry = [None] * NTYPES
        for k in range(NTYPES):
            self.same[k] = NULL
            self.scalar[k] = NULL
            self.out_type[k] = -1


cdef dict _binary_ops = {}
cdef dict _unary_ops = {}
cdef dict _same_ops = {}
# NumPy's own descriptor of each builtin type: an operand's descriptor must be this very
# object (native byte order, no metadata) for the tables to apply
cdef PyObject* _canonical[NTYPES]
cdef list _held = []  # keeps them (and the Array type) alive
cdef PyTypeObject* _array_type = NULL
cdef Py_ssize_t _np_offset = 0  # where an Array keeps its ``_np`` slot
cdef object _binary_general = None
cdef object _unary_general = None
cdef object _run_general = None


def _slot_offset(cls, str name):
    """Byte offset of the ``__slots__`` entry ``name`` in ``cls``'s instances."""
    desc = cls.__dict__[name]
    if type(desc).__name__ != "member_descriptor":
        raise TypeError(f"{cls.__name__}.{name} is not a __slots__ entry")
    cdef PyMemberDef* member = (<PyMemberDescrObject*><PyObject*>desc).d_member
    if member.type != SLOT_OBJECT:
        raise TypeError(f"{cls.__name__}.{name} is not an object slot")
    return member.offset


def _type_num(dtype):
    cdef int num = dtype.num
    if num < 0 or num >= NTYPES or dtype != cnp.PyArray_DescrFromType(num):
        return -1
    return num


cdef _Kernels _table(dict ops, str name):
    t = ops.get(name)
    if t is None:
        t = ops[name] = _Kernels()
    return <_Kernels>t


def bind(array_type, dict binary_kernels, dict scalar_kernels, dict unary_kernels,
         dict same_kernels, binary_general, unary_general, run_general):
    """Set up the tables, once, from ``_elementwise_core``'s: ``binary_kernels`` (``_FAST``)
    and ``scalar_kernels`` (``_FAST_SCALAR``), keyed ``(op, input dtype)``, ``unary_kernels``
    (``_FAST_UNARY``) and ``same_kernels`` (every two-input loop whose operands and result
    share one dtype), with entries ``(address, dtypes, ...)``; the ``*_general`` functions
    take every call the tables do not cover."""
    global _array_type, _np_offset, _binary_general, _unary_general, _run_general
    cdef int k, num
    cdef _Kernels t
    for k in range(NTYPES):
        _canonical[k] = NULL
        if k < cnp.NPY_NTYPES_LEGACY:
            descr = cnp.PyArray_DescrFromType(k)
            _held.append(descr)
            _canonical[k] = <PyObject*>descr
    _np_offset = _slot_offset(array_type, "_np")
    _array_type = <PyTypeObject*>array_type
    _held.append(array_type)
    _binary_general, _unary_general = binary_general, unary_general
    _run_general = run_general
    for (name, dtype), entry in binary_kernels.items():
        num = _type_num(dtype)
        if num >= 0 and _type_num(entry[1][0]) >= 0:
            t = _table(_binary_ops, name)
            t.same[num] = <kernel_fn><size_t>entry[0]
            t.out_type[num] = entry[1][0].num
            t.same_entry[num] = entry
    for (name, dtype), entry in scalar_kernels.items():
        num = _type_num(dtype)
        # a float operand only: an integer one would round the number through a double
        if num >= 0 and dtype.kind == "f" and entry[1][0] == dtype:
            t = _table(_binary_ops, name)
            t.scalar[num] = <kernel_fn><size_t>entry[0]
            t.negate = name == "sub"
            t.scalar_entry[num] = entry
    for (name, dtype), entry in same_kernels.items():
        num = _type_num(dtype)
        if num >= 0:
            t = _table(_same_ops, name)
            t.same[num] = <kernel_fn><size_t>entry[0]
            t.out_type[num] = num
    for (name, dtype), entry in unary_kernels.items():
        num = _type_num(dtype)
        if num >= 0 and entry[1][0] == dtype:
            t = _table(_unary_ops, name)
            t.same[num] = <kernel_fn><size_t>entry[0]
            t.out_type[num] = num
            t.same_entry[num] = entry


cdef inline cnp.ndarray _data(object x):
    """The ndarray an exact ``Array`` holds, or None (another type, or the slot unset)."""
    cdef PyObject* p
    if Py_TYPE(x) != _array_type:
        return None
    p = (<PyObject**>((<char*><PyObject*>x) + _np_offset))[0]
    if p == NULL or type(<object>p) is not cnp.ndarray:
        return None
    return <cnp.ndarray>p


cdef object _new_array(cnp.ndarray arr):
    """An Array around ``arr``, as ``object.__new__(Array)`` and setting its slot would."""
    res = PyType_GenericAlloc(_array_type, 0)
    Py_INCREF(arr)  # the slot's reference
    (<PyObject**>((<char*><PyObject*>res) + _np_offset))[0] = <PyObject*>arr
    return res


def wrap(cnp.ndarray arr not None):
    """An Array around a result ndarray we made ourselves (no dtype check)."""
    return _new_array(arr)


cdef inline bint _contiguous(cnp.ndarray arr) noexcept:
    return cnp.PyArray_IS_C_CONTIGUOUS(arr)


cdef inline bint _float_type(int num) noexcept:
    return num == cnp.NPY_FLOAT32 or num == cnp.NPY_FLOAT64


cdef object _launch_big(tuple entry, int out_type, cnp.ndarray a, tuple inputs, tuple params):
    """A fresh C-ordered result of ``a``'s shape from ``strided.launch`` (threads, slabs):
    what the general forms do for a big float call, without their Python frame. Float loops
    return no error code."""
    cdef cnp.ndarray res = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(a), cnp.PyArray_DIMS(a),
                                             out_type, 0)
    _launch(entry, res, inputs, params)
    return _new_array(res)


cdef inline int _plain_type(cnp.ndarray arr) noexcept:
    """The operand's type number when its descriptor is NumPy's own for it, else -1."""
    cdef int num = cnp.PyArray_TYPE(arr)
    if 0 <= num < NTYPES and <PyObject*>cnp.PyArray_DESCR(arr) == _canonical[num]:
        return num
    return -1


cdef object _run(kernel_fn f, int out_type, cnp.ndarray a, cnp.ndarray b, double* prm):
    """A fresh C-ordered result of ``a``'s shape from one kernel call over the flat buffers
    (``b`` None: one input)."""
    cdef cnp.ndarray res = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(a), cnp.PyArray_DIMS(a),
                                             out_type, 0)
    cdef char* p[3]
    cdef Py_ssize_t n = cnp.PyArray_SIZE(a)
    p[0] = <char*>cnp.PyArray_DATA(res)
    p[1] = <char*>cnp.PyArray_DATA(a)
    p[2] = <char*>cnp.PyArray_DATA(b) if b is not None else NULL
    if n and f(p, n, prm):  # integer division by zero, as _elementwise_core._run reports it
        raise RuntimeError("ZeroDivisionError")
    return _new_array(res)


def binary(str name, a, b):
    """``_elementwise_core._fast``: the result of a plain same-dtype op on Arrays (or an Array
    and a Python number its dtype absorbs), or None where promotion rules must be worked
    out."""
    cdef cnp.ndarray an = _data(a), bn
    cdef int num
    cdef _Kernels t
    cdef double prm[MAX_PARAMS]
    if an is None:
        return _binary_general(name, a, b)
    t = _binary_ops.get(name)
    num = _plain_type(an)
    if t is None or num < 0:
        return _binary_general(name, a, b)
    if not _contiguous(an):
        return _launched(t, num, name, a, an, b)
    if cnp.PyArray_SIZE(an) * 3 >= PARALLEL_MIN_WORK:
        return _binary_big(t, num, name, a, an, b)
    tb = type(b)
    if tb is float or tb is int:
        if t.scalar[num] == NULL:
            return _binary_general(name, a, b)
        prm[0] = b
        if t.negate:
            prm[0] = -prm[0]
        return _run(t.scalar[num], num, an, None, prm)
    bn = _data(b)
    if not _same_layout(an, bn):
        return _launched(t, num, name, a, an, b)
    if t.same[num] == NULL or _plain_type(bn) != num:
        return _binary_general(name, a, b)
    return _run(t.same[num], t.out_type[num], an, bn, prm)


cdef object _binary_big(_Kernels t, int num, str name, a, cnp.ndarray an, b):
    """``binary``'s call above the work bound: a float operand with a float number or
    another Array of its dtype through ``strided.launch``, as ``_fast_general`` would run
    it; anything else to ``_fast_general``."""
    cdef cnp.ndarray bn
    if not _float_type(num):
        return _binary_general(name, a, b)
    tb = type(b)
    if tb is float or tb is int:
        entry = t.scalar_entry[num]
        if entry is None:
            return _binary_general(name, a, b)
        return _launch_big(entry, num, an, (an,), (b if not t.negate else -b,))
    bn = _data(b)
    entry = t.same_entry[num]
    if not _same_layout(an, bn):
        return _launched(t, num, name, a, an, b)
    if entry is None or _plain_type(bn) != num:
        return _binary_general(name, a, b)
    return _launch_big(entry, t.out_type[num], an, (an, bn), ())


cdef inline bint _same_layout(cnp.ndarray an, cnp.ndarray bn) noexcept:
    """``bn`` (None: not an Array) is C contiguous with ``an``'s shape."""
    cdef int k
    if (bn is None or not _contiguous(bn)
            or cnp.PyArray_NDIM(bn) != cnp.PyArray_NDIM(an)):
        return False
    for k in range(cnp.PyArray_NDIM(an)):
        if cnp.PyArray_DIMS(an)[k] != cnp.PyArray_DIMS(bn)[k]:
            return False
    return True


# Whether ``binary`` runs Arrays of one dtype that broadcast or are strided through
# ``strided.launch`` from here (True) or in ``_fast_general`` (A/B without a rebuild).
cdef bint _launch_broadcasts = True


def _set_launch_broadcasts(bint on=True):
    """Switch ``binary``'s broadcast and strided calls in C; returns the previous setting."""
    global _launch_broadcasts
    old = _launch_broadcasts
    _launch_broadcasts = on
    return old


cdef bint _whole(cnp.ndarray arr, int nd, cnp.npy_intp* dims) noexcept:
    """``arr`` is a C-contiguous operand of the result's shape ``dims``, PARALLEL_MIN_WORK
    elements or more."""
    cdef int k
    if (cnp.PyArray_NDIM(arr) != nd or not _contiguous(arr)
            or cnp.PyArray_SIZE(arr) < PARALLEL_MIN_WORK):
        return False
    for k in range(nd):
        if cnp.PyArray_DIMS(arr)[k] != dims[k]:
            return False
    return True


cdef object _launched(_Kernels t, int num, str name, a, cnp.ndarray an, b):
    """``binary``'s call on two Arrays of one dtype where either is strided or the shapes
    differ: the result of torch's broadcast of the shapes from ``strided.launch``, which
    _fast_general would run the same way (a 1000x1000 matrix times a row spent 3-4 us a
    call in its Python frame). A number, another dtype, or shapes that do not broadcast (its
    error) go to ``_fast_general``."""
    cdef cnp.ndarray bn = _data(b)
    cdef cnp.npy_intp dims[MAX_DIMS]
    cdef cnp.npy_intp da, db
    cdef int k, nda, ndb, nd
    entry = t.same_entry[num]
    if not _launch_broadcasts or bn is None or entry is None or _plain_type(bn) != num:
        return _binary_general(name, a, b)
    nda, ndb = cnp.PyArray_NDIM(an), cnp.PyArray_NDIM(bn)
    nd = nda if nda > ndb else ndb
    for k in range(nd):  # aligned right; a missing dim is a 1
        da = cnp.PyArray_DIMS(an)[k - nd + nda] if k >= nd - nda else 1
        db = cnp.PyArray_DIMS(bn)[k - nd + ndb] if k >= nd - ndb else 1
        if da == db or db == 1:
            dims[k] = da
        elif da == 1:
            dims[k] = db
        else:
            return _binary_general(name, a, b)
    # a big result takes the page offset of an operand of its own shape and layout (x in
    # x * row), which the loop reads along with it
    if _whole(an, nd, dims):
        res = _empty_like_line(nd, dims, t.out_type[num], an)
    elif _whole(bn, nd, dims):
        res = _empty_like_line(nd, dims, t.out_type[num], bn)
    else:
        res = cnp.PyArray_EMPTY(nd, dims, t.out_type[num], 0)
    _launch(entry, res, (an, bn), ())
    return _new_array(res)


def unary(str name, a, dtype=None, out_dtype=None, out=None, tuple params=(),
          inplace=False):
    """``_elementwise_core._unary`` (same arguments): the plain call here, the rest there."""
    cdef cnp.ndarray an
    cdef int num, k
    cdef _Kernels t
    cdef double prm[MAX_PARAMS]
    if dtype is None and out_dtype is None and out is None and len(params) <= MAX_PARAMS:
        an = _data(a)
        t = _unary_ops.get(name)
        if an is not None and t is not None and _contiguous(an):
            num = _plain_type(an)
            if num >= 0 and t.same[num] != NULL:
                if cnp.PyArray_SIZE(an) * 2 >= PARALLEL_MIN_WORK:
                    if _float_type(num):  # big: launch's threads, as _unary_general
                        return _launch_big(t.same_entry[num], num, an, (an,), params)
                else:
                    for k in range(len(params)):
                        prm[k] = params[k]
                    return _run(t.same[num], num, an, None, prm)
    return _unary_general(name, a, dtype, out_dtype, out, params, inplace)


def same_dtype(str name, a, b, dtype=None, out_dtype=None, out=None, tuple params=(),
               inplace=False):
    """``_elementwise_core._binary`` (same arguments): two Arrays of one dtype and shape with
    no dtype, ``out`` or cast asked for run here, the rest there."""
    cdef cnp.ndarray an, bn
    cdef int num, k
    cdef _Kernels t
    cdef double prm[MAX_PARAMS]
    if dtype is None and out_dtype is None and out is None and len(params) <= MAX_PARAMS:
        an, bn = _data(a), _data(b)
        t = _same_ops.get(name)
        if (an is not None and bn is not None and t is not None and _contiguous(an)
                and _contiguous(bn) and cnp.PyArray_SIZE(an) * 3 < PARALLEL_MIN_WORK
                and cnp.PyArray_NDIM(an) == cnp.PyArray_NDIM(bn)):
            num = _plain_type(an)
            if num >= 0 and t.same[num] != NULL and _plain_type(bn) == num:
                for k in range(cnp.PyArray_NDIM(an)):
                    if cnp.PyArray_DIMS(an)[k] != cnp.PyArray_DIMS(bn)[k]:
                        break
                else:
                    for k in range(len(params)):
                        prm[k] = params[k]
                    return _run(t.same[num], num, an, bn, prm)
    return _run_general(name, a, b, dtype, out_dtype, out, params, inplace)


def binary_inplace(str name, a, b):
    """``a <name>= b`` written into ``a``'s memory for the plain call: two C-contiguous
    float32 or float64 Arrays of one dtype and shape, ``a`` writeable, the operands' memory
    either one and the same or apart. Returns True once written; False, with nothing
    written, for every other call, which the caller sends to its general form (promotion,
    broadcasting, integer rules, views and overlaps, errors stay there). Above the work
    bound the call goes through ``strided.launch`` (threads, slabs) with ``a`` as the
    output; each element is read before it is written at the same place, so the aliasing is
    safe. Float loops return no error code."""
    cdef cnp.ndarray an = _data(a), bn = _data(b)
    cdef _Kernels t
    cdef int num
    cdef char* p[3]
    cdef char* pa
    cdef char* pb
    cdef Py_ssize_t n, nbytes
    cdef double prm[MAX_PARAMS]
    if an is None or bn is None:
        return False
    t = _binary_ops.get(name)
    num = _plain_type(an)
    if (t is None or not _float_type(num) or t.same[num] == NULL or t.out_type[num] != num
            or _plain_type(bn) != num or not _contiguous(an) or not _same_layout(an, bn)
            or not cnp.PyArray_ISWRITEABLE(an)):
        return False
    n = cnp.PyArray_SIZE(an)
    nbytes = n * cnp.PyArray_ITEMSIZE(an)
    pa = <char*>cnp.PyArray_DATA(an)
    pb = <char*>cnp.PyArray_DATA(bn)
    if pa != pb and pa < pb + nbytes and pb < pa + nbytes:
        return False  # partly overlapping: the general form decides
    if n * 3 >= PARALLEL_MIN_WORK:
        if t.same_entry[num] is None:
            return False
        _launch(t.same_entry[num], an, (an, bn), ())
        return True
    p[0] = pa
    p[1] = pa
    p[2] = pb
    if n:
        t.same[num](p, n, prm)
    return True


def unary_inplace(str name, a):
    """``a``'s memory overwritten with the one-input op ``name`` of it (``relu_``) for the
    plain call: a C-contiguous, writeable float32/float64 Array with a same-dtype loop.
    Returns True once written; False, with nothing written, for every other call, which
    the caller sends to its general form. Above the work bound through ``strided.launch``
    with ``a`` as the output (each element read before it is written at the same place).
    Float loops return no error code."""
    cdef cnp.ndarray an = _data(a)
    cdef _Kernels t
    cdef int num
    cdef char* p[3]
    cdef Py_ssize_t n
    cdef double prm[MAX_PARAMS]
    if an is None:
        return False
    t = _unary_ops.get(name)
    num = _plain_type(an)
    if (t is None or not _float_type(num) or t.same[num] == NULL or not _contiguous(an)
            or not cnp.PyArray_ISWRITEABLE(an)):
        return False
    n = cnp.PyArray_SIZE(an)
    if n * 2 >= PARALLEL_MIN_WORK:
        _launch(t.same_entry[num], an, (an,), ())
        return True
    p[0] = <char*>cnp.PyArray_DATA(an)
    p[1] = p[0]
    p[2] = NULL
    if n:
        t.same[num](p, n, prm)
    return True

"""Run a contiguous elementwise kernel over broadcast, strided operands without copying them.

Operands arrive with the output's shape (broadcast dims have stride 0). Dims that can be walked
as one are merged first, so same-shape contiguous operands become one flat run that is split
between threads (and so does a contiguous tensor with a 0-dim operand, through the kernel's
variant that reads that operand once). A 2-D plan whose operands all pass in place (unit
stride along the row, or read once) calls the kernel row by row without buffers. Otherwise
the last dim is the inner loop: inputs with unit stride are passed as they are, stride-0
inputs are filled into a block buffer once, other strides are gathered into it, and a strided
output is scattered back from a buffer (strided_buffers.pxd). Outer dims advance with an index
counter, never a division per element. A 2-D plan with a transposed-like input goes to
strided_tiles.pyx, which gathers it a tile at a time.
"""
cimport numpy as cnp
from cython.parallel cimport parallel, prange
from libc.stdlib cimport free
from libc.string cimport memcpy

from .parallel cimport FLAT_SLAB, PARALLEL_MIN_WORK, threads_for
from .strided cimport BLOCK, MAX_ARGS, MAX_DIMS, MAX_PARAMS, Plan, Scratch, kernel_fn
from .strided_buffers cimport filled, gather, new_scratch, scalar_operand, scatter
from .strided_tiles cimport run_tiled, tiles_pay

import numpy as np

cnp.import_array()

cdef extern from "<stdlib.h>" nogil:
    void* aligned_alloc(size_t alignment, size_t size)

cdef enum:
    # Elements of one item on the strided path: 64 KiB of float32 per operand, a few
    # microseconds of work, so the dynamic hand-out costs one atomic per item.
    FLAT_CHUNK = 16384
    # A flat run starts its kernel with the output on a 64-byte boundary (a cache line, one
    # AVX-512 vector): the few elements before it go to a call of their own. NumPy's buffers
    # start 16 bytes past a line, and then every vector store of a run straddles two lines:
    # relu over 1e6 float32 took 92 us so, 83 us aligned (1 thread, AVX-512, a memcpy's time).
    # Rows are not split here: a 1000x1000 row broadcast was no faster with each row aligned
    # by the launcher (two calls a row, and head and tail lengths that change from row to
    # row). The binary float loops of 512 elements or more peel their own head to a 32-byte
    # boundary instead (binary.pyx.tp), which costs no second call; on a flat run that this
    # launcher has already aligned their head is empty.
    OUT_ALIGN = 64
    # runs shorter than this are not split: the second call would cost more than it saves
    ALIGN_MIN_RUN = 128
    # A broadcast row of up to this many bytes is read from an aligned copy (_aligned_row).
    # 1000x1000 float32 times a row 16 bytes past a line, exclusive lock, in-process A/B
    # (_set_align_rows), best of 6 medians: 1 thread (thread time) 110.2 -> 107.1 us,
    # 4000x256 136.3 -> 128.3; 2 threads 61.0/60.1 -> 58.8/59.1, 4000x256 72.5 -> 70.3.
    # (Outputs and matrices 16 bytes past a line cost more: 1 thread, all three aligned,
    # 103 us; Ember's allocations are NumPy's.)
    ROW_COPY_MAX = 65536


cdef inline Py_ssize_t _head(const char* out, Py_ssize_t n, Py_ssize_t size) noexcept nogil:
    """Elements before ``out``'s first OUT_ALIGN boundary, or 0 when a run of ``n`` is not
    worth splitting or the boundary is not a whole number of elements away."""
    cdef Py_ssize_t gap = (-<Py_ssize_t>out) & (OUT_ALIGN - 1)
    if n < ALIGN_MIN_RUN or gap % size:
        return 0
    return gap // size


cdef inline int _aligned_call(kernel_fn f, char** call, Py_ssize_t n, const double* prm,
                              const Plan* pl, int once) noexcept nogil:
    """``f`` over a run of ``n``, split where the output reaches OUT_ALIGN; input ``once``
    (a value read once by a broadcast variant, or 0 for none) stays where it is."""
    cdef Py_ssize_t head = _head(call[0], n, pl.itemsize[0])
    cdef char* rest[MAX_ARGS]
    cdef int k, err
    if head == 0:
        return f(call, n, prm)
    err = f(call, head, prm)
    for k in range(pl.nargs):
        rest[k] = call[k] if k == once and k > 0 else call[k] + head * pl.itemsize[k]
    return err | f(rest, n - head, prm)


cdef inline bint _direct(const Plan* pl, int once) noexcept nogil:
    """Every operand of a 2-D plan is passed to the kernel in place: unit stride along the
    rows, or input ``once`` read as one value by the kernel's broadcast variant."""
    cdef int k
    if pl.ndim != 2:
        return False
    for k in range(pl.nargs):
        if pl.strides[k][1] != pl.itemsize[k] and (k != once or k == 0):
            return False
    return True


cdef int _rows_direct(const Plan* pl, kernel_fn f, int once, Py_ssize_t row0,
                      Py_ssize_t nrows, Py_ssize_t col0, Py_ssize_t ncols) noexcept nogil:
    """_rows for a plan whose operands are all _direct: no buffers, no index counter (a
    1000x1000 row broadcast spent ~170 instructions a row in _rows' general loop)."""
    cdef char* call[MAX_ARGS]
    cdef Py_ssize_t step[MAX_ARGS]
    cdef int k, nargs = pl.nargs, err = 0
    for k in range(nargs):
        call[k] = pl.base[k] + row0 * pl.strides[k][0] + col0 * pl.strides[k][1]
        step[k] = pl.strides[k][0]
    for _ in range(nrows):
        err |= f(call, ncols, pl.params)
        for k in range(nargs):
            call[k] += step[k]
    return err


cdef int _rows(const Plan* pl, Py_ssize_t row0, Py_ssize_t nrows, Py_ssize_t col0,
               Py_ssize_t ncols, Scratch* scratch) noexcept nogil:
    """Columns [col0, col0+ncols) of rows [row0, row0+nrows) (rows: all dims but the last)."""
    cdef Py_ssize_t idx[MAX_DIMS]
    cdef char* ptr[MAX_ARGS]
    cdef char* call[MAX_ARGS]
    cdef char* buf[MAX_ARGS]
    cdef int inner = pl.ndim - 1
    cdef int k, d
    cdef int err = 0
    cdef Py_ssize_t rem = row0, s
    cdef int sk = scalar_operand(pl)
    cdef kernel_fn f = pl.scalar_f[sk] if sk else pl.f
    if _direct(pl, sk):
        return _rows_direct(pl, f, sk, row0, nrows, col0, ncols)
    for k in range(pl.nargs):
        buf[k] = scratch.buf[k]
        ptr[k] = pl.base[k] + col0 * pl.strides[k][inner]
    for d in range(inner - 1, -1, -1):
        idx[d] = rem % pl.shape[d]
        rem = rem // pl.shape[d]
        for k in range(pl.nargs):
            ptr[k] += idx[d] * pl.strides[k][d]
    for _ in range(nrows):
        for k in range(1, pl.nargs):
            s = pl.strides[k][inner]
            if s == pl.itemsize[k]:
                call[k] = ptr[k]
            elif k == sk:
                call[k] = ptr[k]  # the variant reads the one value itself
            elif s == 0:
                call[k] = filled(scratch, k, ptr[k], ncols, pl.itemsize[k])
            else:
                gather(buf[k], ptr[k], s, ncols, pl.itemsize[k])
                scratch.filled[k] = NULL
                call[k] = buf[k]
        s = pl.strides[0][inner]
        call[0] = ptr[0] if s == pl.itemsize[0] else buf[0]
        err |= f(call, ncols, pl.params)
        if s != pl.itemsize[0]:
            scatter(ptr[0], s, buf[0], ncols, pl.itemsize[0])
        for d in range(inner - 1, -1, -1):
            idx[d] += 1
            for k in range(pl.nargs):
                ptr[k] += pl.strides[k][d]
            if idx[d] < pl.shape[d]:
                break
            idx[d] = 0
            for k in range(pl.nargs):
                ptr[k] -= pl.strides[k][d] * pl.shape[d]
    return err


cdef int _flat_chunk(const Plan* pl, kernel_fn f, int once, Py_ssize_t start,
                     Py_ssize_t n) noexcept nogil:
    cdef char* p[MAX_ARGS]
    cdef int k
    for k in range(pl.nargs):
        p[k] = pl.base[k] if k == once and k > 0 else pl.base[k] + start * pl.itemsize[k]
    return f(p, n, pl.params)


cdef int _flat_once(const Plan* pl) noexcept nogil:
    """For a 1-D plan: -1 when it is not one flat run; else the input read as one value by a
    broadcast variant of the kernel (a tensor times a scalar), or 0 when every operand is
    contiguous."""
    cdef int k, once = 0
    if pl.strides[0][0] != pl.itemsize[0]:
        return -1
    for k in range(1, pl.nargs):
        if pl.strides[k][0] == pl.itemsize[k]:
            continue
        if pl.strides[k][0] != 0 or pl.scalar_f[k] == NULL or once:
            return -1
        once = k
    return once


cdef int _item(const Plan* pl, Py_ssize_t it, Py_ssize_t inner, Py_ssize_t nrows_total,
               Py_ssize_t group, Py_ssize_t nblk, Scratch* scratch) noexcept nogil:
    cdef Py_ssize_t row0, col0
    if nblk > 1:  # long rows: one item is one block of one row
        row0 = it // nblk
        col0 = (it % nblk) * BLOCK
        return _rows(pl, row0, 1, col0, min(<Py_ssize_t>BLOCK, inner - col0), scratch)
    row0 = it * group  # short rows: one item is a group of whole rows
    return _rows(pl, row0, min(group, nrows_total - row0), 0, inner, scratch)


# The flat slab size in use: FLAT_SLAB unless _set_flat_chunk changed it (2-thread A/B runs
# on a quiet machine, without a rebuild per value).
cdef Py_ssize_t _flat_chunk_elems = FLAT_SLAB


def _set_flat_chunk(Py_ssize_t elems=FLAT_SLAB):
    """Set the flat slab size (a positive multiple of 64 elements); returns the previous one."""
    global _flat_chunk_elems
    if elems <= 0 or elems % 64:
        raise ValueError("flat chunk must be a positive multiple of 64 elements")
    old = _flat_chunk_elems
    _flat_chunk_elems = elems
    return old


# Whether a 2-D plan whose operands all pass in place takes its rows in flat-slab-sized
# groups (True) or in FLAT_CHUNK items as a buffered plan does (2-thread A/B without a rebuild).
cdef bint _direct_slabs = True


def _set_direct_slabs(bint on=True):
    """Switch the slab-sized row groups of in-place 2-D plans; returns the previous setting."""
    global _direct_slabs
    old = _direct_slabs
    _direct_slabs = on
    return old


cdef int _run(Plan* pl) noexcept nogil:
    cdef Py_ssize_t n = 1, rows = 1, inner, nblk, group, items, it, chunk, nchunks, c
    cdef Py_ssize_t per_ask, head
    cdef int d, k, once = _flat_once(pl) if pl.ndim == 1 else -1
    cdef int err = 0
    cdef int nthreads
    cdef kernel_fn f
    cdef Scratch* scratch = NULL
    for d in range(pl.ndim):
        n *= pl.shape[d]
    if once >= 0:
        f = pl.scalar_f[once] if once else pl.f
        # every operand's n elements are read or written once
        nthreads = threads_for(n * pl.nargs, n)
        if nthreads <= 1:
            return _aligned_call(f, pl.base, n, pl.params, pl, once)
        # the elements before the output's first aligned line first, so that every slab
        # (a multiple of 64 elements) starts on one
        head = _head(pl.base[0], n, pl.itemsize[0])
        if head:
            err = f(pl.base, head, pl.params)
            for k in range(pl.nargs):
                if k != once or k == 0:
                    pl.base[k] += head * pl.itemsize[k]
            n -= head
        # Slabs of FLAT_SLAB elements handed out as threads ask (64-element multiples keep
        # SIMD aligned). A sleeping worker takes tens of microseconds to wake (the pool's
        # threads sleep on a busy machine); with fixed halves the caller would finish its
        # half and then wait for the late one's, here it sweeps on until the worker joins.
        # The slabs are equal and a whole number a thread: with 1e6 elements in slabs of
        # FLAT_SLAB (three full, one short) a thread finished early on the short one and the
        # op ended on the other's (2 threads, in-process A/B of 16 rounds, four 250048-element
        # slabs: relu 1e6 46.8 -> 44.6 us, add 74.6 -> 71.7, 1000x1000 times a column 49.6
        # -> 47.8). Elementwise, so the split never changes a bit.
        nchunks = (n + _flat_chunk_elems - 1) // _flat_chunk_elems
        nchunks = (nchunks + nthreads - 1) // nthreads * nthreads
        chunk = ((n + nchunks - 1) // nchunks + 63) & ~(<Py_ssize_t>63)
        nchunks = (n + chunk - 1) // chunk
        for c in prange(nchunks, nogil=True, schedule="dynamic", num_threads=nthreads):
            err |= _flat_chunk(pl, f, once, c * chunk, min(chunk, n - c * chunk))
        return err
    if tiles_pay(pl):
        return run_tiled(pl)
    inner = pl.shape[pl.ndim - 1]
    rows = n // inner
    nblk = (inner + BLOCK - 1) // BLOCK
    if _direct_slabs and inner <= _flat_chunk_elems and _direct(pl, scalar_operand(pl)):
        # Every operand passes in place (a row or column broadcast): no buffer bounds an
        # item, so rows go to threads in slabs of about the flat slab's size, as a flat run
        # does, and each thread streams a long stretch of memory per hand-out (with items of
        # FLAT_CHUNK a 1000x1000 broadcast was 63 hand-outs of 16 rows). In-process A/B, 2
        # threads, two windows with both cores idle: 1000x1000 times a row 68.3/63.8 ->
        # 64.8/61.6 us, times a column 65.1/61.0 -> 63.0/58.1 us; 1 thread unchanged.
        nblk = 1
        nthreads = threads_for(n * pl.nargs, rows)
        # equal groups, a whole number a thread, as the flat slabs (1000 rows: 4 x 250, not
        # 262, 262, 262, 214; times a row 52.8 -> 51.9 us in the same A/B)
        group = max(1, _flat_chunk_elems // inner)
        items = (rows + group - 1) // group
        items = (items + nthreads - 1) // nthreads * nthreads
        group = (rows + items - 1) // items
        items = (rows + group - 1) // group
        per_ask = 1
    else:
        # Short rows go FLAT_CHUNK elements to an item: a row costs a kernel call whatever
        # its length, and an item's set-up (an index division per dim) is paid once per item.
        group = max(1, FLAT_CHUNK // inner) if nblk == 1 else 1
        items = rows * nblk if nblk > 1 else (rows + group - 1) // group
        # items of about FLAT_CHUNK elements go to threads one at a time, blocks in sixteens
        per_ask = 1 if nblk == 1 else FLAT_CHUNK // BLOCK
        nthreads = threads_for(n * pl.nargs, items)
    if nthreads <= 1:
        scratch = new_scratch()
        if scratch == NULL:
            return -1
        for it in range(items):
            err |= _item(pl, it, inner, rows, group, nblk, scratch)
        free(scratch)
        return err
    with parallel(num_threads=nthreads):
        scratch = new_scratch()
        # handed out as threads ask, for the same reason as the flat slabs above
        for it in prange(items, schedule="dynamic", chunksize=per_ask):
            if scratch == NULL:
                err |= -1
            else:
                err |= _item(pl, it, inner, rows, group, nblk, scratch)
        free(scratch)
    return err


cdef void _collapse(Plan* pl) noexcept nogil:
    """Drop size-1 dims and merge neighbours every operand walks as one; keep at least 1 dim."""
    cdef int d, k, out = 0, mergeable
    for d in range(pl.ndim):
        if pl.shape[d] == 1:
            continue
        if out > 0:
            mergeable = 1
            for k in range(pl.nargs):
                if pl.strides[k][out - 1] != pl.strides[k][d] * pl.shape[d]:
                    mergeable = 0
                    break
            if mergeable:
                pl.shape[out - 1] *= pl.shape[d]
                for k in range(pl.nargs):
                    pl.strides[k][out - 1] = pl.strides[k][d]
                continue
        pl.shape[out] = pl.shape[d]
        for k in range(pl.nargs):
            pl.strides[k][out] = pl.strides[k][d]
        out += 1
    if out == 0:
        pl.shape[0] = 1
        for k in range(pl.nargs):
            pl.strides[k][0] = pl.itemsize[k]
        out = 1
    pl.ndim = out


# Whether a broadcast row (an input every row of a 2-D plan reads whole) off a 64-byte
# boundary is first copied to one (A/B without a rebuild).
cdef bint _align_rows = True


def _set_align_rows(bint on=True):
    """Switch the aligned copy of a broadcast row; returns the previous setting."""
    global _align_rows
    old = _align_rows
    _align_rows = on
    return old


cdef char* _aligned_row(Plan* pl) noexcept nogil:
    """Point a 2-D plan's broadcast row (stride 0 down the rows, unit along them) that lies
    off a 64-byte line at an aligned copy of it, and return the copy (to free), or NULL.
    Every row of the plan reads the whole row; at NumPy's 16 bytes past a line each vector
    load of it straddles two lines. Only for plans of PARALLEL_MIN_WORK elements and 8+ rows,
    where one copy of the row is a small part of the reads."""
    cdef int k
    cdef Py_ssize_t nbytes
    cdef char* buf
    if (not _align_rows or pl.ndim != 2 or pl.shape[0] < 8
            or pl.shape[0] * pl.shape[1] < PARALLEL_MIN_WORK):
        return NULL
    for k in range(1, pl.nargs):
        nbytes = pl.shape[1] * pl.itemsize[k]
        if (pl.strides[k][0] == 0 and pl.strides[k][1] == pl.itemsize[k]
                and (<size_t>pl.base[k]) % OUT_ALIGN and nbytes <= ROW_COPY_MAX):
            buf = <char*>aligned_alloc(OUT_ALIGN, (nbytes + OUT_ALIGN - 1) & ~(OUT_ALIGN - 1))
            if buf == NULL:
                return NULL
            memcpy(buf, pl.base[k], nbytes)
            pl.base[k] = buf
            return buf
    return NULL


# kernel address -> addresses of its loops that read input 1, 2, ... as one value
_ONCE = {}


def register_once(size_t kernel, tuple variants):
    """Record the loops of ``kernel`` that read one input as a single value (a last dim
    broadcast from size 1); ``launch`` calls them instead of filling that input's buffer."""
    _ONCE[kernel] = variants


def launch(tuple entry, cnp.ndarray out, tuple inputs, tuple params=()):
    """Run kernel ``entry`` = (address, dtypes) writing ``out`` from ``inputs``.

    Inputs broadcast to ``out``'s shape as torch does (aligned right, size-1 dims repeat with
    stride 0, nothing copied); each operand must have exactly the dtype the kernel was
    registered for. All of it is checked here, before any loop, because the loops run without
    bounds checks. Returns the kernel's error code (0 = fine).
    """
    cdef Plan pl
    cdef int k, d, dk, lead, ndim = cnp.PyArray_NDIM(out)
    cdef cnp.ndarray arr
    cdef cnp.npy_intp size
    cdef int err
    cdef char* row = NULL
    cdef tuple dtypes = entry[1]
    pl.nargs = 1 + len(inputs)
    if pl.nargs > MAX_ARGS or len(dtypes) != pl.nargs or len(params) > MAX_PARAMS:
        raise ValueError("launch: kernel arity does not match its operands")
    if not cnp.PyArray_ISWRITEABLE(out):
        raise RuntimeError("launch: output array is read-only")
    for k in range(pl.nargs):
        arr = out if k == 0 else inputs[k - 1]  # typed: a non-ndarray raises TypeError here
        if <object>cnp.PyArray_DESCR(arr) is not dtypes[k] and arr.dtype != dtypes[k]:
            raise RuntimeError(f"launch: operand {k} is {arr.dtype}, kernel wants {dtypes[k]}")
        lead = ndim - cnp.PyArray_NDIM(arr)
        if lead < 0:
            raise RuntimeError(f"launch: operand {k} has more dims than the output")
        pl.base[k] = <char*>cnp.PyArray_DATA(arr)
        pl.itemsize[k] = cnp.PyArray_ITEMSIZE(arr)
        for d in range(ndim):
            dk = d - lead
            if dk < 0:
                pl.strides[k][d] = 0
                continue
            size = cnp.PyArray_DIMS(arr)[dk]
            if size == cnp.PyArray_DIMS(out)[d]:
                pl.strides[k][d] = cnp.PyArray_STRIDES(arr)[dk]
            elif size == 1:
                pl.strides[k][d] = 0
            else:
                raise RuntimeError(f"launch: operand {k} of shape {np.shape(arr)} does not "
                                   f"broadcast to {np.shape(out)}")
    for d in range(ndim):
        pl.shape[d] = cnp.PyArray_DIMS(out)[d]
        if pl.shape[d] == 0:
            return 0
    for k in range(len(params)):
        pl.params[k] = params[k]
    pl.ndim = ndim
    pl.f = <kernel_fn><size_t>entry[0]
    variants = _ONCE.get(entry[0], ())
    for k in range(MAX_ARGS):
        pl.scalar_f[k] = <kernel_fn><size_t>variants[k - 1] if 0 < k <= len(variants) else NULL
    _collapse(&pl)
    with nogil:
        row = _aligned_row(&pl)
        err = _run(&pl)
        free(row)
    if err == -1:
        raise MemoryError()
    return err

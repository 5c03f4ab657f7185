"""Reduction kernels: sum, max/min with their indices, and variance/std.

Every entry point takes a C-contiguous ``x`` of shape [outer, reduce, inner] and a
C-contiguous ``out`` of shape [outer, inner] (``ember_tensor.reduction`` builds both). Work is
split into tasks of (outer row, block of COL_BLOCK inner columns; for sums up to SUM_MAX_COLS,
see _sum_width); tasks run in parallel when there is enough work. Moments accumulate in
double. Sums add a few terms at a time in the input's type (at most 16, as trees) and
everything longer in double (simd.h's lanes_sum/add_rows), in an order that depends on
neither the thread count nor the vector width: the same input gives the same bits.
"""
cimport numpy as cnp
from cython.parallel cimport prange
from libc.math cimport sqrt, NAN
from libc.stdlib cimport malloc, free
from libc.stdint cimport int64_t, int32_t, int16_t, int8_t, uint8_t

from .parallel cimport FLAT_SLAB, threads_for
from .simd cimport add_rows, lanes_sum, simd_sqdev
from .types cimport for_dtype, numeric, real

import numpy as np

cnp.import_array()

# A long row's squared deviations are summed in chunks of this size and the chunk totals
# added afterwards: error grows with chunk length plus the number of chunks, not with the row
# length.
cdef Py_ssize_t CHUNK = 4096
cdef enum:
    # A long row is summed in pieces of this size whose totals are added in order. Threads
    # split a row at piece boundaries, so a threaded sum adds exactly what a serial one does.
    # A compile-time constant: as a module variable every row_sum paid a 64-bit division
    # (a sum over the last dim of 1000x1000 calls it 1000 times).
    SUM_PIECE = 32768
    # Pieces per dynamically scheduled chunk when threads share long rows (a sum of 1e7 float32
    # is 306 pieces of 128 KB): 2 MB runs each thread streams contiguously. Quiet A/B at 2
    # threads, sum 1e7: 1 piece (threads alternating pieces, each restarting its prefetch
    # stream) 798 us, 8 602 us, 16 515-621 us; 64 left a 1e6 sum (31 pieces) on one thread.
    # Used only with _sum_piece_shares off: one contiguous share a thread beat it (_sum).
    PIECES_PER_CHUNK = 16
    # Columns per task of an outer sum (dim=0-like): up to SUM_MAX_COLS, a whole row of up to
    # that many (its double accumulators live on the stack: 8 KB), narrowed only where the
    # tasks would be too few to share between the threads (_sum_width). Each column's order of
    # additions does not depend on the width, so neither do the bits. Blocks of 128 swept the
    # rows eight times in 512-byte runs. 1000x1000 dim=0, exclusive lock, in-process A/B
    # (_set_sum_col_block), best medians of two processes: 2 threads 128 cols 41.1/39.0 us,
    # 256 38.3/34.2, 512 (two tasks) 35.3/38.1 against 128's 43.4/45.9 in that run; 1 thread
    # (thread time) width made no difference at 1000x1000 (57-60 us), and at 256x4096
    # 128 -> 1024 cols 96.2 -> 83.5 us.
    SUM_MAX_COLS = 1024
    # a width keeps whole 64-byte lines (16 float32) when it is narrowed
    SUM_WIDTH_STEP = 16
    # tasks a thread below which _sum_width cuts rows so that every thread gets as many
    SUM_FEW_TASKS = 4


# Slab-sized row chunks for sums over the last dim (True) or TASK_WORK-sized ones (False):
# a switch for 2-thread A/B runs without a rebuild
cdef bint _sum_row_slabs = True


# Columns per task of an outer sum: 0 for _sum_width's choice, else this many (2-thread A/B
# without a rebuild; the bits do not depend on it)
cdef Py_ssize_t _sum_col_block = 0


def _set_sum_col_block(Py_ssize_t cols=0):
    """Set the columns per outer-sum task (1..SUM_MAX_COLS, 0 for the default choice);
    returns the previous setting."""
    global _sum_col_block
    if cols < 0 or cols > SUM_MAX_COLS:
        raise ValueError(f"sum column block must be in 1..{SUM_MAX_COLS}")
    old = _sum_col_block
    _sum_col_block = cols
    return old


# Long rows shared by the threads in one contiguous run of pieces each (True) or in
# dynamically scheduled chunks of PIECES_PER_CHUNK pieces (False): the A/B switch
cdef bint _sum_piece_shares = True


def _set_sum_piece_shares(bint on=True):
    """Switch the one-share-a-thread split of long sums; returns the previous setting."""
    global _sum_piece_shares
    old = _sum_piece_shares
    _sum_piece_shares = on
    return old


# Equal row slabs for last-dim sums (True) or FLAT_SLAB-sized ones with a short last one
# (False): the A/B switch of the equal split
cdef bint _sum_equal_slabs = True


def _set_sum_equal_slabs(bint on=True):
    """Switch the equal row slabs of last-dim sums; returns the previous setting."""
    global _sum_equal_slabs
    old = _sum_equal_slabs
    _sum_equal_slabs = on
    return old


def _set_sum_row_slabs(bint on=True):
    """Switch the slab-sized row chunks of last-dim sums; returns the previous setting."""
    global _sum_row_slabs
    old = _sum_row_slabs
    _sum_row_slabs = on
    return old


cdef inline double _piece_sum(const real* x, Py_ssize_t n, Py_ssize_t p) noexcept nogil:
    # the p-th SUM_PIECE of a row of n
    cdef Py_ssize_t lo = p * SUM_PIECE
    return lanes_sum(x + lo, n - lo if n - lo < SUM_PIECE else SUM_PIECE)


cdef double row_sum(const real* x, Py_ssize_t n) noexcept nogil:
    cdef double total = 0.0
    cdef Py_ssize_t p
    if n <= SUM_PIECE:  # one piece: the loop would give 0.0 + s, which is s (never -0.0)
        return lanes_sum(x, n)
    for p in range((n + SUM_PIECE - 1) // SUM_PIECE):
        total += _piece_sum(x, n, p)
    return total


cdef double row_sqdev(const real* x, Py_ssize_t n, double mean) noexcept nogil:
    cdef double total = 0.0
    cdef Py_ssize_t start = 0, end
    while start < n:
        end = start + CHUNK if start + CHUNK < n else n
        total += simd_sqdev(x + start, end - start, mean)
        start = end
    return total


cdef void sum_block(const real* x, out_real* out, Py_ssize_t R, Py_ssize_t inner,
                    Py_ssize_t col0, Py_ssize_t ncols) noexcept nogil:
    cdef double acc[SUM_MAX_COLS]
    cdef Py_ssize_t c
    if inner == 1:
        out[0] = <out_real>row_sum(x, R)
        return
    for c in range(ncols):
        acc[c] = 0.0
    add_rows(x + col0, inner, R, ncols, acc)
    for c in range(ncols):
        out[col0 + c] = <out_real>acc[c]


cdef inline bint _better(numeric v, numeric best, bint want_max) noexcept nogil:
    # NaN wins over everything and the first NaN stays (torch propagates NaN in max/min)
    if numeric is float or numeric is double:
        if best != best:
            return False
        if v != v:
            return True
    if want_max:
        return v > best
    return v < best


cdef inline numeric _pick(numeric v, numeric b, bint want_max) noexcept nogil:
    # v where it beats b (larger for max, smaller for min), else b; NaN is tracked apart
    if want_max:
        return v if v > b else b
    return v if v < b else b


cdef inline numeric _scan_extreme(const numeric* x, Py_ssize_t n, bint want_max,
                                  bint* has_nan) noexcept nogil:
    # Pass 1 of row_extreme: four independent running extremes and a NaN flag, no
    # data-dependent branch. Inlined at two call sites with a constant want_max, so each
    # copy is compiled without the test in its loop.
    cdef numeric b0 = x[0], b1 = x[0], b2 = x[0], b3 = x[0]
    cdef bint nan = False
    cdef Py_ssize_t k = 0
    while k + 4 <= n:
        b0 = _pick(x[k], b0, want_max)
        b1 = _pick(x[k + 1], b1, want_max)
        b2 = _pick(x[k + 2], b2, want_max)
        b3 = _pick(x[k + 3], b3, want_max)
        if numeric is float or numeric is double:
            nan |= (x[k] != x[k]) | (x[k + 1] != x[k + 1]) | \
                   (x[k + 2] != x[k + 2]) | (x[k + 3] != x[k + 3])
        k += 4
    while k < n:
        b0 = _pick(x[k], b0, want_max)
        if numeric is float or numeric is double:
            nan |= x[k] != x[k]
        k += 1
    has_nan[0] = nan
    return _pick(_pick(b3, b2, want_max), _pick(b1, b0, want_max), want_max)


cdef void row_extreme(const numeric* x, Py_ssize_t n, numeric* out, int64_t* idx,
                      bint want_max) noexcept nogil:
    # One contiguous row (n >= 1). Pass 1 finds the value (see _scan_extreme); pass 2 finds
    # its first position and usually stops early. Far faster than one branchy pass that
    # tracks the index.
    cdef numeric best
    cdef bint has_nan
    cdef Py_ssize_t k = 0
    if want_max:
        best = _scan_extreme(x, n, True, &has_nan)
    else:
        best = _scan_extreme(x, n, False, &has_nan)
    if has_nan:
        while x[k] == x[k]:
            k += 1
        best = x[k]
    elif idx != NULL:
        while x[k] != best:
            k += 1
    out[0] = best
    if idx != NULL:
        idx[0] = k


cdef void extreme_block(const numeric* x, numeric* out, int64_t* idx, Py_ssize_t R,
                        Py_ssize_t inner, Py_ssize_t col0, Py_ssize_t ncols,
                        bint want_max) noexcept nogil:
    cdef numeric best[COL_BLOCK]
    cdef int64_t where[COL_BLOCK]
    cdef Py_ssize_t r, c
    cdef const numeric* row
    cdef numeric v
    if inner == 1:
        row_extreme(x, R, out, idx, want_max)
        return
    for c in range(ncols):
        best[c] = x[col0 + c]
        where[c] = 0
    for r in range(1, R):
        row = x + r * inner + col0
        for c in range(ncols):
            v = row[c]
            if _better(v, best[c], want_max):
                best[c] = v
                where[c] = r
    for c in range(ncols):
        out[col0 + c] = best[c]
        if idx != NULL:
            idx[col0 + c] = where[c]


cdef void moments_block(const real* x, real* out, Py_ssize_t R, Py_ssize_t inner,
                        Py_ssize_t col0, Py_ssize_t ncols, double correction,
                        bint take_sqrt) noexcept nogil:
    # two passes (mean, then squared deviations) in double: stable without Welford's divides
    cdef double mean[COL_BLOCK]
    cdef double m2[COL_BLOCK]
    cdef double d, dof, v
    cdef Py_ssize_t r, c
    cdef const real* row
    if inner == 1:
        ncols = 1
        mean[0] = row_sum(x, R) / R if R > 0 else NAN
        m2[0] = row_sqdev(x, R, mean[0])
        dof = R - correction
        v = m2[0] / (dof if dof > 0 else 0.0) if R > 0 else NAN
        out[0] = <real>(sqrt(v) if take_sqrt else v)
        return
    for c in range(ncols):
        mean[c] = 0.0
        m2[c] = 0.0
    for r in range(R):
        row = x + r * inner + col0
        for c in range(ncols):
            mean[c] += row[c]
    for c in range(ncols):
        mean[c] = mean[c] / R if R > 0 else NAN
    for r in range(R):
        row = x + r * inner + col0
        for c in range(ncols):
            d = row[c] - mean[c]
            m2[c] += d * d
    dof = R - correction
    if dof < 0:
        dof = 0
    for c in range(ncols):
        v = m2[c] / dof if R > 0 else NAN
        out[col0 + c] = <real>(sqrt(v) if take_sqrt else v)


# ---- argument checks ----------------------------------------------------------------------
cdef _check(cnp.ndarray x, cnp.ndarray out, tuple extra=()):
    # C-level tests first: this runs on every reduction, small ones included
    if cnp.PyArray_NDIM(x) != 3 or not cnp.PyArray_IS_C_CONTIGUOUS(x):
        raise RuntimeError("reduction kernel: x must be a contiguous [outer, reduce, inner] array")
    if cnp.PyArray_NDIM(out) != 2 or not cnp.PyArray_IS_C_CONTIGUOUS(out) \
            or not cnp.PyArray_ISWRITEABLE(out):
        raise RuntimeError(
            "reduction kernel: out must be a writable contiguous [outer, inner] array")
    if out.shape[0] != x.shape[0] or out.shape[1] != x.shape[2]:
        raise RuntimeError(
            f"reduction kernel: out shape {(out.shape[0], out.shape[1])} does not match x shape "
            f"{(x.shape[0], x.shape[1], x.shape[2])}"
        )
    for e in extra:
        if e is not None and (e.shape[0] != out.shape[0] or e.shape[1] != out.shape[1]
                              or not e.flags.c_contiguous or e.dtype != np.int64):
            raise RuntimeError(
                "reduction kernel: indices must be a contiguous int64 [outer, inner]")


# ---- tasks: (outer row, block of up to COL_BLOCK inner columns) -----------------------------
cdef struct Block:
    Py_ssize_t outer, col0, ncols


cdef inline Py_ssize_t _chunk(Py_ssize_t task_work) noexcept nogil:
    # Tasks per dynamically scheduled chunk: about TASK_WORK elements each. Dynamic, because
    # the idle OpenMP thread sleeps (OMP_WAIT_POLICY=PASSIVE) and wakes tens of microseconds
    # late on a VM: with a static split the caller's thread would finish its half and wait for
    # it; dynamically it takes the chunks the late one has not claimed. Every task writes
    # its own outputs, so who runs it never changes a result.
    if task_work >= TASK_WORK:
        return 1
    return TASK_WORK // (task_work if task_work > 0 else 1)  # (an empty reduction: R == 0)


cdef inline Block _block(Py_ssize_t t, Py_ssize_t nblocks, Py_ssize_t I,
                         Py_ssize_t width) noexcept nogil:
    # task t of blocks of `width` columns (<= COL_BLOCK; for sums <= SUM_MAX_COLS)
    cdef Block b
    b.outer = t // nblocks
    b.col0 = (t - b.outer * nblocks) * width
    b.ncols = I - b.col0 if I - b.col0 < width else width
    return b


# ---- sum ----------------------------------------------------------------------------------
cdef inline Py_ssize_t _sum_width(Py_ssize_t O, Py_ssize_t R, Py_ssize_t I) noexcept nogil:
    # Columns per outer-sum task: whole rows of up to SUM_MAX_COLS. Where that leaves fewer
    # than SUM_FEW_TASKS tasks a thread and they do not share evenly (one 1000x1000 sum: one
    # task), each outer row is cut into a multiple of the thread count of blocks of whole
    # lines instead (two of 512 and 488 columns).
    cdef Py_ssize_t width = I if I < SUM_MAX_COLS else SUM_MAX_COLS
    cdef Py_ssize_t tasks = O * ((I + width - 1) // width), k
    cdef int nt
    if _sum_col_block > 0:
        return _sum_col_block
    nt = threads_for(O * R * I, O * ((I + SUM_WIDTH_STEP - 1) // SUM_WIDTH_STEP))
    if nt > 1 and tasks < nt * SUM_FEW_TASKS and tasks % nt:
        k = ((I + SUM_MAX_COLS - 1) // SUM_MAX_COLS + nt - 1) // nt * nt
        width = ((I + k - 1) // k + SUM_WIDTH_STEP - 1) // SUM_WIDTH_STEP * SUM_WIDTH_STEP
    return width


cdef void _sum(const real* x, out_real* out, Py_ssize_t O, Py_ssize_t R,
               Py_ssize_t I) noexcept nogil:
    cdef Py_ssize_t width = _sum_width(O, R, I)
    cdef Py_ssize_t nblocks = (I + width - 1) // width
    cdef Py_ssize_t ntasks = O * nblocks
    cdef Py_ssize_t t, o, p, k, npieces = (R + SUM_PIECE - 1) // SUM_PIECE
    cdef Py_ssize_t chunk = _chunk(R * (I if I < width else width))
    cdef Block b
    cdef int nt = threads_for(O * R * I, ntasks)
    cdef int nt_pieces = threads_for(O * R, O * npieces)
    cdef double* partial = NULL
    cdef double total
    if I == 1 and O < nt_pieces:
        # few long rows: every row's pieces are tasks; their totals are added in order, as
        # row_sum does, so the result is the serial one
        partial = <double*>malloc(O * npieces * sizeof(double))
    if partial != NULL:  # (without the memory, the serial loop below gives the same bits)
        chunk = PIECES_PER_CHUNK
        if _sum_piece_shares:
            # one contiguous share of the pieces a thread (a 1e7 sum: two runs of 20 MB,
            # 153 pieces each), still handed out dynamically so that a late thread's share
            # goes to the one that is there. Against 2 MB chunks, in-process A/B, 2 threads,
            # exclusive lock, rounds of 41-call medians in three windows of the host: 358-416
            # vs 489-620 us, 348-383 vs 394-568, 283-303 vs 276-398
            chunk = (O * npieces + nt_pieces - 1) // nt_pieces
        for t in prange(O * npieces, schedule="dynamic", chunksize=chunk,
                        num_threads=nt_pieces):
            partial[t] = _piece_sum(x + (t // npieces) * R, R, t % npieces)
        for o in range(O):
            total = 0.0
            for p in range(npieces):
                total += partial[o * npieces + p]
            out[o] = <out_real>total
        free(partial)
        return
    if I == 1:  # one row per output (sum over the last dim): rows straight to row_sum
        if _sum_row_slabs and nt > 1:
            # rows go to threads in slabs of about FLAT_SLAB elements, so each hand-out
            # is one long stream (1000x1000 was 63 chunks of 16 rows); each row's sum is its
            # own, so the bits do not move. In-process A/B, 2 threads, two windows with both
            # cores idle: 1000x1000 dim=1 35.2/33.0 -> 33.3/30.0 us
            if chunk * R < FLAT_SLAB:
                chunk = FLAT_SLAB // R if R < FLAT_SLAB else 1
            if O < chunk * nt:
                chunk = (O + nt - 1) // nt
            elif _sum_equal_slabs:
                # equal slabs, a whole number a thread (strided.pyx's rule): 1000 rows were
                # 262, 262, 262 and 214, so one thread summed 48 rows more than the other
                # (in-process A/B, 2 threads: 1000x1000 dim=1 25.8 -> 25.0 us)
                k = ((O + chunk - 1) // chunk + nt - 1) // nt * nt
                chunk = (O + k - 1) // k
        for o in prange(O, schedule="dynamic", chunksize=chunk, num_threads=nt):
            out[o] = <out_real>row_sum(x + o * R, R)
        return
    for t in prange(ntasks, schedule="dynamic", chunksize=chunk, num_threads=nt):
        b = _block(t, nblocks, I, width)
        sum_block(x + b.outer * R * I, out + b.outer * I, R, I, b.col0, b.ncols)


def sum_3d(cnp.ndarray x, cnp.ndarray out):
    """out[o, i] = sum over r of x[o, r, i]. x is float32/float64; out has x's dtype, or is
    float64 for float32 x (a partial sum that a later stage reduces further)."""
    _check(x, out)
    cdef int xt = cnp.PyArray_TYPE(x), ot = cnp.PyArray_TYPE(out)
    if not ((xt == cnp.NPY_FLOAT32 and ot in (cnp.NPY_FLOAT32, cnp.NPY_FLOAT64))
            or (xt == cnp.NPY_FLOAT64 and ot == cnp.NPY_FLOAT64)):
        raise RuntimeError(f"sum kernel: unsupported dtypes {x.dtype} -> {out.dtype}")
    cdef Py_ssize_t O = x.shape[0], R = x.shape[1], I = x.shape[2]
    if O == 0 or I == 0:
        return out
    if R == 0:
        out.fill(0)
        return out
    cdef const float* xf = <const float*>cnp.PyArray_DATA(x)
    cdef const double* xd = <const double*>cnp.PyArray_DATA(x)
    if xt == cnp.NPY_FLOAT64:
        with nogil:
            _sum(xd, <double*>cnp.PyArray_DATA(out), O, R, I)
    elif ot == cnp.NPY_FLOAT64:
        with nogil:
            _sum(xf, <double*>cnp.PyArray_DATA(out), O, R, I)
    else:
        with nogil:
            _sum(xf, <float*>cnp.PyArray_DATA(out), O, R, I)
    return out


def sum_over_dim(cnp.ndarray x, Py_ssize_t dim, bint keepdim):
    """The sum of a C-contiguous float32/float64 ``x`` over one ``dim`` (negative counts from
    the end), as a new array of x's dtype and torch's result shape; None when ``dim`` is out
    of range or ``x`` is 0-d or of another kind, for the caller's general path (and its
    errors). The shape arithmetic here in C: in Python it cost ~15k instructions a call, 3x
    the kernel call on a small tensor."""
    cdef int nd = cnp.PyArray_NDIM(x), typ = cnp.PyArray_TYPE(x), k, j = 0
    cdef cnp.npy_intp* dims = cnp.PyArray_DIMS(x)
    cdef cnp.npy_intp kept[32]  # NPY_MAXDIMS in NumPy 1.x; 2.x allows 64, rare enough
    cdef Py_ssize_t O = 1, R, I = 1
    cdef cnp.ndarray out
    if (nd == 0 or nd > 32 or dim < -nd or dim >= nd or not cnp.PyArray_IS_C_CONTIGUOUS(x)
            or (typ != cnp.NPY_FLOAT32 and typ != cnp.NPY_FLOAT64)):
        return None
    if dim < 0:
        dim += nd
    for k in range(nd):
        if k < dim:
            O *= dims[k]
        elif k > dim:
            I *= dims[k]
        if k != dim:
            kept[j] = dims[k]
            j += 1
        elif keepdim:
            kept[j] = 1
            j += 1
    R = dims[dim]
    out = cnp.PyArray_EMPTY(j, kept, typ, 0)
    if O == 0 or I == 0:
        return out
    if R == 0:
        out.fill(0)
        return out
    if typ == cnp.NPY_FLOAT32:
        with nogil:
            _sum(<const float*>cnp.PyArray_DATA(x), <float*>cnp.PyArray_DATA(out), O, R, I)
    else:
        with nogil:
            _sum(<const double*>cnp.PyArray_DATA(x), <double*>cnp.PyArray_DATA(out), O, R, I)
    return out


# ---- max / min ----------------------------------------------------------------------------
cdef void _over_blocks(const numeric* x, numeric* out, int64_t* idx, Py_ssize_t O,
                       Py_ssize_t R, Py_ssize_t I, bint moments, bint want_max,
                       double correction, bint take_sqrt) noexcept nogil:
    # max/min (with idx when not NULL), or with ``moments`` var/std, over every task
    cdef Py_ssize_t nblocks = (I + COL_BLOCK - 1) // COL_BLOCK
    cdef Py_ssize_t ntasks = O * nblocks
    cdef Py_ssize_t t
    cdef Py_ssize_t chunk = _chunk(R * (I if I < COL_BLOCK else COL_BLOCK))
    cdef Block b
    cdef int nt = threads_for(O * R * I, ntasks)
    for t in prange(ntasks, schedule="dynamic", chunksize=chunk, num_threads=nt):
        b = _block(t, nblocks, I, COL_BLOCK)
        if not moments:
            extreme_block(x + b.outer * R * I, out + b.outer * I,
                          (idx + b.outer * I) if idx != NULL else NULL, R, I, b.col0, b.ncols,
                          want_max)
        elif numeric is float or numeric is double:
            moments_block(x + b.outer * R * I, out + b.outer * I, R, I, b.col0, b.ncols,
                          correction, take_sqrt)


cdef _extreme_typed(const numeric[:, :, ::1] x, numeric[:, ::1] out, idx, bint want_max):
    cdef int64_t* ip = <int64_t*>cnp.PyArray_DATA(<cnp.ndarray>idx) if idx is not None else NULL
    cdef Py_ssize_t O = x.shape[0], R = x.shape[1], I = x.shape[2]
    with nogil:
        _over_blocks(&x[0, 0, 0], &out[0, 0], ip, O, R, I, False, want_max, 0, False)


def extreme_3d(cnp.ndarray x, cnp.ndarray out, cnp.ndarray idx=None, bint want_max=True):
    """out[o, i] = max (or min) over r of x[o, r, i], NaN-propagating; idx gets the first
    position of that value (int64) when given. Needs reduce size >= 1."""
    _check(x, out, (idx,))
    if x.dtype != out.dtype:
        raise RuntimeError(f"max/min kernel: dtype mismatch {x.dtype} vs {out.dtype}")
    if x.shape[1] == 0:
        raise RuntimeError("max/min kernel: cannot reduce over an empty dimension")
    if x.shape[0] == 0 or x.shape[2] == 0:
        return out
    if x.dtype == np.bool_:
        x, out_u8 = x.view(np.uint8), out.view(np.uint8)
    else:
        out_u8 = out
    for_dtype(x.dtype, _EXTREME, "max/min kernel")(x, out_u8, idx, want_max)
    return out


# ---- var / std ----------------------------------------------------------------------------
def var_3d(cnp.ndarray x, cnp.ndarray out, double correction, bint take_sqrt=False):
    """out[o, i] = variance (std when take_sqrt) over r of x[o, r, i] with ``correction``
    (sum of squared deviations / max(0, N - correction)); float32/float64."""
    _check(x, out)
    if x.dtype != out.dtype or x.dtype not in (np.float32, np.float64):
        raise RuntimeError(
            f"var kernel: expected matching float dtypes, got {x.dtype} and {out.dtype}")
    cdef Py_ssize_t O = x.shape[0], R = x.shape[1], I = x.shape[2]
    if O == 0 or I == 0:
        return out
    if x.dtype == np.float32:
        with nogil:
            _over_blocks(<const float*>cnp.PyArray_DATA(x), <float*>cnp.PyArray_DATA(out), NULL,
                         O, R, I, True, False, correction, take_sqrt)
    else:
        with nogil:
            _over_blocks(<const double*>cnp.PyArray_DATA(x), <double*>cnp.PyArray_DATA(out),
                         NULL, O, R, I, True, False, correction, take_sqrt)
    return out


_EXTREME = (_extreme_typed[float], _extreme_typed[double], _extreme_typed[int64_t],
            _extreme_typed[int32_t], _extreme_typed[int16_t], _extreme_typed[int8_t],
            _extreme_typed[uint8_t])

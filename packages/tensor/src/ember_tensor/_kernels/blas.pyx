"""Matrix products (GEMM, GEMV, batched) straight into the cblas of NumPy's OpenBLAS.

``np.matmul`` costs a ufunc dispatch and an iterator per call (about as much as a 64x64
GEMM's arithmetic) and cannot run without the GIL in a task. Here the BLAS entry points of
the OpenBLAS NumPy already loaded (``scipy_cblas_sgemm64_`` and friends: ILP64, so sizes and
strides are 64-bit) are called by address, found once by ``ember_tensor._team`` and handed to
``bind``; until then, or for anything this module does not take (other dtypes, more than 3
dimensions, unaligned data), ``matmul`` returns None and the caller uses NumPy.

A product becomes a list of BLAS calls (``Call``): one per batch item, each cut in two by
rows or columns when it is big. The cut depends on the shapes alone, never on the thread
count, so the bits are the same on one thread or two. The calls run on the OpenMP team that
every other kernel uses, claimed one at a time, with BLAS held at one thread on each team
thread (``openblas_set_num_threads_local``), so OpenBLAS's own pool never wakes; a product
too small for a team runs on the caller's thread, BLAS pinned to it just as well.
"""
import numpy as np

cimport numpy as cnp
from cython.parallel cimport parallel, prange
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc

from .parallel cimport omp_get_max_threads

cdef extern from "skinny.h" nogil:
    int ember_sk_prefetch
    int ember_sk_outer_groups
    void ember_sk_dots(const float* A, Py_ssize_t lda, const float* Bt, Py_ssize_t K,
                       float* C, Py_ssize_t ldc, int nc, Py_ssize_t i0, Py_ssize_t i1)
    void ember_sk_axpys(const float* W, Py_ssize_t lda, Py_ssize_t R, const float* G,
                        Py_ssize_t gs0, Py_ssize_t gs1, float* C, Py_ssize_t ldc, int nc,
                        float* acc, Py_ssize_t i0, Py_ssize_t i1)
    void ember_sk_outer(const float* X, Py_ssize_t xs0, Py_ssize_t xs1, int nk,
                        const float* Bt, Py_ssize_t K, float* C, Py_ssize_t ldc,
                        Py_ssize_t i0, Py_ssize_t i1, int stream)
    void ember_sk_outer_wide(const float* X, Py_ssize_t xs0, Py_ssize_t xs1, int nk,
                             const float* Bt, Py_ssize_t K, float* C, Py_ssize_t ldc,
                             Py_ssize_t i0, Py_ssize_t i1)
    void ember_sk_axpys_wide(const float* W, Py_ssize_t lda, Py_ssize_t R, const float* Gp,
                             float* C, Py_ssize_t ldc, int nc, Py_ssize_t i0, Py_ssize_t i1)

cnp.import_array()

cdef enum:
    # a cut of a GEMM keeps OpenBLAS's register tiles whole: rows in multiples of 8, columns
    # of 16 (a float32 AVX-512 tile is 16 wide); a cut of a GEMV keeps cache lines apart
    ROW_MULTIPLE = 8
    COL_MULTIPLE = 16
    # skinny.h: products of a row-major matrix with at most this many columns (or with at
    # most this many inner elements), cut in two at a multiple of this many rows
    SKINNY_WIDTH = 4
    # skinny.h's outer_wide: products of at most this many inner elements
    SKINNY_OUTER_WIDE = 16
    SKINNY_MULTIPLE = 64
    # which skinny.h kernel
    DOTS = 0
    OUTER = 1
    AXPYS = 2
    OUTER_WIDE = 3
    AXPYS_WIDE = 4

# Float32 products of an x of this many elements or more, row-major (dots) or the transpose
# of a row-major matrix (axpys), with a y at most SKINNY_WIDTH wide go to skinny.h instead
# of OpenBLAS, and so do products with an output of _skinny_outer_min elements or more and
# at most SKINNY_WIDTH inner elements (outer); 0: never (both set by ember_tensor._team)
cdef int64_t _skinny_min = 0
cdef int64_t _skinny_outer_min = 0
# An outer product with an output of this many elements or more writes it with streaming
# stores (skinny.h), which do not read each line before writing it: one 64-px image's
# layer4 3x3 weight gradient, (512 x 4) @ (4 x 4608), 9.4 MB, far past the caches, is
# read next by the optimizer's step after the rest of the backward. 0: never.
cdef int64_t _skinny_stream_min = 1 << 21
# Float32 products with 5 to SKINNY_OUTER_WIDE inner elements and an output of this many
# elements or more go to skinny.h's outer_wide (one 64-px image's layer3 3x3 weight
# gradients: (256 x 16) @ (16 x 2304) and the 3x3/2's (256 x 16) @ (16 x 1152)). 0: never.
cdef int64_t _skinny_wide_min = 1 << 18
# The transpose of a row-major float32 matrix of this many elements or more times 5 to
# SKINNY_OUTER_WIDE columns goes to skinny.h's axpys_wide (one 64-px image's layer3 3x3
# input gradients: (256 x 2304)^T @ (256 x 16)). 0: never.
cdef int64_t _skinny_axpys_wide_min = 1 << 18

cdef sgemm_fn _sgemm = NULL
cdef dgemm_fn _dgemm = NULL
cdef sgemv_fn _sgemv = NULL
cdef dgemv_fn _dgemv = NULL
cdef blas_threads_fn _threads_local = NULL


def bind(size_t sgemm, size_t dgemm, size_t sgemv, size_t dgemv, size_t threads_local):
    """Use the cblas functions at these addresses (all five, or 0 for none: unbinds)."""
    global _sgemm, _dgemm, _sgemv, _dgemv, _threads_local
    if not (sgemm and dgemm and sgemv and dgemv and threads_local):
        sgemm = dgemm = sgemv = dgemv = threads_local = 0
    _sgemm = <sgemm_fn>sgemm
    _dgemm = <dgemm_fn>dgemm
    _sgemv = <sgemv_fn>sgemv
    _dgemv = <dgemv_fn>dgemv
    _threads_local = <blas_threads_fn>threads_local


def set_skinny(int64_t min_elements, int64_t outer_min_elements=0):
    """Route float32 products through skinny.h: an x of ``min_elements`` or more, row-major
    or transposed, times a y at most four wide, and products of at most four inner elements
    with an output of ``outer_min_elements`` or more (0: never). Returns the previous pair."""
    global _skinny_min, _skinny_outer_min
    old = (_skinny_min, _skinny_outer_min)
    _skinny_min = min_elements
    _skinny_outer_min = outer_min_elements
    return old


def set_skinny_stream(int64_t min_elements):
    """Outer products (see ``set_skinny``) with an output of ``min_elements`` or more write
    it with streaming stores (0: never). Returns the previous threshold."""
    return _swap(&_skinny_stream_min, min_elements)


def set_skinny_wide(int64_t min_elements):
    """Float32 products with 5 to 16 inner elements and an output of ``min_elements`` or
    more run in skinny.h's outer_wide (0: never). Returns the previous threshold."""
    return _swap(&_skinny_wide_min, min_elements)


def set_skinny_axpys_wide(int64_t min_elements):
    """The transpose of a row-major float32 matrix of ``min_elements`` or more times 5 to 16
    columns runs in skinny.h's axpys_wide (0: never). Returns the previous threshold."""
    return _swap(&_skinny_axpys_wide_min, min_elements)


def set_skinny_prefetch(int on):
    """skinny.h's dots and axpys prefetch ahead of the hardware (1) or not (0, an A/B
    switch). Returns the previous setting."""
    global ember_sk_prefetch
    cdef int old = ember_sk_prefetch
    ember_sk_prefetch = on
    return old


def set_skinny_outer_groups(int on):
    """skinny.h's streamed outer products write four rows at a time (1: the default on
    AVX2 and AVX-512, where it won) or one at a time (0: SSE2's default; an A/B switch).
    Returns the previous setting."""
    global ember_sk_outer_groups
    cdef int old = ember_sk_outer_groups
    ember_sk_outer_groups = on
    return old


cdef int64_t _swap(int64_t* threshold, int64_t value) noexcept:
    """Set one of the thresholds above; returns its previous value."""
    cdef int64_t old = threshold[0]
    threshold[0] = value
    return old


def bound():
    """True when ``bind`` was given the cblas functions."""
    return _sgemm != NULL


cdef void _run_call(const Call* c, bint dbl) noexcept nogil:
    if c.gemv:
        if dbl:
            _dgemv(CBLAS_ROW_MAJOR, c.ta, c.m, c.n, 1.0, <const double*>c.a, c.lda,
                   <const double*>c.b, c.ldb, 0.0, <double*>c.c, c.ldc)
        else:
            _sgemv(CBLAS_ROW_MAJOR, c.ta, c.m, c.n, 1.0, <const float*>c.a, c.lda,
                   <const float*>c.b, c.ldb, 0.0, <float*>c.c, c.ldc)
    elif dbl:
        _dgemm(CBLAS_ROW_MAJOR, c.ta, c.tb, c.m, c.n, c.k, 1.0, <const double*>c.a, c.lda,
               <const double*>c.b, c.ldb, 0.0, <double*>c.c, c.ldc)
    else:
        _sgemm(CBLAS_ROW_MAJOR, c.ta, c.tb, c.m, c.n, c.k, 1.0, <const float*>c.a, c.lda,
               <const float*>c.b, c.ldb, 0.0, <float*>c.c, c.ldc)


cdef void _run_calls(const Call* calls, Py_ssize_t n, bint dbl, int team) noexcept nogil:
    """Every call, on ``team`` threads of the OpenMP team (the caller's included), each
    thread's BLAS at one thread; the caller's BLAS setting is put back afterwards."""
    cdef Py_ssize_t i
    cdef int old = _threads_local(1)
    if team <= 1:
        for i in range(n):
            _run_call(&calls[i], dbl)
    else:
        with parallel(num_threads=team):
            _threads_local(1)
            for i in prange(n, schedule="dynamic", chunksize=1):
                _run_call(&calls[i], dbl)
    _threads_local(old)


cdef bint _layout(int64_t r, int64_t c, int64_t sr, int64_t sc, int* trans,
                  int64_t* ld) noexcept:
    """How BLAS reads an r x c matrix with element strides sr, sc: row-major (NoTrans) or
    column-major (Trans) and its leading dimension; False when neither fits."""
    if (sc == 1 or c <= 1) and (r <= 1 or sr >= max(c, 1)):
        trans[0] = CBLAS_NO_TRANS
        ld[0] = sr if r > 1 else max(c, 1)
        return True
    if (sr == 1 or r <= 1) and (c <= 1 or sc >= max(r, 1)):
        trans[0] = CBLAS_TRANS
        ld[0] = sc if c > 1 else max(r, 1)
        return True
    return False


cdef bint _readable(int64_t r, int64_t c, int64_t* s) noexcept:
    """True when BLAS can read an r x c matrix whose column and row strides are s[0], s[1]."""
    cdef int trans
    cdef int64_t ld
    return _layout(r, c, s[1], s[0], &trans, &ld)


cdef inline Py_ssize_t _cut(Py_ssize_t n, Py_ssize_t multiple) noexcept:
    """Where to cut ``range(n)`` in two: half, rounded up to ``multiple`` (n when too short)."""
    cdef Py_ssize_t half = (n + 1) // 2
    half = (half + multiple - 1) // multiple * multiple
    return half if half < n else n


cdef bint _strides(cnp.ndarray a, Py_ssize_t item, int64_t* out) noexcept:
    """The trailing two strides of ``a`` in elements (a 1-D array: its one stride twice);
    False when a stride is not a whole number of elements."""
    cdef int nd = cnp.PyArray_NDIM(a)
    cdef cnp.npy_intp* s = cnp.PyArray_STRIDES(a)
    cdef int i
    for i in range(2):
        if s[nd - 1 - i if nd > 1 else 0] % item:
            return False
        out[i] = s[nd - 1 - i if nd > 1 else 0] // item
    return True


def matmul(cnp.ndarray x, cnp.ndarray y, int64_t split_macs, int64_t team_macs,
           int64_t gemv_split, int64_t split_batch_below, cnp.ndarray out=None):
    """``np.matmul(x, y)`` for float32/float64 arrays of 1 to 3 dims, not both 1-D (3-D
    batches of equal size or one broadcast), computed with cblas on the OpenMP team; None
    when the arrays are anything else, or nothing is bound, and the caller uses NumPy.

    A product of ``split_macs`` multiply-adds or more (a matrix-vector product: of
    ``gemv_split`` matrix elements) is cut in two, unless the batch already has
    ``split_batch_below`` items or more. The team works from ``team_macs`` multiply-adds
    (``gemv_split`` elements) in all; below that the caller's thread does it all.

    ``out``, when given, receives the product: a C-contiguous, aligned, writable array of the
    result's dtype and shape that overlaps neither operand (else None is returned, and the
    caller uses NumPy)."""
    cdef int tx = cnp.PyArray_TYPE(x), nx = cnp.PyArray_NDIM(x), ny = cnp.PyArray_NDIM(y)
    cdef bint dbl = tx == cnp.NPY_DOUBLE
    cdef Py_ssize_t item = 8 if dbl else 4
    cdef cnp.npy_intp* dx = cnp.PyArray_DIMS(x)
    cdef cnp.npy_intp* dy = cnp.PyArray_DIMS(y)
    cdef int64_t bx, by, batch, n, k, m, sxb, syb
    cdef int64_t sx[2]
    cdef int64_t sy[2]
    sx[0] = sx[1] = sy[0] = sy[1] = 0
    if (_sgemm == NULL or (tx != cnp.NPY_FLOAT and not dbl) or cnp.PyArray_TYPE(y) != tx
            or nx < 1 or nx > 3 or ny < 1 or ny > 3 or nx + ny == 2
            or not cnp.PyArray_ISALIGNED(x) or not cnp.PyArray_ISALIGNED(y)
            or not cnp.PyArray_ISNOTSWAPPED(x) or not cnp.PyArray_ISNOTSWAPPED(y)
            or not _strides(x, item, sx) or not _strides(y, item, sy)):
        return None
    # logical x: (bx, n, k), strides (sxb, sx[1], sx[0]); y: (by, k, m), (syb, sy[1], sy[0])
    k = dx[nx - 1]
    n = dx[nx - 2] if nx > 1 else 1
    bx = dx[0] if nx == 3 else 1
    sxb = cnp.PyArray_STRIDES(x)[0] // item if nx == 3 else 0
    m = dy[ny - 1] if ny > 1 else 1
    by = dy[0] if ny == 3 else 1
    syb = cnp.PyArray_STRIDES(y)[0] // item if ny == 3 else 0
    if ny == 1:  # a column: its one stride runs down k
        sy[1] = sy[0]
        sy[0] = 1
    if dy[ny - 2 if ny > 1 else 0] != k:
        return None
    # an operand BLAS cannot read as it is (a stride of 0: an expanded gradient such as
    # sum's, or rows overlapping) is copied C-contiguous: the copy is one pass over an
    # operand, where NumPy's fallback loop would run the whole product without BLAS
    if not _readable(n, k, sx):
        x = cnp.PyArray_NewCopy(x, cnp.NPY_CORDER)
        _strides(x, item, sx)
        sxb = n * k if nx == 3 else 0
    if not _readable(k, m, sy):
        y = cnp.PyArray_NewCopy(y, cnp.NPY_CORDER)
        _strides(y, item, sy)
        if ny == 1:
            sy[1] = 1
            sy[0] = 1
        syb = k * m if ny == 3 else 0
    if bx != by and bx != 1 and by != 1:
        return None
    batch = bx if by == 1 else by
    cdef cnp.npy_intp shape[3]
    cdef int nd = 0
    if nx == 3 or ny == 3:
        shape[nd] = batch
        nd += 1
    if nx > 1:
        shape[nd] = n
        nd += 1
    if ny > 1:
        shape[nd] = m
        nd += 1
    if nx == 3 and ny < 3 and (bx <= 1 or sxb == n * sx[1]):
        # a batch of x's rows times one matrix: one taller GEMM, as torch does
        n, batch, bx = n * bx, 1, 1
    if out is not None and not _fits(out, nd, shape, tx, x, y):
        return None
    if batch == 0 or n == 0 or m == 0 or k == 0:
        if out is None:
            return cnp.PyArray_ZEROS(nd, shape, tx, 0)
        out[...] = 0
        return out
    if nx == 3 and ny == 3 and bx != by:
        sxb = sxb if bx > 1 else 0
        syb = syb if by > 1 else 0
    if out is None:
        out = cnp.PyArray_EMPTY(nd, shape, tx, 0)
    return _product(x, y, out, batch, n, k, m, sxb, syb, sx, sy, item, dbl,
                    split_macs, team_macs, gemv_split, split_batch_below)


cdef bint _fits(cnp.ndarray out, int nd, cnp.npy_intp* shape, int tx,
                cnp.ndarray x, cnp.ndarray y):
    """True when ``out`` can take the product in place (see ``matmul``)."""
    cdef int i
    if (cnp.PyArray_TYPE(out) != tx or cnp.PyArray_NDIM(out) != nd
            or not cnp.PyArray_IS_C_CONTIGUOUS(out) or not cnp.PyArray_ISALIGNED(out)
            or not cnp.PyArray_ISWRITEABLE(out)):
        return False
    for i in range(nd):
        if cnp.PyArray_DIMS(out)[i] != shape[i]:
            return False
    return not (np.may_share_memory(out, x) or np.may_share_memory(out, y))


cdef object _product(cnp.ndarray x, cnp.ndarray y, cnp.ndarray out, int64_t batch,
                     int64_t n, int64_t k, int64_t m, int64_t sxb, int64_t syb,
                     int64_t* sx, int64_t* sy, Py_ssize_t item, bint dbl,
                     int64_t split_macs, int64_t team_macs, int64_t gemv_split,
                     int64_t split_batch_below):
    cdef int ta, tb
    cdef int64_t lda, ldb, work, i, p, pieces, cut, lo, hi
    cdef bint gemv = n == 1 or m == 1
    cdef bint by_rows = n >= m
    cdef const char* px = <const char*>cnp.PyArray_DATA(x)
    cdef const char* py = <const char*>cnp.PyArray_DATA(y)
    cdef char* po = <char*>cnp.PyArray_DATA(out)
    cdef Call* calls
    cdef Call* c
    if not (_layout(n, k, sx[1], sx[0], &ta, &lda) and _layout(k, m, sy[1], sy[0], &tb, &ldb)):
        return None
    if (not dbl and batch == 1 and not gemv and _skinny_min > 0 and m <= SKINNY_WIDTH
            and (sx[0] == 1 or sx[1] == 1) and n * k >= _skinny_min):
        _skinny(<const float*>px, <const float*>py, <float*>po, n, k, m, sx, sy,
                gemv_split, DOTS if sx[0] == 1 else AXPYS)
        return out
    if (not dbl and batch == 1 and not gemv and _skinny_outer_min > 0
            and k <= SKINNY_WIDTH and n * m >= _skinny_outer_min):
        _skinny(<const float*>px, <const float*>py, <float*>po, n, k, m, sx, sy,
                gemv_split, OUTER)
        return out
    if (not dbl and batch == 1 and not gemv and _skinny_wide_min > 0
            and SKINNY_WIDTH < k <= SKINNY_OUTER_WIDE and n * m >= _skinny_wide_min):
        _skinny(<const float*>px, <const float*>py, <float*>po, n, k, m, sx, sy,
                gemv_split, OUTER_WIDE)
        return out
    if (not dbl and batch == 1 and not gemv and _skinny_axpys_wide_min > 0
            and SKINNY_WIDTH < m <= SKINNY_OUTER_WIDE and sx[1] == 1
            and n * k >= _skinny_axpys_wide_min):
        _skinny(<const float*>px, <const float*>py, <float*>po, n, k, m, sx, sy,
                gemv_split, AXPYS_WIDE)
        return out
    if gemv:
        work = n * k if m == 1 else k * m
        by_rows = m == 1
        pieces = 2 if work >= gemv_split and batch < split_batch_below else 1
    else:
        work = n * k * m
        pieces = 2 if work >= split_macs and batch < split_batch_below else 1
    cut = _cut(n if by_rows else m,
               (ROW_MULTIPLE if by_rows else COL_MULTIPLE) if not gemv else COL_MULTIPLE)
    if cut >= (n if by_rows else m):
        pieces = 1
    calls = <Call*>malloc(batch * pieces * sizeof(Call))
    if calls == NULL:
        raise MemoryError()
    for i in range(batch):
        for p in range(pieces):
            c = &calls[i * pieces + p]
            lo = 0 if p == 0 else cut
            hi = (n if by_rows else m) if p == pieces - 1 else cut
            _fill(c, gemv, by_rows, lo, hi, n, k, m, ta, tb, lda, ldb,
                  px + (i * sxb + (lo * sx[1] if by_rows else 0)) * item,
                  py + (i * syb + (0 if by_rows else lo * sy[0])) * item,
                  sx, sy, po + (i * n * m + (lo * m if by_rows else lo)) * item)
    cdef int team = 1
    if work * batch >= (gemv_split if gemv else team_macs):
        team = omp_get_max_threads()
        if team > batch * pieces:
            team = <int>(batch * pieces)
    try:
        with nogil:
            _run_calls(calls, batch * pieces, dbl, team)
    finally:
        free(calls)
    return out


cdef void _fill(Call* c, bint gemv, bint by_rows, int64_t lo, int64_t hi, int64_t n,
                int64_t k, int64_t m, int ta, int tb, int64_t lda, int64_t ldb,
                const char* a, const char* b, int64_t* sx, int64_t* sy,
                char* o) noexcept:
    """Call ``c``: rows [lo, hi) of the product (columns, when not ``by_rows``), reading x's
    block at ``a`` and y's at ``b``, writing at ``o`` (the output is row-major, m wide)."""
    c.gemv = gemv
    c.c = o
    c.k = k
    if not gemv:
        c.ta, c.tb = ta, tb
        c.m = hi - lo if by_rows else n
        c.n = m if by_rows else hi - lo
        c.a, c.lda, c.b, c.ldb, c.ldc = a, lda, b, ldb, m
    elif by_rows:
        # a column out: out[i] = x[i, :] . y[:, 0], x the matrix (stored n x k, or k x n)
        c.ta = ta
        c.m, c.n = (hi - lo, k) if ta == CBLAS_NO_TRANS else (k, hi - lo)
        c.a, c.lda, c.b, c.ldb, c.ldc = a, lda, b, (sy[1] if k > 1 else 1), m
    else:
        # a row out: out[j] = x[0, :] . y[:, j], so y's transpose is the matrix
        c.ta = CBLAS_TRANS if tb == CBLAS_NO_TRANS else CBLAS_NO_TRANS
        c.m, c.n = (k, hi - lo) if tb == CBLAS_NO_TRANS else (hi - lo, k)
        c.a, c.lda, c.b, c.ldb, c.ldc = b, ldb, a, (sx[0] if k > 1 else 1), 1


cdef int _skinny(const float* x, const float* y, float* out, int64_t n, int64_t k, int64_t m,
                 int64_t* sx, int64_t* sy, int64_t split, int kind) except -1:
    """out (n x m, C-contiguous) = x (n x k) @ y (k x m) through skinny.h: ``kind`` OUTER
    when k <= 4 or OUTER_WIDE when k <= 16 (x read by its strides), DOTS (m <= 4, x
    row-major), AXPYS (m <= 4, x the transpose of a row-major matrix) or AXPYS_WIDE
    (m <= 16, x as AXPYS). Output rows are cut
    in two (by the shape alone) from ``split`` elements of the big operand, and the halves
    run on the team."""
    cdef bint outer = kind == OUTER or kind == OUTER_WIDE
    cdef int64_t big = n * m if outer else n * k
    cdef int64_t cut = n, kk, j, p
    cdef int pieces = 1, team = 1
    cdef float* bt
    if big >= split:
        cut = _cut(n, SKINNY_MULTIPLE)
        if cut < n:
            pieces = 2
            team = min(2, omp_get_max_threads())
    # OUTER, OUTER_WIDE: y's rows; DOTS: y's columns as rows; AXPYS: four accumulator rows
    # per output row; AXPYS_WIDE: y's rows 16 floats apart
    bt = <float*>malloc((k * m if outer else SKINNY_OUTER_WIDE * k if kind == AXPYS_WIDE
                         else 4 * (n if kind == AXPYS else k)) * sizeof(float))
    if bt == NULL:
        raise MemoryError()
    with nogil:
        if outer and sy[0] < sy[1]:
            # y's rows, contiguous
            for kk in range(k):
                for j in range(m):
                    bt[kk * m + j] = y[kk * sy[1] + j * sy[0]]
        elif outer:
            # y's rows from a y stored by columns (the transposed columns of a convolution's
            # weight gradient), read in its own order
            for j in range(m):
                for kk in range(k):
                    bt[kk * m + j] = y[kk * sy[1] + j * sy[0]]
        elif kind == AXPYS_WIDE:
            # y's rows, zero-padded to 16
            for kk in range(k):
                for j in range(SKINNY_OUTER_WIDE):
                    bt[kk * SKINNY_OUTER_WIDE + j] = y[kk * sy[1] + j * sy[0]] if j < m else 0
        elif kind == DOTS:
            # y's columns as contiguous rows, zero-padded to four
            for j in range(4):
                for kk in range(k):
                    bt[j * k + kk] = y[kk * sy[1] + j * sy[0]] if j < m else 0
        if team <= 1:
            for p in range(pieces):
                _skinny_rows(x, y, bt, out, n, k, m, sx, sy, kind, 0 if p == 0 else cut,
                             cut if p == 0 else n)
        else:
            for p in prange(pieces, num_threads=team, schedule="dynamic", chunksize=1):
                _skinny_rows(x, y, bt, out, n, k, m, sx, sy, kind, 0 if p == 0 else cut,
                             cut if p == 0 else n)
    free(bt)
    return 0


cdef void _skinny_rows(const float* x, const float* y, float* bt, float* out, int64_t n,
                       int64_t k, int64_t m, int64_t* sx, int64_t* sy, int kind, int64_t lo,
                       int64_t hi) noexcept nogil:
    if kind == AXPYS:
        ember_sk_axpys(x, sx[0], k, y, sy[1], sy[0], out, m, <int>m, bt + 4 * lo, lo, hi)
    elif kind == AXPYS_WIDE:
        ember_sk_axpys_wide(x, sx[0], k, bt, out, m, <int>m, lo, hi)
    elif kind == OUTER_WIDE:
        ember_sk_outer_wide(x, sx[1], sx[0], <int>k, bt, m, out, m, lo, hi)
    elif kind == OUTER:
        ember_sk_outer(x, sx[1], sx[0], <int>k, bt, m, out, m, lo, hi,
                       _skinny_stream_min > 0 and n * m >= _skinny_stream_min)
    else:
        ember_sk_dots(x, sx[1], bt, k, out, m, <int>m, lo, hi)

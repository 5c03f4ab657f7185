"""The tiled path of strided.pyx's launcher: a 2-D plan with an input that walks memory more
finely down its rows than along them (a transpose) gathers that input a tile at a time,
column by column, so each source cache line is read once, then runs the kernel along the
tile's rows.
"""
from cython.parallel cimport parallel, prange
from libc.stdint cimport uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

from .parallel cimport threads_for
from .strided cimport MAX_ARGS, Plan, Scratch, kernel_fn
from .strided_buffers cimport filled, gather, new_scratch, scalar_operand

cdef enum:
    # A transposed-like input (its rows walk memory more finely than its columns) is gathered
    # a tile of TILE_ROWS x TILE_COLS at a time, column by column, so each source cache line
    # gives TILE_ROWS neighbours in one visit. Row by row, a 1000x1000 transpose reads one
    # element of each of 1000 lines per row, 4000 bytes apart (1-thread add 1.4 ms -> 1.0;
    # gathering row by row within a 64 x 256 tile instead: 1.6 ms).
    TILE_ROWS = 16
    TILE_COLS = 256
    # a tile row's pitch is TILE_COLS + TILE_PAD elements: with a pitch of a power of two the
    # column-by-column stores of a tile all land in a few L1 sets (times varied 1-3x per call)
    TILE_PAD = 16
    TILE_BYTES = TILE_ROWS * (TILE_COLS + TILE_PAD) * 8  # one input's tile, 8-byte elements


cdef inline bint _walks_across(const Plan* pl, int k) noexcept nogil:
    """Input ``k`` of a 2-D plan steps through memory more finely down its rows than along
    them (a transpose): gathered by tiles. Plain strides, a broadcast or a strided output
    keep the row path."""
    cdef Py_ssize_t s0 = pl.strides[k][0], s1 = pl.strides[k][1]
    if s1 == 0 or s1 == pl.itemsize[k] or s0 == 0:
        return False
    return (s0 if s0 > 0 else -s0) < (s1 if s1 > 0 else -s1)


cdef bint tiles_pay(const Plan* pl) noexcept nogil:
    cdef int k
    if pl.ndim != 2 or pl.strides[0][1] != pl.itemsize[0] or pl.shape[0] < 2:
        return False
    for k in range(1, pl.nargs):
        if _walks_across(pl, k):
            return True
    return False


cdef void _gather_tile(char* dst, const char* src, Py_ssize_t s0, Py_ssize_t s1,
                       Py_ssize_t nr, Py_ssize_t nc, Py_ssize_t size) noexcept nogil:
    """``dst[r, j] = src[r * s0 + j * s1]`` for an ``nr`` x ``nc`` tile, stored row-major with
    rows ``pitch`` elements apart; read column by column, so each source line is read once."""
    cdef Py_ssize_t pitch = TILE_COLS + TILE_PAD
    cdef Py_ssize_t r, j
    cdef const char* col
    for j in range(nc):
        col = src + j * s1
        if size == 4:
            for r in range(nr):
                (<uint32_t*>dst)[r * pitch + j] = (<const uint32_t*>(col + r * s0))[0]
        elif size == 8:
            for r in range(nr):
                (<uint64_t*>dst)[r * pitch + j] = (<const uint64_t*>(col + r * s0))[0]
        else:
            for r in range(nr):
                memcpy(dst + (r * pitch + j) * size, col + r * s0, size)


cdef int _tile(const Plan* pl, Py_ssize_t row0, Py_ssize_t nr, Py_ssize_t col0,
               Py_ssize_t nc, Scratch* scratch, char* tiles) noexcept nogil:
    """Rows [row0, row0+nr), columns [col0, col0+nc) of a 2-D plan whose transposed inputs
    are gathered into ``tiles`` (TILE_BYTES per input) first."""
    cdef char* call[MAX_ARGS]
    cdef char* tile[MAX_ARGS]
    cdef const char* src
    cdef Py_ssize_t r, s1
    cdef int k, err = 0
    cdef int sk = scalar_operand(pl)
    cdef kernel_fn f = pl.scalar_f[sk] if sk else pl.f
    for k in range(1, pl.nargs):
        tile[k] = NULL
        if _walks_across(pl, k):
            tile[k] = tiles + (k - 1) * TILE_BYTES
            _gather_tile(tile[k], pl.base[k] + row0 * pl.strides[k][0] + col0 * pl.strides[k][1],
                         pl.strides[k][0], pl.strides[k][1], nr, nc, pl.itemsize[k])
    for r in range(nr):
        for k in range(1, pl.nargs):
            src = pl.base[k] + (row0 + r) * pl.strides[k][0] + col0 * pl.strides[k][1]
            s1 = pl.strides[k][1]
            if tile[k] != NULL:
                call[k] = tile[k] + r * (TILE_COLS + TILE_PAD) * pl.itemsize[k]
            elif s1 == pl.itemsize[k] or k == sk:
                call[k] = <char*>src
            elif s1 == 0:
                call[k] = filled(scratch, k, src, nc, pl.itemsize[k])
            else:
                gather(scratch.buf[k], src, s1, nc, pl.itemsize[k])
                scratch.filled[k] = NULL
                call[k] = scratch.buf[k]
        call[0] = pl.base[0] + (row0 + r) * pl.strides[0][0] + col0 * pl.itemsize[0]
        err |= f(call, nc, pl.params)
    return err


cdef int run_tiled(const Plan* pl) noexcept nogil:
    cdef Py_ssize_t rows = pl.shape[0], cols = pl.shape[1]
    cdef Py_ssize_t ncol_tiles = (cols + TILE_COLS - 1) // TILE_COLS
    cdef Py_ssize_t items = ((rows + TILE_ROWS - 1) // TILE_ROWS) * ncol_tiles, it, row0, col0
    cdef int err = 0
    cdef Scratch* scratch = NULL
    cdef char* tiles = NULL
    cdef int nthreads = threads_for(rows * cols * pl.nargs, items)
    with parallel(num_threads=nthreads):
        scratch = new_scratch()
        tiles = <char*>malloc((MAX_ARGS - 1) * TILE_BYTES)
        for it in prange(items, schedule="dynamic"):
            if scratch == NULL or tiles == NULL:
                err |= -1
            else:
                row0 = (it // ncol_tiles) * TILE_ROWS
                col0 = (it % ncol_tiles) * TILE_COLS
                err |= _tile(pl, row0, min(<Py_ssize_t>TILE_ROWS, rows - row0), col0,
                             min(<Py_ssize_t>TILE_COLS, cols - col0), scratch, tiles)
        free(scratch)
        free(tiles)
    return err

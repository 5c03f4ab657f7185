"""Embedding kernels. The gather copies whole rows as bytes, so it serves every dtype; the
scatter-add backward is float32/float64.

The backward splits the table's columns, not the indices, between threads: a repeated index
then never has two threads adding into the same row, and the order of additions into each
element (index order) does not depend on the thread count.
"""
from cython.parallel cimport prange
from libc.stdint cimport int32_t, int64_t
from libc.string cimport memcpy

from .parallel cimport threads_for
from .types cimport for_dtype, real

import numpy as np

cdef enum:
    # narrowest column slice a thread takes: two threads never write one cache line
    MIN_COLS = 16


cdef bint indices_in_range(const index_t* idx, Py_ssize_t n, Py_ssize_t num) noexcept nogil:
    cdef Py_ssize_t k
    cdef bint ok = True
    for k in range(n):
        ok = ok & (idx[k] >= 0) & (idx[k] < num)
    return ok


cdef _gather(const unsigned char[:, ::1] table, const index_t[::1] idx,
             unsigned char[:, ::1] out):
    cdef Py_ssize_t k, n = idx.shape[0], row = table.shape[1]
    # row is in bytes: a float32 row is read and written as row / 4 elements each
    cdef int nt = threads_for(n * row // 2, n)
    with nogil:
        for k in prange(n, schedule="static", num_threads=nt):
            memcpy(&out[k, 0], &table[idx[k], 0], row)


cdef _scatter_add(const real[:, ::1] go, const index_t[::1] idx, real[:, ::1] gw,
                  int64_t padding_idx):
    cdef Py_ssize_t n = idx.shape[0], D = gw.shape[1], k, j, b, lo, hi, width
    # threads split the columns: no two add into one element, and no slice is so narrow
    # that two threads write one cache line
    cdef Py_ssize_t chunks = threads_for(2 * n * D, max(D // MIN_COLS, 1))
    cdef index_t r
    cdef const real* src
    cdef real* dst
    width = (D + chunks - 1) // chunks
    with nogil:
        for b in prange(chunks, schedule="static", num_threads=chunks):
            lo = b * width
            hi = lo + width if lo + width < D else D
            for k in range(n):
                r = idx[k]
                if r == padding_idx:
                    continue
                src = &go[k, 0]
                dst = &gw[r, 0]
                for j in range(lo, hi):
                    dst[j] = dst[j] + src[j]


# ---- checked entry points ----------------------------------------------------------------

def _flat_indices(idx):
    if idx.dtype not in (np.int64, np.int32):
        raise RuntimeError("embedding: indices must be int64 or int32")
    return np.ascontiguousarray(idx.reshape(-1))


def _in_range(const index_t[::1] idx, Py_ssize_t num):
    cdef bint ok = True
    if idx.shape[0]:
        with nogil:
            ok = indices_in_range(&idx[0], idx.shape[0], num)
    return ok


def check_indices(idx, Py_ssize_t num):
    """Raise torch's IndexError unless every index lies in ``[0, num)``."""
    flat = _flat_indices(idx)
    if not _in_range(flat, num):
        raise IndexError("index out of range in self")
    return flat


def gather(table, idx, out):
    """``out[k] = table[idx.flat[k]]``; ``table`` (num, D) and ``out`` (idx.size, D) are
    contiguous and of one dtype."""
    if table.ndim != 2 or out.ndim != 2 or table.dtype != out.dtype:
        raise RuntimeError("embedding: table and out must be 2-D of one dtype")
    if not (table.flags.c_contiguous and out.flags.c_contiguous):
        raise RuntimeError("embedding: table and out must be contiguous")
    flat = check_indices(idx, table.shape[0])
    if out.shape != (flat.shape[0], table.shape[1]):
        raise RuntimeError("embedding: out must have one row per index")
    if out.size == 0:
        return
    row_bytes = table.shape[1] * table.dtype.itemsize
    t8 = table.view(np.uint8).reshape(table.shape[0], row_bytes)
    o8 = out.view(np.uint8).reshape(out.shape[0], row_bytes)
    _GATHER[flat.dtype == np.int32](t8, flat, o8)


def scatter_add(go, idx, gw, int64_t padding_idx=-1):
    """``gw[idx.flat[k]] += go[k]`` for every k whose index is not ``padding_idx``;
    ``go`` (idx.size, D) and ``gw`` (num, D) contiguous, one float dtype."""
    if go.ndim != 2 or gw.ndim != 2 or go.dtype != gw.dtype:
        raise RuntimeError("embedding_backward: grad and table must be 2-D of one dtype")
    if go.dtype not in (np.float32, np.float64):
        raise RuntimeError("embedding_backward: float32/float64 only")
    if not (go.flags.c_contiguous and gw.flags.c_contiguous):
        raise RuntimeError("embedding_backward: arrays must be contiguous")
    flat = check_indices(idx, gw.shape[0])
    if go.shape != (flat.shape[0], gw.shape[1]):
        raise RuntimeError("embedding_backward: grad must have one row per index")
    if go.size == 0:
        return
    by_index = for_dtype(go.dtype, _SCATTER_ADD, "embedding_backward")
    by_index[flat.dtype == np.int32](go, flat, gw, padding_idx)


# specialisations by index dtype (int64, int32), and for the scatter first by float dtype
_GATHER = (_gather[int64_t], _gather[int32_t])
_SCATTER_ADD = ((_scatter_add[float, int64_t], _scatter_add[float, int32_t]),
                (_scatter_add[double, int64_t], _scatter_add[double, int32_t]))

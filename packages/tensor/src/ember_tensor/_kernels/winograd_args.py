"""Argument checks of the Winograd kernels' Python entry points (``winograd.pyx``): every
shape and stride is checked before a loop runs, so the loops cannot run past an array.
Plain Python: an error path costs nothing to compile, and each CPU level's copy of
``winograd`` finds this one module."""
import numpy as np


def float_arrays(name, *arrays):
    dtype = arrays[0].dtype
    for a in arrays:
        if not isinstance(a, np.ndarray):
            raise RuntimeError(f"winograd {name}: expected ndarrays")
        if a.dtype != dtype:
            raise RuntimeError(f"winograd {name}: arrays must share one dtype")
    if dtype not in (np.float32, np.float64):
        raise RuntimeError(f"winograd {name}: expected float32 or float64 arrays")


def contiguous(name, *arrays):
    for a in arrays:
        if not a.flags.c_contiguous:
            raise RuntimeError(f"winograd {name}: arrays must be C-contiguous")


def stacked(name, a, label, rows, cols):
    """Check that ``a`` is 16 row-major (rows, cols) matrices; their distance in elements."""
    expected = (16, rows, cols)
    if a.ndim != 3 or a.shape != expected:
        raise RuntimeError(
            f"winograd {name}: {label} of shape {tuple(a.shape)}, expected {expected}")
    item = a.itemsize
    if (a.strides[2] != item or a.strides[1] != cols * item or a.strides[0] % item
            or a.strides[0] < rows * cols * item):
        raise RuntimeError(
            f"winograd {name}: {label} must hold 16 C-contiguous matrices, one after another")
    return a.strides[0] // item


def row_range(name, row0, row1, rows):
    row0, row1 = int(row0), int(row1)
    if not 0 <= row0 <= row1 <= rows:
        raise ValueError(f"winograd {name}: tile rows [{row0}, {row1}) outside [0, {rows})")
    return row0, row1


def tiled_rows(name, a, what, stack, label, row0, row1):
    """Check the 4-D ``a`` (``(N, C, H, W)``) against ``stack``, the 16 matrices holding the
    tiles of its tile rows ``[row0, row1)``; those rows, or None when there is nothing to do."""
    if a.ndim != 4:
        raise RuntimeError(f"winograd {name}: expected a 4-D {what}")
    N, C, H, W = a.shape
    TH, TW = tiles(H, W)
    row0, row1 = row_range(name, row0, row1, N * TH)
    stacked(name, stack, label, C, (row1 - row0) * TW)
    if row0 == row1 or C == 0 or W == 0:
        return None
    return row0, row1


def tiles(H, W):
    """``(TH, TW)``: tile rows per image and tiles per tile row for an ``H x W`` plane."""
    return (H + 1) // 2, (W + 1) // 2

"""``grid_sample`` (2-D: bilinear, nearest or bicubic; zeros/border/reflection padding) on
the kernels of ``_kernels/grid_sample.pyx``, and ``affine_grid``'s sampling grid as array
ops, with the backwards of both and torch's argument checks and words.

``affine_grid`` builds torch's grid: a base grid of ``(x, y, 1)`` per output pixel, x and y
from ``linspace(-1, 1)`` (shrunk by ``(n - 1) / n`` without ``align_corners``), times the
transposed 2x3 matrices. The three-term products are summed left to right in the input's
type, as torch's small-matrix ``bmm`` does.
"""
import numpy as np

from .._array import Array
from .._kernels import grid_sample as _k
from ._util import check_float, kernel_array, nd, scalar_name, size_str

__all__ = ["affine_grid", "affine_grid_backward", "grid_sample", "grid_sample_backward"]


def _dims_message(d, x, grid):
    return (f"grid_sampler(): expected {d}D input and grid with same number of dimensions, "
            f"but got input with sizes {size_str(x.shape)} and grid with sizes "
            f"{size_str(grid.shape)}")


def _check(x, grid, mode):
    # torch's order: batch, grid's last size, empty spatial sizes, then the ranks
    if x.ndim < 3 or grid.ndim < 3:
        raise RuntimeError(_dims_message(4 if x.ndim == 4 else 5, x, grid))
    if x.shape[0] != grid.shape[0]:
        raise RuntimeError(
            "grid_sampler(): expected grid and input to have same batch size, but got input "
            f"with sizes {size_str(x.shape)} and grid with sizes {size_str(grid.shape)}")
    if grid.shape[-1] != x.ndim - 2:
        raise RuntimeError(
            f"grid_sampler(): expected grid to have size {x.ndim - 2} in last dimension, but "
            f"got grid with sizes {size_str(grid.shape)}")
    for i in range(2, x.ndim):
        if x.shape[i] <= 0:
            raise RuntimeError(
                "grid_sampler(): expected input to have non-empty spatial dimensions, but "
                f"input has sizes {size_str(x.shape)} with dimension {i} being empty")
    if x.ndim != 4 or grid.ndim != 4:
        if x.ndim == 4 or x.ndim != grid.ndim or x.ndim != 5:
            raise RuntimeError(_dims_message(4 if x.ndim == 4 else 5, x, grid))
    if x.dtype != grid.dtype:
        raise RuntimeError(f"expected scalar type {scalar_name(x.dtype)} but found "
                           f"{scalar_name(grid.dtype)}")
    if x.ndim == 5:
        if mode == "bicubic":
            raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
        raise NotImplementedError("grid_sample: Ember samples 4-D (N, C, H, W) input only; "
                                  "5-D (volumetric) input is not supported")
    check_float(x, "grid_sampler_2d_cpu_kernel_impl")


def grid_sample(input: Array, grid: Array, mode: str, padding_mode: str,
                align_corners: bool) -> Array:
    """(N, C, H, W) ``input`` sampled at ``grid`` (N, OH, OW, 2): (N, C, OH, OW)."""
    x, g = nd(input), nd(grid)
    _check(x, g, mode)
    x, g = kernel_array(x), kernel_array(g)
    out = np.empty((x.shape[0], x.shape[1], g.shape[1], g.shape[2]), x.dtype)
    _k.forward(x, g, out, mode, padding_mode, bool(align_corners))
    return Array(out)


def grid_sample_backward(grad: Array, input: Array, grid: Array, mode: str, padding_mode: str,
                         align_corners: bool, input_grad: bool = True):
    """(grad of ``input`` or None when ``input_grad`` is False, grad of ``grid``)."""
    x, g = kernel_array(nd(input)), kernel_array(nd(grid))
    go = kernel_array(nd(grad), x.dtype)
    gx = np.empty_like(x) if input_grad else None
    gg = np.empty_like(g)
    _k.backward(go, x, g, gx, gg, mode, padding_mode, bool(align_corners))
    return (Array(gx) if input_grad else None), Array(gg)


def _linspace(steps, dtype):
    """torch's ``linspace(-1, 1, steps)``: the first half counts up from -1, the rest down
    from 1, each point ``end - step * (steps - 1 - i)`` rounded once."""
    if steps == 1:
        return np.array([-1.0], dtype)
    step = (dtype.type(2) / dtype.type(steps - 1)).astype(np.float64)
    i = np.arange(steps, dtype=np.float64)
    up = (i * step - 1.0).astype(dtype)
    down = (1.0 - (steps - 1 - i) * step).astype(dtype)
    return np.where(i < steps // 2, up, down)


def _axis(steps, align_corners, dtype):
    """torch's ``linspace_from_neg_one``: pixel centres (or edges) in [-1, 1]."""
    if steps <= 1:
        return np.zeros(1, dtype)
    r = _linspace(steps, dtype)
    if not align_corners:
        r = r * dtype.type(steps - 1) / dtype.type(steps)
    return r


def _base_grid(h, w, align_corners, dtype):
    base = np.empty((h, w, 3), dtype)
    base[..., 0] = _axis(w, align_corners, dtype)
    base[..., 1] = _axis(h, align_corners, dtype)[:, None]
    base[..., 2] = 1
    return base.reshape(h * w, 3)


def affine_grid(theta: Array, size, align_corners: bool) -> Array:
    """(N, H, W, 2) grid of ``theta`` (N, 2, 3) for output ``size`` (N, C, H, W)."""
    t = nd(theta)
    n, _, h, w = (int(s) for s in size)
    if t.shape[0] != n:
        raise RuntimeError("Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{n}, 3] but got: [{t.shape[0]}, 3].")
    xs = _axis(w, align_corners, t.dtype)[None, None, :]
    ys = _axis(h, align_corners, t.dtype)[None, :, None]
    # base @ theta^T, the three products summed left to right (the third is 1 * theta),
    # one output coordinate at a time: broadcasting over a last axis of 2 runs numpy's
    # inner loop 2 elements long
    out = np.empty((n, h, w, 2), t.dtype)
    for j in range(2):
        row = t[:, j, :, None, None]
        out[..., j] = (xs * row[:, 0] + ys * row[:, 1]) + row[:, 2]
    return Array(out)


def affine_grid_backward(grad: Array, size, align_corners: bool) -> Array:
    """The (N, 2, 3) gradient of ``theta`` from the grid's gradient (N, H, W, 2)."""
    g = nd(grad)
    n, _, h, w = (int(s) for s in size)
    base = _base_grid(h, w, align_corners, g.dtype)
    return Array(np.matmul(g.reshape(n, h * w, 2).transpose(0, 2, 1), base))

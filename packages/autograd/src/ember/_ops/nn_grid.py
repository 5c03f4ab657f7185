"""``F.grid_sample`` (2-D) and ``F.affine_grid`` (2-D) as differentiable ops, recorded under
torch's grad_fn names (``GridSampler2DBackward0``, ``AffineGridGeneratorBackward0``), with
torch's argument checks, warnings and words.

The computing is ember_tensor's (``nn.grid_sample``); the backwards are fused kernels. Under
``create_graph=True`` grid_sample's kernel gradient is recorded as
``GridSampler2DBackwardBackward0``, whose backward differentiates the Tensor-op composite of
``nn_grid_reference``; affine_grid's backward, linear in the gradient, becomes a matmul
against the base grid.
"""
import warnings
from typing import Optional, Sequence

import numpy as np

from ember_tensor import Array
from ember_tensor.nn import grid_sample as _g

from .._core.node import Node, record
from .._tensor import Tensor
from .nn_double_backward import building_graph, record_masked, spread, vjp
from .nn_grid_reference import grid_sample_grads

__all__ = ["affine_grid", "grid_sample"]

_ALIGN_WARNING = (
    "Default grid_sample and affine_grid behavior has changed to align_corners=False since "
    "1.3.0. Please specify align_corners=True if the old behavior is desired. See the "
    "documentation of grid_sample for details.")


class GridSampler2DBackward0(Node):
    def backward(self, grad):
        x, grid = self.saved_tensors
        mask = (bool(self.needs_input_grad[0]), bool(self.needs_input_grad[1]))
        gx, gg = _g.grid_sample_backward(grad._data, x._data, grid._data, self.mode,
                                         self.padding_mode, self.align_corners,
                                         input_grad=mask[0])
        if not mask[1]:
            gg = None
        if building_graph():
            return record_masked(GridSampler2DBackwardBackward0, (gx, gg), (grad, x, grid),
                                 save=(grad, x, grid), mode=self.mode,
                                 padding_mode=self.padding_mode,
                                 align_corners=self.align_corners)
        return (Tensor._make(gx) if gx is not None else None,
                Tensor._make(gg) if gg is not None else None)


class GridSampler2DBackwardBackward0(Node):
    """grid_sample's gradients (kernel-computed) as a function of (grad, input, grid)."""

    def backward(self, *grads):
        g, x, grid = self.saved_tensors
        return vjp(self.formula, self, (g, x, grid), spread(self.mask, grads))

    def formula(self, g, x, grid):
        return grid_sample_grads(g, x, grid, self.mode, self.padding_mode, self.align_corners,
                                 self.mask)


class AffineGridGeneratorBackward0(Node):
    def backward(self, grad):
        if building_graph():
            return (_affine_grid_backward_ops(grad, self.size, self.align_corners),)
        return (Tensor._make(_g.affine_grid_backward(grad._data, self.size,
                                                     self.align_corners)),)


def _affine_grid_backward_ops(grad: Tensor, size: Sequence[int], align_corners: bool) -> Tensor:
    """d theta = sum over pixels of grad (x', y') times the base point (x, y, 1): the adjoint of
    ``grid = base @ theta^T`` as a matmul, so it is differentiable in ``grad``."""
    n, h, w = size[0], size[-2], size[-1]
    identity = np.array([[[1, 0, 0], [0, 1, 0]]], dtype=np.asarray(grad._data).dtype)
    xy = np.asarray(_g.affine_grid(Array(identity), [1, 1, h, w], align_corners))
    base = np.concatenate([xy.reshape(h * w, 2), np.ones((h * w, 1), xy.dtype)], axis=1)
    # (3, HW) @ (N, HW, 2), then transposed, so the node is torch's TransposeBackward0
    return (Tensor._make(Array(base.T)) @ grad.reshape(n, h * w, 2)).transpose(1, 2)


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear",
                padding_mode: str = "zeros", align_corners: Optional[bool] = None) -> Tensor:
    """Sample ``input`` (N, C, H, W) at the normalised points of ``grid`` (N, OH, OW, 2)."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    out = _g.grid_sample(input._data, grid._data, mode, padding_mode, align_corners)
    return record(GridSampler2DBackward0, out, (input, grid), save=(input, grid), mode=mode,
                  padding_mode=padding_mode, align_corners=bool(align_corners))


def affine_grid(theta: Tensor, size: Sequence[int],
                align_corners: Optional[bool] = None) -> Tensor:
    """The (N, H, W, 2) sampling grid of the 2-D affine matrices ``theta`` (N, 2, 3) for an
    output of ``size`` (N, C, H, W)."""
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = list(size)
    if len(size) == 4:
        if theta.dim() != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
            raise ValueError("Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                             f"{size}. Got {theta.shape}.")
        spatial = size[-2:]
    elif len(size) == 5:
        if theta.dim() != 3 or theta.shape[-2] != 3 or theta.shape[-1] != 4:
            raise ValueError("Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                             f"{size}. Got {theta.shape}.")
        raise NotImplementedError("affine_grid: Ember builds 2-D grids (4-D sizes) only; "
                                  "3-D (5-D sizes) is not supported")
    else:
        raise NotImplementedError(
            "affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
            f"respectively. Got size {size}.")
    if align_corners and min(spatial) == 1:
        warnings.warn(
            "Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
            "align_corners=True. This is not an intended use case of affine_grid. See the "
            "documentation of affine_grid for details.", stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    out = _g.affine_grid(theta._data, size, align_corners)
    return record(AffineGridGeneratorBackward0, out, (theta,), size=tuple(size),
                  align_corners=bool(align_corners))

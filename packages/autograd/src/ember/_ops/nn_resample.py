"""``F.interpolate``'s resampling as differentiable ops: nearest and nearest-exact (1-D and
2-D), linear and bilinear, recorded under torch's grad_fn names
(``UpsampleBilinear2DBackward0``...).

The forward and backward are ember_tensor's (``nn.resample``). The gradient is linear in the
incoming gradient alone, so under ``create_graph=True`` the backward kernel's result is
recorded as torch's ``...BackwardBackward0`` node, whose backward is the resampling itself.
"""
from typing import Optional, Sequence

from ember_tensor.nn import resample as _r

from .._core.node import Node, record
from .._tensor import Tensor
from .nn import adaptive_avg_pool2d
from .nn_double_backward import building_graph

__all__ = ["upsample", "interpolate"]


class _UpsampleBackward(Node):
    def backward(self, grad):
        gx = _r.upsample_backward(grad._data, self.in_shape, self.dims, self.mode,
                                  self.align_corners, self.factors)
        if not building_graph():
            return (Tensor._make(gx),)
        return (record(_DOUBLE[type(self)], gx, (grad,), out_sizes=tuple(grad.shape[-self.dims:]),
                       user_mode=self.user_mode, align_corners=self.align_corners,
                       factors=self.factors),)


class _UpsampleBackwardBackward(Node):
    def backward(self, gg):
        return (upsample(gg, self.out_sizes, self.user_mode, self.align_corners,
                         self.factors),)


class UpsampleNearest1DBackward0(_UpsampleBackward):
    pass


class UpsampleNearest2DBackward0(_UpsampleBackward):
    pass


class UpsampleNearestExact1DBackward0(_UpsampleBackward):
    pass


class UpsampleNearestExact2DBackward0(_UpsampleBackward):
    pass


class UpsampleLinear1DBackward0(_UpsampleBackward):
    pass


class UpsampleBilinear2DBackward0(_UpsampleBackward):
    pass


class UpsampleNearest1DBackwardBackward0(_UpsampleBackwardBackward):
    pass


class UpsampleNearest2DBackwardBackward0(_UpsampleBackwardBackward):
    pass


class UpsampleNearestExact1DBackwardBackward0(_UpsampleBackwardBackward):
    pass


class UpsampleNearestExact2DBackwardBackward0(_UpsampleBackwardBackward):
    pass


class UpsampleLinear1DBackwardBackward0(_UpsampleBackwardBackward):
    pass


class UpsampleBilinear2DBackwardBackward0(_UpsampleBackwardBackward):
    pass


_DOUBLE = {UpsampleNearest1DBackward0: UpsampleNearest1DBackwardBackward0,
           UpsampleNearest2DBackward0: UpsampleNearest2DBackwardBackward0,
           UpsampleNearestExact1DBackward0: UpsampleNearestExact1DBackwardBackward0,
           UpsampleNearestExact2DBackward0: UpsampleNearestExact2DBackwardBackward0,
           UpsampleLinear1DBackward0: UpsampleLinear1DBackwardBackward0,
           UpsampleBilinear2DBackward0: UpsampleBilinear2DBackwardBackward0}

_NODES = {("nearest", 1): UpsampleNearest1DBackward0, ("nearest", 2): UpsampleNearest2DBackward0,
          ("nearest-exact", 1): UpsampleNearestExact1DBackward0,
          ("nearest-exact", 2): UpsampleNearestExact2DBackward0,
          ("linear", 1): UpsampleLinear1DBackward0, ("bilinear", 2): UpsampleBilinear2DBackward0}


def upsample(input: Tensor, out_sizes: Sequence[int], mode: str, align_corners: bool,
             factors: Optional[Sequence[float]]) -> Tensor:
    """``input`` resampled over its last ``len(out_sizes)`` axes (``mode`` nearest, linear
    or bilinear); ``factors`` are the user's scale factors when they set the scale."""
    dims = len(out_sizes)
    kind = mode if mode in ("nearest", "nearest-exact") else "linear"
    out = _r.upsample(input._data, out_sizes, kind, align_corners, factors)
    return record(_NODES[mode, dims], out, (input,), in_shape=tuple(input.shape), dims=dims,
                  mode=kind, user_mode=mode, align_corners=align_corners,
                  factors=None if factors is None else tuple(factors))


_MODES = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"


def _spatial(input, value, name, what):
    dim = input.dim() - 2
    if isinstance(value, (list, tuple)):
        if len(value) != dim:
            raise ValueError(
                f"Input and {name} must have the same number of spatial dimensions, but got "
                f"input with spatial dimensions of {list(input.shape[2:])} and {what}"
                f"{value}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                f"{name.replace('output', 'output size')} in {_FORMATS[name]} format.")
        return list(value)
    return [value] * dim


_FORMATS = {"output": "(o1, o2, ...,oK)", "scale_factor": "(s1, s2, ...,sK)"}


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: Optional[bool] = None,
                recompute_scale_factor: Optional[bool] = None,
                antialias: bool = False) -> Tensor:
    """torch.nn.functional.interpolate for ``nearest``, ``nearest-exact``, ``linear``,
    ``bilinear`` and ``area``, with torch's argument rules and words."""
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        out_sizes = [int(s) for s in _spatial(input, size, "output", "output size of ")]
        factors = None
    elif scale_factor is not None:
        factors = [float(f) for f in _spatial(input, scale_factor, "scale_factor",
                                              "scale_factor of shape ")]
        out_sizes = _r.output_size(input.shape[2:], factors)
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if recompute_scale_factor or mode == "area":
        factors = None
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.dim() == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                         "modes and requires a 4-D tensor as input")
    if antialias:
        raise NotImplementedError("Ember's interpolate has no antialias=True yet")
    ndim = input.dim()
    if mode == "area" and ndim == 4:
        return adaptive_avg_pool2d(input, out_sizes)
    if (mode in ("nearest", "nearest-exact") and ndim in (3, 4)) or (mode, ndim) in (("linear", 3),
                                                                  ("bilinear", 4)):
        return upsample(input, out_sizes, mode, bool(align_corners), factors)
    for m, need in (("linear", 3), ("bilinear", 4), ("bicubic", 4), ("trilinear", 5)):
        if mode == m and ndim in (3, 4, 5) and ndim != need:
            raise NotImplementedError(f"Got {ndim}D input, but {m} mode needs {need}D input")
    if mode in _MODES.split(" | ") and ndim in (3, 4, 5):
        raise NotImplementedError(f"Ember's interpolate has no {ndim}D mode='{mode}' yet")
    raise NotImplementedError(
        f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {ndim}D) for the modes: "
        f"{_MODES} (got {mode})")

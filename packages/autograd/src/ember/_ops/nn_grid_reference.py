"""``grid_sample`` (2-D) written with differentiable Tensor ops, for gradients of gradients.

The fused kernels in ember_tensor compute the forward and the first backward; this composite
only exists so the gradient node of ``create_graph=True`` (``GridSampler2DBackwardBackward0``)
has a backward: it is that node's formula, differentiated by the engine. It follows torch's
semantics (ATen's grid sampler): unnormalised coordinates per ``align_corners``, border =
clip, reflection = reflect then clip, bilinear = four corners weighted from ``floor``,
nearest = round half to even (no gradient to the grid), bicubic = 4x4 taps with A = -0.75
whose coordinates are padded one by one, zeros padding = taps outside count as zero.
"""
from typing import List, Optional, Tuple

from .. import _grad_mode as grad_mode
from .._core.entry import grad as autograd_grad
from .._tensor import Tensor

__all__ = ["grid_sample_composite", "grid_sample_grads"]

_CUBIC_A = -0.75


def _unnormalize(coord: Tensor, size: int, align_corners: bool) -> Tensor:
    if align_corners:  # -1 and 1 are the centres of the corner pixels
        return (coord + 1) * ((size - 1) / 2)
    return ((coord + 1) * size - 1) / 2  # -1 and 1 are the outer edges of the corner pixels


def _reflect(coord: Tensor, twice_low: int, twice_high: int) -> Tensor:
    """Fold ``coord`` into [twice_low / 2, twice_high / 2] as a mirror would; the gradient's
    sign flips come from ``abs`` and from the odd folds' ``span - extra``."""
    if twice_low == twice_high:
        return coord * 0
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    dist = (coord - low).abs()
    extra = dist.fmod(span)
    flips = (dist / span).floor()
    even = flips.fmod(2) == 0
    return (extra + low).where(even, span + low - extra)


def _pad_coordinates(coord: Tensor, size: int, padding_mode: str,
                     align_corners: bool) -> Tensor:
    if padding_mode == "border":
        return coord.clamp(0, size - 1)
    if padding_mode == "reflection":
        if align_corners:
            coord = _reflect(coord, 0, 2 * (size - 1))
        else:
            coord = _reflect(coord, -1, 2 * size - 1)
        return coord.clamp(0, size - 1)
    return coord


class _Taps:
    """Values of the flattened input (N, C, H*W) at integer pixel coordinates, zero where a
    coordinate lies outside the image (only reachable with zeros padding)."""

    def __init__(self, input: Tensor):
        self.n, self.c, self.h, self.w = input.shape
        self.flat = input.reshape(self.n, self.c, self.h * self.w)

    def at(self, ix: Tensor, iy: Tensor) -> Tensor:
        """ix, iy: (N, OH, OW) whole numbers as floats; returns (N, C, OH, OW)."""
        n, oh, ow = ix.shape
        inside = (ix >= 0) & (ix <= self.w - 1) & (iy >= 0) & (iy <= self.h - 1)
        cx = ix.detach().clamp(0, self.w - 1)
        cy = iy.detach().clamp(0, self.h - 1)
        index = (cy * self.w + cx).long().reshape(n, 1, oh * ow).expand(n, self.c, oh * ow)
        vals = self.flat.gather(2, index).reshape(n, self.c, oh, ow)
        return vals * inside.unsqueeze(1).to(vals.dtype)


def _cubic_weights(t: Tensor) -> List[Tensor]:
    """The four cubic-convolution weights of the taps at -1, 0, 1, 2 from a point ``t`` in
    [0, 1) past the second one."""
    a = _CUBIC_A

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _sum(terms: List[Tensor]) -> Tensor:
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total


def grid_sample_composite(input: Tensor, grid: Tensor, mode: str, padding_mode: str,
                          align_corners: bool) -> Tensor:
    """``F.grid_sample`` of a 4-D input as Tensor ops (slow; for differentiating)."""
    taps = _Taps(input)
    h, w = taps.h, taps.w
    x = _unnormalize(grid[..., 0], w, align_corners)
    y = _unnormalize(grid[..., 1], h, align_corners)
    if mode == "bicubic":  # each tap is padded on its own, below
        x0, y0 = x.floor(), y.floor()
        wx, wy = _cubic_weights(x - x0), _cubic_weights(y - y0)
        terms = []
        for j in range(4):
            ty = _pad_coordinates(y0 + (j - 1), h, padding_mode, align_corners)
            for i in range(4):
                tx = _pad_coordinates(x0 + (i - 1), w, padding_mode, align_corners)
                terms.append(taps.at(tx, ty) * (wx[i] * wy[j]).unsqueeze(1))
        return _sum(terms)
    x = _pad_coordinates(x, w, padding_mode, align_corners)
    y = _pad_coordinates(y, h, padding_mode, align_corners)
    if mode == "nearest":
        return taps.at(x.round(), y.round())
    x0, y0 = x.floor(), y.floor()
    fx, fy = x - x0, y - y0
    return _sum([taps.at(x0 + dx, y0 + dy) * (wx * wy).unsqueeze(1)
                 for dy, wy in ((0, 1 - fy), (1, fy)) for dx, wx in ((0, 1 - fx), (1, fx))])


def grid_sample_grads(grad: Tensor, input: Tensor, grid: Tensor, mode: str,
                      padding_mode: str, align_corners: bool,
                      mask: Tuple[bool, bool]) -> Tuple[Optional[Tensor], Optional[Tensor]]:
    """``(grad_input, grad_grid)`` of grid_sample (those ``mask`` asks for) as a function of
    ``grad``, ``input`` and ``grid`` that stays differentiable."""
    wanted = [t if t.requires_grad else t.detach().requires_grad_(True)
              for t, m in zip((input, grid), mask) if m]
    it = iter(wanted)
    x = next(it) if mask[0] else input
    g = next(it) if mask[1] else grid
    with grad_mode.enable_grad():
        out = grid_sample_composite(x, g, mode, padding_mode, align_corners)
        got = iter(autograd_grad(out, wanted, grad, create_graph=True, allow_unused=True))
    result: List[Optional[Tensor]] = []
    for t, m in zip((input, grid), mask):
        if not m:
            result.append(None)
            continue
        r = next(got)
        result.append(r if r is not None else t.detach() * 0)
    return result[0], result[1]

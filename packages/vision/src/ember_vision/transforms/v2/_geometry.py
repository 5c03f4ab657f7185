"""v2 geometric transforms: resize and crops, pad, flips, and the random warps."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .. import _rng as rng
from .._geometry_transforms import _check_sequence_input, _setup_angle
from ..transforms import _resized_crop_params, _setup_size
from . import functional as F
from ._transform import (
    RandomApplyTransform,
    Transform,
    get_fill,
    query_size,
    setup_fill,
)

if TYPE_CHECKING:
    from .._base import InterpolationMode

__all__ = [
    "CenterCrop", "ElasticTransform", "FiveCrop", "Pad", "RandomAffine", "RandomCrop",
    "RandomHorizontalFlip", "RandomPerspective", "RandomResize", "RandomResizedCrop",
    "RandomRotation", "RandomShortestSize", "RandomVerticalFlip", "Resize", "ScaleJitter",
    "TenCrop",
]


def _check_padding(padding):
    msg = f"Padding must be an int or a 1, 2, or 4 element of tuple or list, got {padding}."
    if isinstance(padding, (tuple, list)):
        if len(padding) not in (1, 2, 4) or not all(isinstance(p, int) for p in padding):
            raise ValueError(msg)
    elif not isinstance(padding, int):
        raise ValueError(msg)


def _check_padding_mode(mode):
    if mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")


def _ltrb_to_lrtb(padding):
    """v2 keeps padding as [left, right, top, bottom]."""
    if isinstance(padding, int):
        return [padding] * 4
    if len(padding) == 1:
        return [padding[0]] * 4
    if len(padding) == 2:
        return [padding[0], padding[0], padding[1], padding[1]]
    return [padding[0], padding[2], padding[1], padding[3]]


class RandomHorizontalFlip(RandomApplyTransform):
    def transform(self, inpt, params):
        return F.horizontal_flip(inpt)


class RandomVerticalFlip(RandomApplyTransform):
    def transform(self, inpt, params):
        return F.vertical_flip(inpt)


class Resize(Transform):
    def __init__(self, size: int | Sequence[int],
                 interpolation: InterpolationMode | str | int = "bilinear",
                 max_size: int | None = None, antialias: bool | None = True) -> None:
        if isinstance(size, int):
            size = [size]
        elif isinstance(size, Sequence) and len(size) in {1, 2}:
            size = list(size)
        elif size is None:
            if not isinstance(max_size, int):
                raise ValueError(
                    f"max_size must be an integer when size is None, but got {max_size} "
                    "instead.")
        else:
            raise ValueError(
                "size can be an integer, a sequence of one or two integers, or None, but got "
                f"{size} instead.")
        self.size = size
        self.interpolation = interpolation
        self.max_size = max_size
        self.antialias = antialias

    def transform(self, inpt, params):
        return F.resize(inpt, self.size, interpolation=self.interpolation,
                        max_size=self.max_size, antialias=self.antialias)


class CenterCrop(Transform):
    def __init__(self, size: int | Sequence[int]) -> None:
        self.size = _setup_size(
            size, error_msg="Please provide only two dimensions (h, w) for size.")

    def transform(self, inpt, params):
        return F.center_crop(inpt, output_size=self.size)


class RandomResizedCrop(Transform):
    def __init__(self, size: int | Sequence[int], scale: Sequence[float] = (0.08, 1.0),
                 ratio: Sequence[float] = (3.0 / 4.0, 4.0 / 3.0),
                 interpolation: InterpolationMode | str | int = "bilinear",
                 antialias: bool | None = True) -> None:
        self.size = _setup_size(
            size, error_msg="Please provide only two dimensions (h, w) for size.")
        if not isinstance(scale, Sequence) or len(scale) != 2:
            raise TypeError("Scale should be a sequence of two floats.")
        if not isinstance(ratio, Sequence) or len(ratio) != 2:
            raise TypeError("Ratio should be a sequence of two floats.")
        self.scale = scale
        self.ratio = ratio
        self.interpolation = interpolation
        self.antialias = antialias

    def make_params(self, flat_inputs):
        height, width = query_size(flat_inputs)
        i, j, h, w = _resized_crop_params(height, width, self.scale, self.ratio)
        return dict(top=i, left=j, height=h, width=w)

    def transform(self, inpt, params):
        return F.resized_crop(inpt, **params, size=self.size, interpolation=self.interpolation,
                              antialias=self.antialias)


class RandomCrop(Transform):
    def __init__(self, size: int | Sequence[int], padding: int | Sequence[int] | None = None,
                 pad_if_needed: bool = False, fill: float | Sequence[float] | None = 0,
                 padding_mode: str = "constant") -> None:
        self.size = _setup_size(
            size, error_msg="Please provide only two dimensions (h, w) for size.")
        if pad_if_needed or padding is not None:
            if padding is not None:
                _check_padding(padding)
            _check_padding_mode(padding_mode)
        self.padding = _ltrb_to_lrtb(padding) if padding else None
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self._fill = setup_fill(fill)
        self.padding_mode = padding_mode

    def make_params(self, flat_inputs):
        padded_h, padded_w = query_size(flat_inputs)
        if self.padding is not None:
            pad_l, pad_r, pad_t, pad_b = self.padding
            padded_h += pad_t + pad_b
            padded_w += pad_l + pad_r
        else:
            pad_l = pad_r = pad_t = pad_b = 0
        crop_h, crop_w = self.size
        if self.pad_if_needed:
            if padded_h < crop_h:
                diff = crop_h - padded_h
                pad_t, pad_b, padded_h = pad_t + diff, pad_b + diff, padded_h + 2 * diff
            if padded_w < crop_w:
                diff = crop_w - padded_w
                pad_l, pad_r, padded_w = pad_l + diff, pad_r + diff, padded_w + 2 * diff
        if padded_h < crop_h or padded_w < crop_w:
            raise ValueError(
                f"Required crop size {(crop_h, crop_w)} is larger than "
                f"{'padded ' if self.padding is not None else ''}input image size "
                f"{(padded_h, padded_w)}.")
        padding = [pad_l, pad_t, pad_r, pad_b]
        top = rng.randint(0, padded_h - crop_h + 1) if padded_h > crop_h else 0
        left = rng.randint(0, padded_w - crop_w + 1) if padded_w > crop_w else 0
        return dict(needs_crop=padded_h > crop_h or padded_w > crop_w, top=top, left=left,
                    height=crop_h, width=crop_w, needs_pad=any(padding), padding=padding)

    def transform(self, inpt, params):
        if params["needs_pad"]:
            inpt = F.pad(inpt, padding=params["padding"], fill=get_fill(self._fill, inpt),
                         padding_mode=self.padding_mode)
        if params["needs_crop"]:
            inpt = F.crop(inpt, params["top"], params["left"], params["height"],
                          params["width"])
        return inpt


class Pad(Transform):
    def __init__(self, padding: int | Sequence[int], fill: float | Sequence[float] | None = 0,
                 padding_mode: str = "constant") -> None:
        _check_padding(padding)
        _check_padding_mode(padding_mode)
        if not isinstance(padding, int):
            padding = list(padding)
        self.padding = padding
        self.fill = fill
        self._fill = setup_fill(fill)
        self.padding_mode = padding_mode

    def transform(self, inpt, params):
        return F.pad(inpt, padding=self.padding, fill=get_fill(self._fill, inpt),
                     padding_mode=self.padding_mode)


class RandomRotation(Transform):
    def __init__(self, degrees: float | Sequence[float],
                 interpolation: InterpolationMode | str | int = "nearest", expand: bool = False,
                 center: Sequence[int] | None = None,
                 fill: float | Sequence[float] | None = 0) -> None:
        self.degrees = _setup_angle(degrees, name="degrees", req_sizes=(2,))
        self.interpolation = interpolation
        self.expand = expand
        self.fill = fill
        self._fill = setup_fill(fill)
        if center is not None:
            _check_sequence_input(center, "center", req_sizes=(2,))
        self.center = center

    def make_params(self, flat_inputs):
        return dict(angle=rng.uniform(self.degrees[0], self.degrees[1]))

    def transform(self, inpt, params):
        return F.rotate(inpt, **params, interpolation=self.interpolation, expand=self.expand,
                        center=self.center, fill=get_fill(self._fill, inpt))


class RandomAffine(Transform):
    def __init__(self, degrees: float | Sequence[float], translate: Sequence[float] | None = None,
                 scale: Sequence[float] | None = None, shear: float | Sequence[float] | None = None,
                 interpolation: InterpolationMode | str | int = "nearest",
                 fill: float | Sequence[float] | None = 0,
                 center: Sequence[int] | None = None) -> None:
        from .._geometry_transforms import RandomAffine as V1

        V1(degrees, translate, scale, shear, center=center)  # the same argument checks
        self.degrees = _setup_angle(degrees, name="degrees", req_sizes=(2,))
        self.translate = translate
        self.scale = scale
        self.shear = None if shear is None else _setup_angle(shear, name="shear",
                                                             req_sizes=(2, 4))
        self.interpolation = interpolation
        self.fill = fill
        self._fill = setup_fill(fill)
        self.center = center

    def make_params(self, flat_inputs):
        from .._geometry_transforms import RandomAffine as V1

        height, width = query_size(flat_inputs)
        angle, translate, scale, shear = V1.get_params(
            self.degrees, self.translate, self.scale, self.shear, [width, height])
        return dict(angle=angle, translate=translate, scale=scale, shear=shear)

    def transform(self, inpt, params):
        return F.affine(inpt, **params, interpolation=self.interpolation,
                        fill=get_fill(self._fill, inpt), center=self.center)


class RandomPerspective(RandomApplyTransform):
    def __init__(self, distortion_scale: float = 0.5, p: float = 0.5,
                 interpolation: InterpolationMode | str | int = "bilinear",
                 fill: float | Sequence[float] | None = 0) -> None:
        super().__init__(p=p)
        if not 0 <= distortion_scale <= 1:
            raise ValueError("Argument distortion_scale value should be between 0 and 1")
        self.distortion_scale = distortion_scale
        self.interpolation = interpolation
        self.fill = fill
        self._fill = setup_fill(fill)

    def make_params(self, flat_inputs):
        from .._geometry_transforms import RandomPerspective as V1

        height, width = query_size(flat_inputs)
        startpoints, endpoints = V1.get_params(width, height, self.distortion_scale)
        return dict(startpoints=startpoints, endpoints=endpoints)

    def transform(self, inpt, params):
        return F.perspective(inpt, **params, interpolation=self.interpolation,
                             fill=get_fill(self._fill, inpt))


class FiveCrop(Transform):
    def __init__(self, size: int | Sequence[int]) -> None:
        self.size = _setup_size(
            size, error_msg="Please provide only two dimensions (h, w) for size.")

    def transform(self, inpt, params):
        return F.five_crop(inpt, self.size)


class TenCrop(Transform):
    def __init__(self, size: int | Sequence[int], vertical_flip: bool = False) -> None:
        self.size = _setup_size(
            size, error_msg="Please provide only two dimensions (h, w) for size.")
        self.vertical_flip = vertical_flip

    def transform(self, inpt, params):
        return F.ten_crop(inpt, self.size, vertical_flip=self.vertical_flip)



class _RandomSize(Transform):
    """Resize to a size ``make_params`` draws."""

    def transform(self, inpt, params):
        return F.resize(inpt, params["size"], interpolation=self.interpolation,
                        antialias=self.antialias)


class ScaleJitter(_RandomSize):
    """Fit into ``target_size`` (w, h), times a scale drawn from ``scale_range``."""

    def __init__(self, target_size: Sequence[int], scale_range: Sequence[float] = (0.1, 2.0),
                 interpolation: InterpolationMode | str | int = "bilinear",
                 antialias: bool | None = True) -> None:
        self.target_size = target_size
        self.scale_range = scale_range
        self.interpolation = interpolation
        self.antialias = antialias

    def make_params(self, flat_inputs):
        height, width = query_size(flat_inputs)
        f = np.float32  # torch computes the scale as a float32 tensor
        lo, hi = self.scale_range
        scale = f(lo) + f(rng.rand()) * f(hi - lo)
        r = f(min(self.target_size[1] / height, self.target_size[0] / width)) * scale
        return dict(size=(int(f(height) * r), int(f(width) * r)))


class RandomShortestSize(_RandomSize):
    """Shorter side to one of ``min_size`` (drawn), longer side at most ``max_size``."""

    def __init__(self, min_size: int | Sequence[int], max_size: int | None = None,
                 interpolation: InterpolationMode | str | int = "bilinear",
                 antialias: bool | None = True) -> None:
        self.min_size = [min_size] if isinstance(min_size, int) else list(min_size)
        self.max_size = max_size
        self.interpolation = interpolation
        self.antialias = antialias

    def make_params(self, flat_inputs):
        height, width = query_size(flat_inputs)
        min_size = self.min_size[rng.randint(0, len(self.min_size))]
        r = min_size / min(height, width)
        if self.max_size is not None:
            r = min(r, self.max_size / max(height, width))
        return dict(size=(int(height * r), int(width * r)))


class RandomResize(_RandomSize):
    """Shorter side to a size drawn from [min_size, max_size)."""

    def __init__(self, min_size: int, max_size: int,
                 interpolation: InterpolationMode | str | int = "bilinear",
                 antialias: bool | None = True) -> None:
        self.min_size = min_size
        self.max_size = max_size
        self.interpolation = interpolation
        self.antialias = antialias

    def make_params(self, flat_inputs):
        return dict(size=[rng.randint(self.min_size, self.max_size)])


class ElasticTransform(Transform):
    def __init__(self, alpha: float | Sequence[float] = 50.0,
                 sigma: float | Sequence[float] = 5.0,
                 interpolation: InterpolationMode | str | int = "bilinear",
                 fill: float | Sequence[float] | None = 0) -> None:
        from ._color import _number_or_pair

        self.alpha = _number_or_pair(alpha, "alpha")
        self.sigma = _number_or_pair(sigma, "sigma")
        self.interpolation = interpolation
        self.fill = fill
        self._fill = setup_fill(fill)

    def make_params(self, flat_inputs):
        from .._geometry_transforms import elastic_displacement

        height, width = query_size(flat_inputs)
        return dict(displacement=elastic_displacement(self.alpha, self.sigma, height, width))

    def transform(self, inpt, params):
        return F.elastic(inpt, **params, fill=get_fill(self._fill, inpt),
                         interpolation=self.interpolation)

"""v2's AutoAugment, RandAugment, TrivialAugmentWide and AugMix: v1's op tables, drawn the
v2 way (ops picked with ``randint(len, ())``, signs with ``rand(()) <= 0.5``, Solarize as a
fraction of the maximum value), with v2's kernels."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ... import _interop as io
from .. import _rng as rng
from ..autoaugment import (
    AugMix as _V1AugMix, AutoAugment as _V1AutoAugment, AutoAugmentPolicy,
    RandAugment as _V1RandAugment, TrivialAugmentWide as _V1Trivial, _set_augmix_args,
)
from . import functional as F
from ._transform import (
    Transform, get_fill, needs_transform_list, setup_fill, tree_flatten, tree_unflatten,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .._base import InterpolationMode

__all__ = ["AugMix", "AutoAugment", "AutoAugmentPolicy", "RandAugment", "TrivialAugmentWide"]


# The v1 classes' ``_augmentation_space`` read nothing from ``self``: v2 calls them with None
# (the ``type: ignore[arg-type]`` below).
def _v2_space(space):
    """v1's table with v2's changes: Solarize runs from 1.0 to 0.0 (a fraction of the
    maximum), ops without magnitudes carry ``None``."""
    out = {}
    for name, (mags, signed) in space.items():
        if name == "Solarize":
            from .._geometry import _linspace32

            mags = _linspace32(1.0, 0.0, len(mags))
        out[name] = (mags if np.ndim(mags) > 0 else None, signed)
    return out


def _apply(image, op, magnitude, interpolation, fill):
    fill_ = get_fill(fill, image)
    if op == "Identity":
        return image
    if op in ("ShearX", "ShearY"):
        shear = math.degrees(math.atan(magnitude))
        return F.affine(image, angle=0.0, translate=[0, 0], scale=1.0,
                        shear=[shear, 0.0] if op == "ShearX" else [0.0, shear],
                        interpolation=interpolation, fill=fill_, center=[0, 0])
    if op in ("TranslateX", "TranslateY"):
        t = [int(magnitude), 0] if op == "TranslateX" else [0, int(magnitude)]
        return F.affine(image, angle=0.0, translate=t, scale=1.0, interpolation=interpolation,
                        shear=[0.0, 0.0], fill=fill_)
    if op == "Rotate":
        return F.rotate(image, angle=magnitude, interpolation=interpolation, fill=fill_)
    enhance = {"Brightness": F.adjust_brightness, "Color": F.adjust_saturation,
               "Contrast": F.adjust_contrast, "Sharpness": F.adjust_sharpness}
    if op in enhance:
        return enhance[op](image, 1.0 + magnitude)
    if op == "Posterize":
        return F.posterize(image, int(magnitude))
    if op == "Solarize":
        bound = 255.0
        if io.is_tensor(image):
            from .._base import max_value

            bound = max_value(io.to_numpy(image).dtype)
        return F.solarize(image, threshold=bound * magnitude)
    simple = {"AutoContrast": F.autocontrast, "Equalize": F.equalize, "Invert": F.invert}
    if op in simple:
        return simple[op](image)
    raise ValueError(f"No transform available for {op}")


class _AutoAugmentBase(Transform):
    def __init__(self, *, interpolation="nearest", fill=None):
        self.interpolation = interpolation
        self.fill = fill
        self._fill = setup_fill(fill)

    @staticmethod
    def _random_item(space):
        keys = tuple(space)
        key = keys[rng.randint(0, len(keys))]
        return key, space[key]

    def _extract_image(self, inputs):
        flat, spec = tree_flatten(inputs if len(inputs) > 1 else inputs[0])
        needs = needs_transform_list(flat)
        found = [(i, x) for i, (x, n) in enumerate(zip(flat, needs)) if n]
        if not found:
            raise TypeError("Found no image in the sample.")
        if len(found) > 1:
            raise TypeError(
                "Auto augment transformations are only properly defined for a single image or "
                f"video, but found {len(found)}.")
        return (flat, spec, found[0][0]), found[0][1]

    @staticmethod
    def _insert(where, image):
        flat, spec, idx = where
        flat[idx] = image
        return tree_unflatten(flat, spec)

    def _signed(self, magnitude, signed):
        if signed and rng.rand() <= 0.5:
            return -magnitude
        return magnitude


class AutoAugment(_AutoAugmentBase):
    def __init__(self, policy: AutoAugmentPolicy = AutoAugmentPolicy.IMAGENET,
                 interpolation: InterpolationMode | str | int = "nearest",
                 fill: float | Sequence[float] | None = None) -> None:
        super().__init__(interpolation=interpolation, fill=fill)
        self.policy = policy
        self._policies = _V1AutoAugment(policy).policies

    def forward(self, *inputs: Any) -> Any:
        where, image = self._extract_image(inputs)
        height, width = F.get_size(image)
        space = _v2_space(_V1AutoAugment._augmentation_space(None, 10, (height, width)))  # type: ignore[arg-type]
        policy = self._policies[rng.randint(0, len(self._policies))]
        for op, probability, magnitude_idx in policy:
            if not rng.rand() <= probability:
                continue
            mags, signed = space[op]
            magnitude = 0.0
            if mags is not None:
                magnitude = self._signed(float(mags[magnitude_idx]), signed)
            image = _apply(image, op, magnitude, self.interpolation, self._fill)
        return self._insert(where, image)


class RandAugment(_AutoAugmentBase):
    def __init__(self, num_ops: int = 2, magnitude: int = 9, num_magnitude_bins: int = 31,
                 interpolation: InterpolationMode | str | int = "nearest",
                 fill: float | Sequence[float] | None = None) -> None:
        super().__init__(interpolation=interpolation, fill=fill)
        if not isinstance(num_ops, int) or num_ops < 0:
            raise ValueError(
                f"num_ops should be a non-negative integer, but got {num_ops} instead.")
        self.num_ops = num_ops
        self.magnitude = magnitude
        self.num_magnitude_bins = num_magnitude_bins

    def forward(self, *inputs: Any) -> Any:
        where, image = self._extract_image(inputs)
        height, width = F.get_size(image)
        space = _v2_space(_V1RandAugment._augmentation_space(
            None, self.num_magnitude_bins, (height, width)))  # type: ignore[arg-type]
        for _ in range(self.num_ops):
            op, (mags, signed) = self._random_item(space)
            magnitude = 0.0
            if mags is not None:
                magnitude = self._signed(float(mags[self.magnitude]), signed)
            image = _apply(image, op, magnitude, self.interpolation, self._fill)
        return self._insert(where, image)


class TrivialAugmentWide(_AutoAugmentBase):
    def __init__(self, num_magnitude_bins: int = 31,
                 interpolation: InterpolationMode | str | int = "nearest",
                 fill: float | Sequence[float] | None = None) -> None:
        super().__init__(interpolation=interpolation, fill=fill)
        self.num_magnitude_bins = num_magnitude_bins

    def forward(self, *inputs: Any) -> Any:
        where, image = self._extract_image(inputs)
        space = _v2_space(_V1Trivial._augmentation_space(None, self.num_magnitude_bins))  # type: ignore[arg-type]
        op, (mags, signed) = self._random_item(space)
        magnitude = 0.0
        if mags is not None:
            magnitude = self._signed(
                float(mags[rng.randint(0, self.num_magnitude_bins)]), signed)
        return self._insert(where, _apply(image, op, magnitude, self.interpolation, self._fill))


class AugMix(_AutoAugmentBase):
    # set by _set_augmix_args
    severity: int
    mixture_width: int
    chain_depth: int
    alpha: float
    all_ops: bool
    _PARAMETER_MAX: int

    def __init__(self, severity: int = 3, mixture_width: int = 3, chain_depth: int = -1,
                 alpha: float = 1.0, all_ops: bool = True,
                 interpolation: InterpolationMode | str | int = "bilinear",
                 fill: float | Sequence[float] | None = None) -> None:
        super().__init__(interpolation=interpolation, fill=fill)
        _set_augmix_args(self, severity, mixture_width, chain_depth, alpha, all_ops)

    def forward(self, *inputs: Any) -> Any:
        where, orig = self._extract_image(inputs)
        height, width = F.get_size(orig)
        image = orig if io.is_tensor(orig) else F.pil_to_tensor(orig)
        v1 = _V1AugMix(all_ops=self.all_ops)
        space = _v2_space(v1._augmentation_space(self._PARAMETER_MAX, (height, width)))
        arr = io.to_numpy(image)
        orig_dims = list(arr.shape)
        batch = arr.reshape([1] * max(4 - arr.ndim, 0) + orig_dims)
        n = batch.shape[0]
        bdims = [n] + [1] * (batch.ndim - 1)
        m = rng.dirichlet(np.full((n, 2), self.alpha))
        weights = rng.dirichlet(np.full((n, self.mixture_width), self.alpha)) * m[:, 1:2]
        mix = m[:, 0].reshape(bdims) * batch
        for i in range(self.mixture_width):
            aug = io.from_numpy(batch)
            depth = self.chain_depth if self.chain_depth > 0 else rng.randint(1, 4)
            for _ in range(depth):
                op, (mags, signed) = self._random_item(space)
                magnitude = 0.0
                if mags is not None:
                    magnitude = self._signed(float(mags[rng.randint(0, self.severity)]), signed)
                aug = _apply(aug, op, magnitude, self.interpolation, self._fill)
            mix = mix + weights[:, i].reshape(bdims) * io.to_numpy(aug)
        out = io.from_numpy(mix.reshape(orig_dims).astype(arr.dtype))
        if not io.is_tensor(orig):
            out = F.to_pil_image(out)
        return self._insert(where, out)


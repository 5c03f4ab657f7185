"""Learned and random augmentation policies: AutoAugment, RandAugment, TrivialAugmentWide,
AugMix. Their op tables (magnitude bins per op) and draw order are torchvision's."""
from __future__ import annotations

import math
from enum import Enum
from typing import TYPE_CHECKING

import ember
import numpy as np

from .. import _interop as io
from . import _rng as rng
from . import functional as F
from ._base import InterpolationMode
from .transforms import Transform

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ._base import ImageLike

__all__ = ["AugMix", "AutoAugment", "AutoAugmentPolicy", "RandAugment", "TrivialAugmentWide"]


def _apply_op(img, op_name, magnitude, interpolation, fill):
    if op_name == "ShearX":
        # shear about the top-left corner (center=[0, 0]), as the original AutoAugment did
        return F.affine(img, angle=0.0, translate=[0, 0], scale=1.0,
                        shear=[math.degrees(math.atan(magnitude)), 0.0],
                        interpolation=interpolation, fill=fill, center=[0, 0])
    if op_name == "ShearY":
        return F.affine(img, angle=0.0, translate=[0, 0], scale=1.0,
                        shear=[0.0, math.degrees(math.atan(magnitude))],
                        interpolation=interpolation, fill=fill, center=[0, 0])
    if op_name == "TranslateX":
        return F.affine(img, angle=0.0, translate=[int(magnitude), 0], scale=1.0,
                        interpolation=interpolation, shear=[0.0, 0.0], fill=fill)
    if op_name == "TranslateY":
        return F.affine(img, angle=0.0, translate=[0, int(magnitude)], scale=1.0,
                        interpolation=interpolation, shear=[0.0, 0.0], fill=fill)
    if op_name == "Rotate":
        return F.rotate(img, magnitude, interpolation=interpolation, fill=fill)
    enhance = {"Brightness": F.adjust_brightness, "Color": F.adjust_saturation,
               "Contrast": F.adjust_contrast, "Sharpness": F.adjust_sharpness}
    if op_name in enhance:
        return enhance[op_name](img, 1.0 + magnitude)
    if op_name == "Posterize":
        return F.posterize(img, int(magnitude))
    if op_name == "Solarize":
        return F.solarize(img, magnitude)
    simple = {"AutoContrast": F.autocontrast, "Equalize": F.equalize, "Invert": F.invert}
    if op_name in simple:
        return simple[op_name](img)
    if op_name == "Identity":
        return img
    raise ValueError(f"The provided operator {op_name} is not recognized.")


def _linspace(start, end, steps):
    from ._geometry import _linspace32

    return _linspace32(start, end, steps)


def _posterize_bins(top, num_bins, spread):
    """``top - round(arange(num_bins) / ((num_bins - 1) / spread))`` as int (torch's rounding
    is half-to-even, as NumPy's)."""
    steps = np.arange(num_bins, dtype=np.float32) / np.float32((num_bins - 1) / spread)
    return (top - np.round(steps)).astype(np.int32)


_NONE = np.array(0.0, dtype=np.float32)  # ops without a magnitude (a 0-d "tensor")


def _geometric_space(num_bins, shear, translate_x, translate_y, rotate):
    return {
        "ShearX": (_linspace(0.0, shear, num_bins), True),
        "ShearY": (_linspace(0.0, shear, num_bins), True),
        "TranslateX": (_linspace(0.0, translate_x, num_bins), True),
        "TranslateY": (_linspace(0.0, translate_y, num_bins), True),
        "Rotate": (_linspace(0.0, rotate, num_bins), True),
    }


def _enhance_space(num_bins, top):
    return {name: (_linspace(0.0, top, num_bins), True)
            for name in ("Brightness", "Color", "Contrast", "Sharpness")}


def _tensor_fill(img, fill):
    if F._is_pil(img):
        return fill
    channels = F.get_dimensions(img)[0]
    if isinstance(fill, (int, float)):
        return [float(fill)] * channels
    if fill is not None:
        return [float(f) for f in fill]
    return fill


class AutoAugmentPolicy(Enum):
    IMAGENET = "imagenet"
    CIFAR10 = "cifar10"
    SVHN = "svhn"


def _policy_table(text):
    """'Op p mag, Op p mag; ...' -> [((op, p, mag), (op, p, mag)), ...] (mag '-' is None)."""
    table = []
    for pair in text.split(";"):
        subs = []
        for sub in pair.split(","):
            op, p, mag = sub.split()
            subs.append((op, float(p), None if mag == "-" else int(mag)))
        table.append(tuple(subs))
    return table


# The sub-policies found by AutoAugment's search (Cubuk et al., 2019), as torchvision lists them.
_POLICIES = {
    AutoAugmentPolicy.IMAGENET: _policy_table(
        "Posterize .4 8, Rotate .6 9; Solarize .6 5, AutoContrast .6 -; "
        "Equalize .8 -, Equalize .6 -; Posterize .6 7, Posterize .6 6; "
        "Equalize .4 -, Solarize .2 4; Equalize .4 -, Rotate .8 8; Solarize .6 3, Equalize .6 -; "
        "Posterize .8 5, Equalize 1 -; Rotate .2 3, Solarize .6 8; Equalize .6 -, Posterize .4 6; "
        "Rotate .8 8, Color .4 0; Rotate .4 9, Equalize .6 -; Equalize 0 -, Equalize .8 -; "
        "Invert .6 -, Equalize 1 -; Color .6 4, Contrast 1 8; Rotate .8 8, Color 1 2; "
        "Color .8 8, Solarize .8 7; Sharpness .4 7, Invert .6 -; ShearX .6 5, Equalize 1 -; "
        "Color .4 0, Equalize .6 -; Equalize .4 -, Solarize .2 4; "
        "Solarize .6 5, AutoContrast .6 -; Invert .6 -, Equalize 1 -; Color .6 4, Contrast 1 8; "
        "Equalize .8 -, Equalize .6 -"),
    AutoAugmentPolicy.CIFAR10: _policy_table(
        "Invert .1 -, Contrast .2 6; Rotate .7 2, TranslateX .3 9; "
        "Sharpness .8 1, Sharpness .9 3; ShearY .5 8, TranslateY .7 9; "
        "AutoContrast .5 -, Equalize .9 -; ShearY .2 7, Posterize .3 7; "
        "Color .4 3, Brightness .6 7; Sharpness .3 9, Brightness .7 9; "
        "Equalize .6 -, Equalize .5 -; Contrast .6 7, Sharpness .6 5; "
        "Color .7 7, TranslateX .5 8; Equalize .3 -, AutoContrast .4 -; "
        "TranslateY .4 3, Sharpness .2 6; Brightness .9 6, Color .2 8; "
        "Solarize .5 2, Invert 0 -; Equalize .2 -, AutoContrast .6 -; "
        "Equalize .2 -, Equalize .6 -; Color .9 9, Equalize .6 -; "
        "AutoContrast .8 -, Solarize .2 8; Brightness .1 3, Color .7 0; "
        "Solarize .4 5, AutoContrast .9 -; TranslateY .9 9, TranslateY .7 9; "
        "AutoContrast .9 -, Solarize .8 3; Equalize .8 -, Invert .1 -; "
        "TranslateY .7 9, AutoContrast .9 -"),
    AutoAugmentPolicy.SVHN: _policy_table(
        "ShearX .9 4, Invert .2 -; ShearY .9 8, Invert .7 -; Equalize .6 -, Solarize .6 6; "
        "Invert .9 -, Equalize .6 -; Equalize .6 -, Rotate .9 3; "
        "ShearX .9 4, AutoContrast .8 -; ShearY .9 8, Invert .4 -; "
        "ShearY .9 5, Solarize .2 6; Invert .9 -, AutoContrast .8 -; "
        "Equalize .6 -, Rotate .9 3; ShearX .9 4, Solarize .3 3; ShearY .8 8, Invert .7 -; "
        "Equalize .9 -, TranslateY .6 6; Invert .9 -, Equalize .6 -; "
        "Contrast .3 3, Rotate .8 4; Invert .8 -, TranslateY 0 2; ShearY .7 6, Solarize .4 8; "
        "Invert .6 -, Rotate .8 4; ShearY .3 7, TranslateX .9 3; ShearX .1 6, Invert .6 -; "
        "Solarize .7 2, TranslateY .6 7; ShearY .8 4, Invert .8 -; "
        "ShearX .7 9, TranslateY .8 3; ShearY .8 5, AutoContrast .7 -; ShearX .7 2, Invert .1 -"),
}


class AutoAugment(Transform):
    """One of the policy's 25 sub-policies per call, each of its two ops applied with its
    probability and its fixed magnitude (sign random for signed ops)."""

    def __init__(self, policy: AutoAugmentPolicy = AutoAugmentPolicy.IMAGENET,
                 interpolation: InterpolationMode | str | int = InterpolationMode.NEAREST,
                 fill: float | Sequence[float] | None = None) -> None:
        self.policy = policy
        self.interpolation = interpolation
        self.fill = fill
        self.policies = self._get_policies(policy)

    def _get_policies(self, policy):
        if policy not in _POLICIES:
            raise ValueError(f"The provided policy {policy} is not recognized.")
        return list(_POLICIES[policy])

    def _augmentation_space(self, num_bins, image_size):
        space = _geometric_space(num_bins, 0.3, 150.0 / 331.0 * image_size[1],
                                 150.0 / 331.0 * image_size[0], 30.0)
        space.update(_enhance_space(num_bins, 0.9))
        space.update({
            "Posterize": (_posterize_bins(8, num_bins, 4), False),
            "Solarize": (_linspace(255.0, 0.0, num_bins), False),
            "AutoContrast": (_NONE, False), "Equalize": (_NONE, False),
            "Invert": (_NONE, False),
        })
        return space

    @staticmethod
    def get_params(transform_num):
        """(policy index, two probabilities, two signs): randint, rand((2,)), randint(2, (2,))."""
        policy_id = rng.randint(0, transform_num)
        probs = rng.rand(2)
        signs = rng.randint(0, 2, 2)
        return policy_id, probs, signs

    def forward(self, img: ImageLike) -> ImageLike:
        fill = _tensor_fill(img, self.fill)
        _, height, width = F.get_dimensions(img)
        transform_id, probs, signs = self.get_params(len(self.policies))
        op_meta = self._augmentation_space(10, (height, width))
        for i, (op_name, p, magnitude_id) in enumerate(self.policies[transform_id]):
            if probs[i] <= p:
                magnitudes, signed = op_meta[op_name]
                magnitude = float(magnitudes[magnitude_id]) if magnitude_id is not None else 0.0
                if signed and signs[i] == 0:
                    magnitude *= -1.0
                img = _apply_op(img, op_name, magnitude, self.interpolation, fill)
        return img

    def __repr__(self):
        return f"{self.__class__.__name__}(policy={self.policy}, fill={self.fill})"


class RandAugment(Transform):
    """``num_ops`` ops drawn uniformly, all at the same ``magnitude`` bin."""

    def __init__(self, num_ops: int = 2, magnitude: int = 9, num_magnitude_bins: int = 31,
                 interpolation: InterpolationMode | str | int = InterpolationMode.NEAREST,
                 fill: float | Sequence[float] | None = None) -> None:
        self.num_ops = num_ops
        self.magnitude = magnitude
        self.num_magnitude_bins = num_magnitude_bins
        self.interpolation = interpolation
        self.fill = fill

    def _augmentation_space(self, num_bins, image_size):
        space = {"Identity": (_NONE, False)}
        space.update(_geometric_space(num_bins, 0.3, 150.0 / 331.0 * image_size[1],
                                      150.0 / 331.0 * image_size[0], 30.0))
        space.update(_enhance_space(num_bins, 0.9))
        space.update({
            "Posterize": (_posterize_bins(8, num_bins, 4), False),
            "Solarize": (_linspace(255.0, 0.0, num_bins), False),
            "AutoContrast": (_NONE, False), "Equalize": (_NONE, False),
        })
        return space

    def forward(self, img: ImageLike) -> ImageLike:
        fill = _tensor_fill(img, self.fill)
        _, height, width = F.get_dimensions(img)
        op_meta = self._augmentation_space(self.num_magnitude_bins, (height, width))
        for _ in range(self.num_ops):
            op_index = rng.randint(0, len(op_meta))
            op_name = list(op_meta.keys())[op_index]
            magnitudes, signed = op_meta[op_name]
            magnitude = float(magnitudes[self.magnitude]) if magnitudes.ndim > 0 else 0.0
            if signed and rng.randint(0, 2):
                magnitude *= -1.0
            img = _apply_op(img, op_name, magnitude, self.interpolation, fill)
        return img

    def __repr__(self):
        return (f"{self.__class__.__name__}(num_ops={self.num_ops}, "
                f"magnitude={self.magnitude}, num_magnitude_bins={self.num_magnitude_bins}, "
                f"interpolation={self.interpolation}, fill={self.fill})")


class TrivialAugmentWide(Transform):
    """One op per call, drawn uniformly, at a uniformly drawn magnitude bin."""

    def __init__(self, num_magnitude_bins: int = 31,
                 interpolation: InterpolationMode | str | int = InterpolationMode.NEAREST,
                 fill: float | Sequence[float] | None = None) -> None:
        self.num_magnitude_bins = num_magnitude_bins
        self.interpolation = interpolation
        self.fill = fill

    def _augmentation_space(self, num_bins):
        space = {"Identity": (_NONE, False)}
        space.update(_geometric_space(num_bins, 0.99, 32.0, 32.0, 135.0))
        space.update(_enhance_space(num_bins, 0.99))
        space.update({
            "Posterize": (_posterize_bins(8, num_bins, 6), False),
            "Solarize": (_linspace(255.0, 0.0, num_bins), False),
            "AutoContrast": (_NONE, False), "Equalize": (_NONE, False),
        })
        return space

    def forward(self, img: ImageLike) -> ImageLike:
        fill = _tensor_fill(img, self.fill)
        op_meta = self._augmentation_space(self.num_magnitude_bins)
        op_index = rng.randint(0, len(op_meta))
        op_name = list(op_meta.keys())[op_index]
        magnitudes, signed = op_meta[op_name]
        magnitude = 0.0
        if magnitudes.ndim > 0:
            magnitude = float(magnitudes[rng.randint(0, len(magnitudes))])
        if signed and rng.randint(0, 2):
            magnitude *= -1.0
        return _apply_op(img, op_name, magnitude, self.interpolation, fill)

    def __repr__(self):
        return (f"{self.__class__.__name__}(num_magnitude_bins={self.num_magnitude_bins}, "
                f"interpolation={self.interpolation}, fill={self.fill})")


def _set_augmix_args(t, severity, mixture_width, chain_depth, alpha, all_ops):
    """Check and store AugMix's arguments (v1 and v2 alike)."""
    t._PARAMETER_MAX = 10
    if not 1 <= severity <= t._PARAMETER_MAX:
        raise ValueError(
            f"The severity must be between [1, {t._PARAMETER_MAX}]. Got {severity} instead.")
    t.severity = severity
    t.mixture_width = mixture_width
    t.chain_depth = chain_depth
    t.alpha = alpha
    t.all_ops = all_ops


class AugMix(Transform):
    """Mix ``mixture_width`` random op chains with Dirichlet weights, then mix the result
    with the original by a Beta(alpha, alpha) weight (Hendrycks et al., 2020)."""

    # set by _set_augmix_args
    severity: int
    mixture_width: int
    chain_depth: int
    alpha: float
    all_ops: bool
    _PARAMETER_MAX: int

    def __init__(self, severity: int = 3, mixture_width: int = 3, chain_depth: int = -1,
                 alpha: float = 1.0, all_ops: bool = True,
                 interpolation: InterpolationMode | str | int = InterpolationMode.BILINEAR,
                 fill: float | Sequence[float] | None = None) -> None:
        self.interpolation = interpolation
        self.fill = fill
        _set_augmix_args(self, severity, mixture_width, chain_depth, alpha, all_ops)

    def _augmentation_space(self, num_bins, image_size):
        space = _geometric_space(num_bins, 0.3, image_size[1] / 3.0, image_size[0] / 3.0, 30.0)
        space.update({
            "Posterize": (_posterize_bins(4, num_bins, 4), False),
            "Solarize": (_linspace(255.0, 0.0, num_bins), False),
            "AutoContrast": (_NONE, False), "Equalize": (_NONE, False),
        })
        if self.all_ops:
            space.update(_enhance_space(num_bins, 0.9))
        return space

    def _sample_dirichlet(self, params):
        """Rows of Dirichlet(params) samples from ember's generator (torch's
        ``_sample_dirichlet``): one row per image of the batch."""
        return io.from_numpy(rng.dirichlet(io.to_numpy(params)))

    def forward(self, orig_img: ImageLike) -> ImageLike:
        fill = self.fill
        _, height, width = F.get_dimensions(orig_img)
        if io.is_tensor(orig_img):
            img = orig_img
            fill = _tensor_fill(orig_img, fill)
        else:
            img = F.pil_to_tensor(orig_img)
        op_meta = self._augmentation_space(self._PARAMETER_MAX, (height, width))
        orig_dims = list(img.shape)
        batch = img.reshape([1] * max(4 - img.dim(), 0) + orig_dims)
        n = batch.shape[0]
        batch_dims = [n] + [1] * (batch.dim() - 1)
        m = io.to_numpy(self._sample_dirichlet(
            ember.tensor([self.alpha, self.alpha]).expand(n, -1)))
        combined = io.to_numpy(self._sample_dirichlet(
            ember.tensor([self.alpha] * self.mixture_width).expand(n, -1)))
        combined = combined * m[:, 1].reshape(n, -1)
        mix = m[:, 0].reshape(batch_dims) * io.to_numpy(batch)
        for i in range(self.mixture_width):
            aug = batch
            depth = (self.chain_depth if self.chain_depth > 0
                     else rng.randint(1, 4))
            for _ in range(depth):
                op_index = rng.randint(0, len(op_meta))
                op_name = list(op_meta.keys())[op_index]
                magnitudes, signed = op_meta[op_name]
                magnitude = 0.0
                if magnitudes.ndim > 0:
                    magnitude = float(
                        magnitudes[rng.randint(0, self.severity)])
                if signed and rng.randint(0, 2):
                    magnitude *= -1.0
                aug = _apply_op(aug, op_name, magnitude, self.interpolation, fill)
            mix = mix + combined[:, i].reshape(batch_dims) * io.to_numpy(aug)
        dtype = io.to_numpy(img).dtype
        out = io.from_numpy(mix.reshape(orig_dims).astype(dtype))
        if not io.is_tensor(orig_img):
            return F.to_pil_image(out)
        return out

    def __repr__(self):
        return (f"{self.__class__.__name__}(severity={self.severity}, "
                f"mixture_width={self.mixture_width}, chain_depth={self.chain_depth}, "
                f"alpha={self.alpha}, all_ops={self.all_ops}, "
                f"interpolation={self.interpolation}, fill={self.fill})")

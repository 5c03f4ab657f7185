"""v2 photometric transforms, blur and erasing."""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Optional

import numpy as np

from ... import _interop as io
from .. import _rng as rng
from .._color_transforms import ColorJitter as _V1Jitter
from .._color_transforms import check_kernel_size
from .._geometry_transforms import check_erasing_args
from . import functional as F
from ._transform import RandomApplyTransform, Transform, query_chw

__all__ = [
    "ColorJitter", "GaussianBlur", "Grayscale", "RGB", "RandomAdjustSharpness",
    "RandomAutocontrast", "RandomChannelPermutation", "RandomEqualize", "RandomErasing",
    "RandomGrayscale", "RandomInvert", "RandomPhotometricDistort", "RandomPosterize",
    "RandomSolarize",
]


class Grayscale(Transform):
    def __init__(self, num_output_channels: int = 1) -> None:
        self.num_output_channels = num_output_channels

    def transform(self, inpt, params):
        return F.rgb_to_grayscale(inpt, num_output_channels=self.num_output_channels)


class RandomGrayscale(RandomApplyTransform):
    def __init__(self, p: float = 0.1) -> None:
        super().__init__(p=p)

    def make_params(self, flat_inputs):
        return dict(num_input_channels=query_chw(flat_inputs)[0])

    def transform(self, inpt, params):
        return F.rgb_to_grayscale(inpt, num_output_channels=params["num_input_channels"])


class RGB(Transform):
    """Grayscale images to three channels; RGB images unchanged."""

    def transform(self, inpt, params):
        return F.grayscale_to_rgb(inpt)


class ColorJitter(Transform, _V1Jitter):
    """v1's constructor with v2's argument rules (``None`` allowed, v2's messages)."""

    def __init__(self, brightness: float | Sequence[float] | None = None,
                 contrast: float | Sequence[float] | None = None,
                 saturation: float | Sequence[float] | None = None,
                 hue: float | Sequence[float] | None = None) -> None:
        _V1Jitter.__init__(self, brightness, contrast, saturation, hue)

    @staticmethod
    def _check_input(value, name, center=1.0, bound=(0, float("inf")), clip_first_on_zero=True):
        if value is None:
            return None
        if isinstance(value, (int, float)):
            if value < 0:
                raise ValueError(f"If {name} is a single number, it must be non negative.")
            value = [center - value, center + value]
            if clip_first_on_zero:
                value[0] = max(value[0], 0.0)
        elif isinstance(value, Sequence) and len(value) == 2:
            value = [float(v) for v in value]
        else:
            raise TypeError(
                f"{name}={value} should be a single number or a sequence with length 2.")
        if not bound[0] <= value[0] <= value[1] <= bound[1]:
            raise ValueError(
                f"{name} values should be between {bound} and increasing, but got {value}.")
        return None if value[0] == value[1] == center else (float(value[0]), float(value[1]))

    def make_params(self, flat_inputs):
        fn_idx, b, c, s, h = _V1Jitter.get_params(
            self.brightness, self.contrast, self.saturation, self.hue)
        return dict(fn_idx=fn_idx, brightness_factor=b, contrast_factor=c,
                    saturation_factor=s, hue_factor=h)

    def transform(self, inpt, params):
        out = inpt
        for fn_id in params["fn_idx"]:
            if fn_id == 0 and params["brightness_factor"] is not None:
                out = F.adjust_brightness(out, params["brightness_factor"])
            elif fn_id == 1 and params["contrast_factor"] is not None:
                out = F.adjust_contrast(out, params["contrast_factor"])
            elif fn_id == 2 and params["saturation_factor"] is not None:
                out = F.adjust_saturation(out, params["saturation_factor"])
            elif fn_id == 3 and params["hue_factor"] is not None:
                out = F.adjust_hue(out, params["hue_factor"])
        return out


class RandomEqualize(RandomApplyTransform):
    def transform(self, inpt, params):
        return F.equalize(inpt)


class RandomInvert(RandomApplyTransform):
    def transform(self, inpt, params):
        return F.invert(inpt)


class RandomAutocontrast(RandomApplyTransform):
    def transform(self, inpt, params):
        return F.autocontrast(inpt)


class RandomPosterize(RandomApplyTransform):
    def __init__(self, bits: int, p: float = 0.5) -> None:
        super().__init__(p=p)
        self.bits = bits

    def transform(self, inpt, params):
        return F.posterize(inpt, bits=self.bits)


class RandomSolarize(RandomApplyTransform):
    def __init__(self, threshold: float, p: float = 0.5) -> None:
        super().__init__(p=p)
        self.threshold = threshold

    def transform(self, inpt, params):
        return F.solarize(inpt, threshold=self.threshold)


class RandomAdjustSharpness(RandomApplyTransform):
    def __init__(self, sharpness_factor: float, p: float = 0.5) -> None:
        super().__init__(p=p)
        self.sharpness_factor = sharpness_factor

    def transform(self, inpt, params):
        return F.adjust_sharpness(inpt, sharpness_factor=self.sharpness_factor)


def _number_or_pair(arg, name):
    if not isinstance(arg, (int, float, Sequence)):
        raise TypeError(f"{name} should be a number or a sequence of numbers. Got {type(arg)}")
    if isinstance(arg, Sequence) and len(arg) not in (1, 2):
        raise ValueError(f"If {name} is a sequence its length should be 1 or 2. Got {len(arg)}")
    if isinstance(arg, (int, float)):
        return [float(arg), float(arg)]
    return [float(arg[0]), float(arg[-1])]


class GaussianBlur(Transform):
    def __init__(self, kernel_size: int | Sequence[int],
                 sigma: float | Sequence[float] = (0.1, 2.0)) -> None:
        self.kernel_size = check_kernel_size(kernel_size)
        self.sigma = _number_or_pair(sigma, "sigma")
        if not 0.0 < self.sigma[0] <= self.sigma[1]:
            raise ValueError(
                f"sigma values should be positive and of the form (min, max). Got {self.sigma}")

    def make_params(self, flat_inputs):
        sigma = rng.uniform(self.sigma[0], self.sigma[1])
        return dict(sigma=[sigma, sigma])

    def transform(self, inpt, params):
        return F.gaussian_blur(inpt, self.kernel_size, **params)


class RandomErasing(RandomApplyTransform):
    """Erase a random box (PIL images too, unlike v1)."""

    def __init__(self, p: float = 0.5, scale: Sequence[float] = (0.02, 0.33),
                 ratio: Sequence[float] = (0.3, 3.3), value: float | str | Sequence[float] = 0.0,
                 inplace: bool = False) -> None:
        super().__init__(p=p)
        check_erasing_args(value, scale, ratio)
        self.scale = scale
        self.ratio = ratio
        self.value: Optional[list[float]]
        if isinstance(value, (int, float)):
            self.value = [float(value)]
        elif isinstance(value, str):
            self.value = None
        else:
            self.value = [float(v) for v in value]
        self.inplace = inplace
        self._log_ratio = np.log(np.asarray(ratio, dtype=np.float32))

    def make_params(self, flat_inputs):
        img_c, img_h, img_w = query_chw(flat_inputs)
        if self.value is not None and len(self.value) not in (1, img_c):
            raise ValueError(
                "If value is a sequence, it should have either a single value or "
                f"{img_c} (number of inpt channels)")
        area = img_h * img_w
        for _ in range(10):
            erase_area = area * rng.uniform(self.scale[0], self.scale[1])
            aspect = float(np.exp(np.float32(rng.uniform(self._log_ratio[0],
                                                         self._log_ratio[1]))))
            h = int(round(math.sqrt(erase_area * aspect)))
            w = int(round(math.sqrt(erase_area / aspect)))
            if not (h < img_h and w < img_w):
                continue
            if self.value is None:
                v = rng.normal([img_c, h, w])
            else:
                v = io.from_numpy(np.asarray(self.value, dtype=np.float32)[:, None, None])
            i = rng.randint(0, img_h - h + 1)
            j = rng.randint(0, img_w - w + 1)
            return dict(i=i, j=j, h=h, w=w, v=v)
        return dict(i=0, j=0, h=img_h, w=img_w, v=None)

    def transform(self, inpt, params):
        if params["v"] is not None:
            inpt = F.erase(inpt, **params, inplace=self.inplace)
        return inpt


class RandomChannelPermutation(Transform):
    def make_params(self, flat_inputs):
        return dict(permutation=rng.randperm(query_chw(flat_inputs)[0]))

    def transform(self, inpt, params):
        return F.permute_channels(inpt, params["permutation"])


class RandomPhotometricDistort(Transform):
    """SSD's distortion: each of brightness, contrast, saturation, hue with probability
    ``p`` (contrast before or after the others at random), then maybe a channel shuffle."""

    def __init__(self, brightness: Sequence[float] = (0.875, 1.125),
                 contrast: Sequence[float] = (0.5, 1.5), saturation: Sequence[float] = (0.5, 1.5),
                 hue: Sequence[float] = (-0.05, 0.05), p: float = 0.5) -> None:
        self.brightness = brightness
        self.contrast = contrast
        self.hue = hue
        self.saturation = saturation
        self.p = p

    def make_params(self, flat_inputs):
        channels = query_chw(flat_inputs)[0]
        params = {}
        for key, (lo, hi) in (("brightness_factor", self.brightness),
                              ("contrast_factor", self.contrast),
                              ("saturation_factor", self.saturation),
                              ("hue_factor", self.hue)):
            params[key] = rng.uniform(lo, hi) if rng.rand() < self.p else None
        params["contrast_before"] = rng.rand() < 0.5
        params["channel_permutation"] = rng.randperm(channels) if rng.rand() < self.p else None
        return params

    def transform(self, inpt, params):
        contrast = params["contrast_factor"]
        if params["brightness_factor"] is not None:
            inpt = F.adjust_brightness(inpt, params["brightness_factor"])
        if contrast is not None and params["contrast_before"]:
            inpt = F.adjust_contrast(inpt, contrast)
        if params["saturation_factor"] is not None:
            inpt = F.adjust_saturation(inpt, params["saturation_factor"])
        if params["hue_factor"] is not None:
            inpt = F.adjust_hue(inpt, params["hue_factor"])
        if contrast is not None and not params["contrast_before"]:
            inpt = F.adjust_contrast(inpt, contrast)
        if params["channel_permutation"] is not None:
            inpt = F.permute_channels(inpt, params["channel_permutation"])
        return inpt

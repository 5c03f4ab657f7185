"""Photometric transform classes: jitter, grayscale, blur, and the ``Random*`` colour ops."""
from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING

from . import _rng as rng
from . import functional as F
from .transforms import Transform, _setup_size

if TYPE_CHECKING:
    from collections.abc import Callable

    from ._base import ImageLike

__all__ = [
    "ColorJitter", "GaussianBlur", "Grayscale", "RandomAdjustSharpness", "RandomAutocontrast",
    "RandomEqualize", "RandomGrayscale", "RandomInvert", "RandomPosterize", "RandomSolarize",
]


class ColorJitter(Transform):
    """Randomly change brightness, contrast, saturation and hue, in a random order."""

    def __init__(self, brightness: float | Sequence[float] | None = 0,
                 contrast: float | Sequence[float] | None = 0,
                 saturation: float | Sequence[float] | None = 0,
                 hue: float | Sequence[float] | None = 0) -> None:
        self.brightness = self._check_input(brightness, "brightness")
        self.contrast = self._check_input(contrast, "contrast")
        self.saturation = self._check_input(saturation, "saturation")
        self.hue = self._check_input(hue, "hue", center=0, bound=(-0.5, 0.5),
                                     clip_first_on_zero=False)

    @staticmethod
    def _check_input(value, name, center=1, bound=(0, float("inf")), clip_first_on_zero=True):
        if isinstance(value, numbers.Number):
            if value < 0:
                raise ValueError(f"If {name} is a single number, it must be non negative.")
            value = [center - float(value), center + float(value)]
            if clip_first_on_zero:
                value[0] = max(value[0], 0.0)
        elif isinstance(value, (tuple, list)) and len(value) == 2:
            value = [float(value[0]), float(value[1])]
        else:
            raise TypeError(f"{name} should be a single number or a list/tuple with length 2.")
        if not bound[0] <= value[0] <= value[1] <= bound[1]:
            raise ValueError(f"{name} values should be between {bound}, but got {value}.")
        # a factor range that is just the identity means "leave this property alone"
        if value[0] == value[1] == center:
            return None
        return tuple(value)

    @staticmethod
    def get_params(brightness, contrast, saturation, hue):
        """The order (a randperm of 4) first, then one factor per enabled property."""
        fn_idx = rng.randperm(4)
        b = None if brightness is None else rng.uniform(brightness[0], brightness[1])
        c = None if contrast is None else rng.uniform(contrast[0], contrast[1])
        s = None if saturation is None else rng.uniform(saturation[0], saturation[1])
        h = None if hue is None else rng.uniform(hue[0], hue[1])
        return fn_idx, b, c, s, h

    def forward(self, img: ImageLike) -> ImageLike:
        fn_idx, b, c, s, h = self.get_params(
            self.brightness, self.contrast, self.saturation, self.hue)
        for fn_id in fn_idx:
            if fn_id == 0 and b is not None:
                img = F.adjust_brightness(img, b)
            elif fn_id == 1 and c is not None:
                img = F.adjust_contrast(img, c)
            elif fn_id == 2 and s is not None:
                img = F.adjust_saturation(img, s)
            elif fn_id == 3 and h is not None:
                img = F.adjust_hue(img, h)
        return img

    def __repr__(self):
        return (f"{self.__class__.__name__}(brightness={self.brightness}, "
                f"contrast={self.contrast}, saturation={self.saturation}, hue={self.hue})")


class Grayscale(Transform):
    def __init__(self, num_output_channels: int = 1) -> None:
        self.num_output_channels = num_output_channels

    def forward(self, img: ImageLike) -> ImageLike:
        return F.rgb_to_grayscale(img, num_output_channels=self.num_output_channels)

    def __repr__(self):
        return f"{self.__class__.__name__}(num_output_channels={self.num_output_channels})"


class _RandomP(Transform):
    """A transform applied with probability ``p`` (one ``rand`` draw per call)."""

    _apply: Callable[[ImageLike], ImageLike]  # each subclass's operation

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def forward(self, img: ImageLike) -> ImageLike:
        if rng.rand() < self.p:
            return self._apply(img)
        return img

    def __repr__(self):
        return f"{self.__class__.__name__}(p={self.p})"


class RandomGrayscale(_RandomP):
    """Grayscale with probability ``p``, keeping the channel count."""

    def __init__(self, p: float = 0.1) -> None:
        super().__init__(p)

    def _apply(self, img):
        channels, _, _ = F.get_dimensions(img)
        return F.rgb_to_grayscale(img, num_output_channels=channels)


class RandomInvert(_RandomP):
    def _apply(self, img):
        return F.invert(img)


class RandomAutocontrast(_RandomP):
    def _apply(self, img):
        return F.autocontrast(img)


class RandomEqualize(_RandomP):
    def _apply(self, img):
        return F.equalize(img)


class RandomPosterize(_RandomP):
    def __init__(self, bits: int, p: float = 0.5) -> None:
        super().__init__(p)
        self.bits = bits

    def _apply(self, img):
        return F.posterize(img, self.bits)

    def __repr__(self):
        return f"{self.__class__.__name__}(bits={self.bits},p={self.p})"


class RandomSolarize(_RandomP):
    def __init__(self, threshold: float, p: float = 0.5) -> None:
        super().__init__(p)
        self.threshold = threshold

    def _apply(self, img):
        return F.solarize(img, self.threshold)

    def __repr__(self):
        return f"{self.__class__.__name__}(threshold={self.threshold},p={self.p})"


class RandomAdjustSharpness(_RandomP):
    def __init__(self, sharpness_factor: float, p: float = 0.5) -> None:
        super().__init__(p)
        self.sharpness_factor = sharpness_factor

    def _apply(self, img):
        return F.adjust_sharpness(img, self.sharpness_factor)

    def __repr__(self):
        return (f"{self.__class__.__name__}(sharpness_factor={self.sharpness_factor},"
                f"p={self.p})")


def check_kernel_size(kernel_size):
    """(kx, ky) of a blur kernel: odd and positive (v1 and v2 alike)."""
    size = _setup_size(kernel_size, "Kernel size should be a tuple/list of two integers")
    for ks in size:
        if ks <= 0 or ks % 2 == 0:
            raise ValueError("Kernel size value should be an odd and positive number.")
    return size


class GaussianBlur(Transform):
    """Blur with a fixed kernel size and a sigma drawn uniformly from ``sigma``."""

    def __init__(self, kernel_size: int | Sequence[int],
                 sigma: float | Sequence[float] = (0.1, 2.0)) -> None:
        self.kernel_size = check_kernel_size(kernel_size)
        if isinstance(sigma, numbers.Number):
            if sigma <= 0:  # type: ignore[operator]  # a real number here
                raise ValueError("If sigma is a single number, it must be positive.")
            self.sigma: Sequence[float] = (sigma, sigma)  # type: ignore[assignment]
        elif isinstance(sigma, Sequence) and len(sigma) == 2:
            if not 0.0 < sigma[0] <= sigma[1]:
                raise ValueError("sigma values should be positive and of the form (min, max).")
            self.sigma = sigma
        else:
            raise ValueError("sigma should be a single number or a list/tuple with length 2.")

    @staticmethod
    def get_params(sigma_min, sigma_max):
        return rng.uniform(sigma_min, sigma_max)

    def forward(self, img: ImageLike) -> ImageLike:
        sigma = self.get_params(self.sigma[0], self.sigma[1])
        return F.gaussian_blur(img, self.kernel_size, [sigma, sigma])

    def __repr__(self):
        return f"{self.__class__.__name__}(kernel_size={self.kernel_size}, sigma={self.sigma})"

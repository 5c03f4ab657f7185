"""v2 containers, conversions and the small misc transforms."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from ... import _interop as io
from .. import _rng as rng
from . import functional as F
from ._transform import Transform, is_image_like

if TYPE_CHECKING:
    from collections.abc import Callable

    import ember

__all__ = [
    "Compose", "ConvertImageDtype", "GaussianNoise", "Identity", "Lambda", "Normalize",
    "PILToTensor", "RandomApply", "RandomChoice", "RandomOrder", "ToDtype", "ToImage", "ToPILImage",
    "ToPureTensor", "ToTensor",
]


class _Container(Transform):
    def _check(self, transforms, kinds="a sequence of callables"):
        if not isinstance(transforms, Sequence):
            raise TypeError(f"Argument transforms should be {kinds}")
        if not transforms:
            raise ValueError("Pass at least one transform")

    @staticmethod
    def _chain(transforms, inputs):
        needs_unpacking = len(inputs) > 1
        outputs = inputs if needs_unpacking else inputs[0]
        for t in transforms:
            outputs = t(*inputs)
            inputs = outputs if needs_unpacking else (outputs,)
        return outputs


class Compose(_Container):
    def __init__(self, transforms: Sequence[Callable]) -> None:
        self._check(transforms)
        self.transforms = transforms

    def forward(self, *inputs: Any) -> Any:
        return self._chain(self.transforms, inputs)

    def extra_repr(self):
        return "\n".join(f"    {t}" for t in self.transforms)


class RandomApply(_Container):
    def __init__(self, transforms: Sequence[Callable], p: float = 0.5) -> None:
        self._check(transforms)
        self.transforms = transforms
        if not 0.0 <= p <= 1.0:
            raise ValueError("`p` should be a floating point value in the interval [0.0, 1.0].")
        self.p = p

    def forward(self, *inputs: Any) -> Any:
        if rng.rand() >= self.p:
            return inputs if len(inputs) > 1 else inputs[0]
        return self._chain(self.transforms, inputs)

    def extra_repr(self):
        return "\n".join(f"    {t}" for t in self.transforms)


class RandomChoice(_Container):
    def __init__(self, transforms: Sequence[Callable], p: Sequence[float] | None = None) -> None:
        self._check(transforms)
        if p is None:
            p = [1] * len(transforms)
        elif len(p) != len(transforms):
            raise ValueError(
                f"Length of p doesn't match the number of transforms: {len(p)} != "
                f"{len(transforms)}")
        self.transforms = transforms
        total = sum(p)
        self.p = [prob / total for prob in p]

    def forward(self, *inputs: Any) -> Any:
        return self.transforms[rng.multinomial(self.p)](*inputs)


class RandomOrder(_Container):
    def __init__(self, transforms: Sequence[Callable]) -> None:
        self._check(transforms)
        self.transforms = transforms

    def forward(self, *inputs: Any) -> Any:
        return self._chain([self.transforms[i] for i in rng.randperm(len(self.transforms))],
                           inputs)


class Identity(Transform):
    def transform(self, inpt, params):
        return inpt


class Lambda(Transform):
    _accepts = staticmethod(lambda x: True)

    def __init__(self, lambd: Callable[[Any], Any], *types: type) -> None:
        self.lambd = lambd
        self.types = types or (object,)

    def transform(self, inpt, params):
        return self.lambd(inpt) if isinstance(inpt, self.types) else inpt

    def extra_repr(self):
        extras = []
        name = getattr(self.lambd, "__name__", None)
        if name:
            extras.append(name)
        extras.append(f"types={[t.__name__ for t in self.types]}")
        return ", ".join(extras)


class Normalize(Transform):
    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> None:
        self.mean = list(mean)
        self.std = list(std)
        self.inplace = inplace

    def check_inputs(self, flat_inputs):
        if any(isinstance(x, Image.Image) for x in flat_inputs):
            raise TypeError(f"{type(self).__name__}() does not support PIL images.")

    def transform(self, inpt, params):
        return F.normalize(inpt, mean=self.mean, std=self.std, inplace=self.inplace)


class ToImage(Transform):
    """PIL image / ndarray (H, W, C) / tensor -> (C, H, W) tensor, values and dtype kept."""

    _accepts = staticmethod(lambda x: is_image_like(x) or isinstance(x, np.ndarray))

    def transform(self, inpt, params):
        return F.to_image(inpt)


class PILToTensor(Transform):
    _accepts = staticmethod(lambda x: isinstance(x, Image.Image))

    def transform(self, inpt, params):
        return F.pil_to_tensor(inpt)


class ToTensor(Transform):
    """Deprecated in torchvision in favour of ``Compose([ToImage(), ToDtype(float32,
    scale=True)])``; kept for old code."""

    _accepts = staticmethod(lambda x: isinstance(x, (Image.Image, np.ndarray)))

    def transform(self, inpt, params):
        return F.to_tensor(inpt)


class ToPILImage(Transform):
    _accepts = staticmethod(lambda x: io.is_tensor(x) or isinstance(x, np.ndarray))

    def __init__(self, mode: str | None = None) -> None:
        self.mode = mode

    def transform(self, inpt, params):
        return F.to_pil_image(inpt, mode=self.mode)


class ToPureTensor(Transform):
    """A no-op here: Ember has no tv_tensors subclasses to strip."""

    _accepts = staticmethod(lambda x: False)


class ToDtype(Transform):
    """Convert tensors to ``dtype``; with ``scale=True`` values are rescaled to the new
    type's range (uint8 255 <-> float 1.0)."""

    _accepts = staticmethod(io.is_tensor)

    def __init__(self, dtype: ember.dtype | dict, scale: bool = False) -> None:
        import ember

        if not isinstance(dtype, (dict, ember.dtype)):
            raise ValueError(f"dtype must be a dict or a torch.dtype, got {type(dtype)} instead")
        self.dtype = dtype
        self.scale = scale

    def transform(self, inpt, params):
        dtype = self.dtype
        if isinstance(dtype, dict):
            if type(inpt) in dtype:
                dtype = dtype[type(inpt)]
            elif "others" in dtype:
                dtype = dtype["others"]
            else:
                raise ValueError(f"No dtype was specified for type {type(inpt)}.")
            if dtype is None:
                return inpt
        return F.to_dtype(inpt, dtype=dtype, scale=self.scale)


class ConvertImageDtype(Transform):
    _accepts = staticmethod(io.is_tensor)

    def __init__(self, dtype: ember.dtype | None = None) -> None:
        import ember

        self.dtype = ember.float32 if dtype is None else dtype

    def transform(self, inpt, params):
        return F.to_dtype(inpt, dtype=self.dtype, scale=True)


class GaussianNoise(Transform):
    """Add ``mean + sigma * N(0, 1)`` noise to float images (clipped to [0, 1])."""

    def __init__(self, mean: float = 0.0, sigma: float = 0.1, clip: bool = True) -> None:
        self.mean = mean
        self.sigma = sigma
        self.clip = clip

    def transform(self, inpt, params):
        return F.gaussian_noise(inpt, mean=self.mean, sigma=self.sigma, clip=self.clip)

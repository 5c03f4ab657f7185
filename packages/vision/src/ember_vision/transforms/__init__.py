"""torchvision.transforms for Ember: PIL images and ember tensors in, tensors out."""
from . import functional
from ._presets import ImageClassification
from .functional import InterpolationMode
from .transforms import (
    CenterCrop, Compose, ConvertImageDtype, Lambda, Normalize, PILToTensor,
    RandomHorizontalFlip, RandomResizedCrop, RandomVerticalFlip, Resize, ToPILImage, ToTensor,
)

__all__ = [
    "CenterCrop", "Compose", "ConvertImageDtype", "ImageClassification", "InterpolationMode",
    "Lambda", "Normalize", "PILToTensor", "RandomHorizontalFlip", "RandomResizedCrop",
    "RandomVerticalFlip", "Resize", "ToPILImage", "ToTensor", "functional",
]

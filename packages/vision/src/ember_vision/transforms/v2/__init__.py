"""torchvision.transforms.v2 for Ember, on plain tensors and PIL images.

Transforms take any structure (``t(img)``, ``t(img, label)``, ``t({"image": img, ...})``) and
return the same structure: PIL images are images; without one, the first tensor is the image
and the other leaves pass through. torchvision's ``tv_tensors`` (bounding boxes, masks,
keypoints, videos) are not supported.
"""
from .._base import InterpolationMode
from . import functional
from ._auto_augment import AugMix, AutoAugment, AutoAugmentPolicy, RandAugment, TrivialAugmentWide
from ._color import (
    RGB, ColorJitter, GaussianBlur, Grayscale, RandomAdjustSharpness, RandomAutocontrast,
    RandomChannelPermutation, RandomEqualize, RandomErasing, RandomGrayscale, RandomInvert,
    RandomPhotometricDistort, RandomPosterize, RandomSolarize,
)
from ._geometry import (
    CenterCrop, ElasticTransform, FiveCrop, Pad, RandomAffine, RandomCrop, RandomHorizontalFlip,
    RandomPerspective, RandomResize, RandomResizedCrop, RandomRotation, RandomShortestSize,
    RandomVerticalFlip, Resize, ScaleJitter, TenCrop,
)
from ._misc import (
    Compose, ConvertImageDtype, GaussianNoise, Identity, Lambda, Normalize, PILToTensor,
    RandomApply, RandomChoice, RandomOrder, ToDtype, ToImage, ToPILImage, ToPureTensor, ToTensor,
)
from ._transform import Transform

__all__ = [
    "AugMix", "AutoAugment", "AutoAugmentPolicy", "CenterCrop", "ColorJitter", "Compose",
    "ConvertImageDtype", "ElasticTransform", "FiveCrop", "GaussianBlur", "GaussianNoise",
    "Grayscale", "Identity", "InterpolationMode", "Lambda", "Normalize", "PILToTensor", "Pad",
    "RGB", "RandAugment", "RandomAdjustSharpness", "RandomAffine", "RandomApply",
    "RandomAutocontrast", "RandomChannelPermutation", "RandomChoice", "RandomCrop",
    "RandomEqualize", "RandomErasing", "RandomGrayscale", "RandomHorizontalFlip", "RandomInvert",
    "RandomOrder", "RandomPerspective", "RandomPhotometricDistort", "RandomPosterize",
    "RandomResize", "RandomResizedCrop", "RandomRotation", "RandomShortestSize", "RandomSolarize",
    "RandomVerticalFlip", "Resize", "ScaleJitter", "TenCrop", "ToDtype", "ToImage", "ToPILImage",
    "ToPureTensor", "ToTensor", "Transform", "TrivialAugmentWide", "functional",
]

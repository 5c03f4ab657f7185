"""torchvision.transforms for Ember: PIL images and ember tensors in, tensors out."""
from . import functional
from ._color_transforms import (
    ColorJitter, GaussianBlur, Grayscale, RandomAdjustSharpness, RandomAutocontrast,
    RandomEqualize, RandomGrayscale, RandomInvert, RandomPosterize, RandomSolarize,
)
from ._geometry_transforms import (
    ElasticTransform, RandomAffine, RandomErasing, RandomPerspective, RandomRotation,
)
from ._presets import ImageClassification
from .autoaugment import AugMix, AutoAugment, AutoAugmentPolicy, RandAugment, TrivialAugmentWide
from .functional import InterpolationMode
from .transforms import (
    CenterCrop, Compose, ConvertImageDtype, FiveCrop, Lambda, Normalize, Pad, PILToTensor,
    RandomApply, RandomChoice, RandomCrop, RandomHorizontalFlip, RandomOrder, RandomResizedCrop,
    RandomTransforms, RandomVerticalFlip, Resize, TenCrop, ToPILImage, ToTensor,
)

__all__ = [
    "AugMix", "AutoAugment", "AutoAugmentPolicy", "CenterCrop", "ColorJitter", "Compose",
    "ConvertImageDtype", "ElasticTransform", "FiveCrop", "GaussianBlur", "Grayscale",
    "ImageClassification", "InterpolationMode", "Lambda", "Normalize", "PILToTensor", "Pad",
    "RandAugment", "RandomAdjustSharpness", "RandomAffine", "RandomApply", "RandomAutocontrast",
    "RandomChoice", "RandomCrop", "RandomEqualize", "RandomErasing", "RandomGrayscale",
    "RandomHorizontalFlip", "RandomInvert", "RandomOrder", "RandomPerspective", "RandomPosterize",
    "RandomResizedCrop", "RandomRotation", "RandomSolarize", "RandomTransforms",
    "RandomVerticalFlip", "Resize", "TenCrop", "ToPILImage", "ToTensor", "TrivialAugmentWide",
    "functional",
]

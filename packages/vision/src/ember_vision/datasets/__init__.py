"""torchvision.datasets for Ember: ImageFolder and the embedded digits data set."""
from .digits import Digits, load_digits_dataset
from .folder import DatasetFolder, IMG_EXTENSIONS, ImageFolder, UnreadableImageError, \
    default_loader, find_classes, make_dataset, pil_loader
from .vision import StandardTransform, VisionDataset

__all__ = ["DatasetFolder", "Digits", "IMG_EXTENSIONS", "ImageFolder", "StandardTransform",
           "UnreadableImageError", "VisionDataset", "default_loader", "find_classes",
           "load_digits_dataset", "make_dataset", "pil_loader"]

"""torchvision.datasets for Ember: ImageFolder, the embedded digits, and the classic sets
(MNIST, FashionMNIST, KMNIST, CIFAR10/100, SVHN, STL10) read from their files with parsers
that refuse damaged or hostile input (``DatasetFileError``) instead of running it."""
from ._file_errors import DatasetFileDtypeError, DatasetFileError
from .cifar import CIFAR10, CIFAR100
from .digits import Digits, load_digits_dataset
from .folder import DatasetFolder, IMG_EXTENSIONS, ImageFolder, UnreadableImageError, \
    default_loader, find_classes, make_dataset, pil_loader
from .mnist import KMNIST, MNIST, FashionMNIST
from .stl10 import STL10
from .svhn import SVHN
from .vision import StandardTransform, VisionDataset

__all__ = ["CIFAR10", "CIFAR100", "DatasetFileDtypeError", "DatasetFileError", "DatasetFolder",
           "Digits", "FashionMNIST", "IMG_EXTENSIONS", "ImageFolder", "KMNIST", "MNIST", "STL10",
           "SVHN", "StandardTransform", "UnreadableImageError", "VisionDataset",
           "default_loader", "find_classes", "load_digits_dataset", "make_dataset",
           "pil_loader"]

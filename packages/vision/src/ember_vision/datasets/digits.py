"""scikit-learn's 8x8 handwritten digits (1,797 images, classes 0-9) as RGB PIL images.

It ships inside scikit-learn (no download), which makes it the default data set of
``ember-vision finetune``: a real classification task that runs anywhere offline. Install
with ``pip install 'ember-vision[digits]'``.
"""
import numpy as np
from PIL import Image

from .vision import VisionDataset


def _load_sklearn_digits():
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError(
            "the digits data set comes from scikit-learn, which is not installed: "
            "pip install 'ember-vision[digits]'") from None
    bunch = load_digits()
    # 0..16 grey levels -> 0..255
    images = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)
    return images, bunch.target.astype(np.int64)


class Digits(VisionDataset):
    """``Digits(image_size=32)[i]`` -> (RGB PIL image of image_size x image_size, digit)."""

    classes = [str(d) for d in range(10)]

    def __init__(self, image_size=32, transform=None, target_transform=None):
        super().__init__(None, transform=transform, target_transform=target_transform)
        if int(image_size) < 8:
            raise ValueError(f"image_size must be at least 8, got {image_size}")
        self.image_size = int(image_size)
        self.data, targets = _load_sklearn_digits()
        self.targets = targets.tolist()
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

    def image(self, index):
        grey = Image.fromarray(self.data[index])  # 2-D uint8 -> mode "L"
        grey = grey.resize((self.image_size, self.image_size), Image.BILINEAR)
        return grey.convert("RGB")

    def __getitem__(self, index):
        img, target = self.image(index), self.targets[index]
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self.data)

    def extra_repr(self):
        return f"Image size: {self.image_size}"


def load_digits_dataset(image_size=32, transform=None, target_transform=None):
    """The digits as a dataset of RGB images upscaled to ``image_size`` (default 32)."""
    return Digits(image_size, transform=transform, target_transform=target_transform)

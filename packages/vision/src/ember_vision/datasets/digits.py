"""The 8x8 handwritten digits (1,797 images, classes 0-9) as RGB PIL images.

The data ships inside ember-vision (``ember_vision/data/digits.csv.gz``, 57 KB), which makes
it the default data set of ``ember-vision finetune``: a real classification task that runs
anywhere, offline, with nothing else installed. It is the test part of the UCI "Optical
Recognition of Handwritten Digits" data set by E. Alpaydin and C. Kaynak (UCI Machine
Learning Repository, 1998), licensed CC BY 4.0, in the very file scikit-learn ships, so the
images and targets are those of ``sklearn.datasets.load_digits()``. Provenance and licence:
``ember_vision/data/DIGITS-LICENSE.txt``.
"""
import gzip
from importlib import resources

import numpy as np
from PIL import Image

from .vision import VisionDataset

_DATA_FILE = "data/digits.csv.gz"
NUM_IMAGES = 1797


def load_digits_arrays():
    """(images uint8 (1797, 8, 8) with grey levels 0..16, targets int64 (1797,)).

    The same numbers as scikit-learn's ``load_digits()`` ``images`` (there float64) and
    ``target``: each line of the file is 64 pixels in row-major order, then the digit.
    """
    path = resources.files("ember_vision").joinpath(_DATA_FILE)
    if not path.is_file():  # an install built without the package data
        raise FileNotFoundError(f"the digits data file {_DATA_FILE} is missing from this "
                                "ember-vision install; reinstall ember-vision")
    with path.open("rb") as raw, gzip.open(raw, "rt") as text:
        table = np.loadtxt(text, delimiter=",", dtype=np.int64, ndmin=2)
    if table.shape != (NUM_IMAGES, 65) or table.min() < 0 or table[:, :64].max() > 16:
        raise RuntimeError(f"{_DATA_FILE} inside ember_vision is damaged: expected "
                           f"{NUM_IMAGES} rows of 64 grey levels 0..16 and a digit, found "
                           f"an array of shape {table.shape}; reinstall ember-vision")
    return table[:, :64].reshape(-1, 8, 8).astype(np.uint8), table[:, 64].copy()


class Digits(VisionDataset):
    """``Digits(image_size=32)[i]`` -> (RGB PIL image of image_size x image_size, digit)."""

    classes = [str(d) for d in range(10)]

    def __init__(self, image_size=32, transform=None, target_transform=None):
        super().__init__(None, transform=transform, target_transform=target_transform)
        if int(image_size) < 8:
            raise ValueError(f"image_size must be at least 8, got {image_size}")
        self.image_size = int(image_size)
        grey16, targets = load_digits_arrays()
        # 0..16 grey levels -> 0..255, so the images look like ordinary 8-bit pictures
        self.data = np.round(grey16 * (255.0 / 16.0)).astype(np.uint8)
        self.targets = targets.tolist()
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

    def image(self, index):
        grey = Image.fromarray(self.data[index])  # 2-D uint8 -> mode "L"
        grey = grey.resize((self.image_size, self.image_size), Image.Resampling.BILINEAR)
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

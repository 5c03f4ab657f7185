"""STL-10 from its binary files: 96x96 colour images, 10 classes, plus 100,000 unlabeled.

``root/stl10_binary/`` holds ``train_X.bin``/``test_X.bin``/``unlabeled_X.bin`` (uint8,
each image 3 x 96 x 96 stored column-major), ``train_y.bin``/``test_y.bin`` (uint8 labels
1..10), ``class_names.txt`` and ``fold_indices.txt``. Sizes are checked before reshaping: an
image file whose length is not a whole number of images, a label file of another length, a
label outside 1..10 or a fold index out of range raise ``DatasetFileError``.
"""
import os
from typing import Any, Callable, Optional

import numpy as np
from PIL import Image

from ._archive import ArchiveDataset
from ._file_errors import DatasetFileError
from .utils import verify_str_arg

_IMAGE_BYTES = 3 * 96 * 96


def _read_images(path: str) -> np.ndarray:
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size % _IMAGE_BYTES:
        raise DatasetFileError(f"{path} has {raw.size} bytes, not a whole number of "
                               f"{_IMAGE_BYTES}-byte 3x96x96 images")
    return np.transpose(raw.reshape(-1, 3, 96, 96), (0, 1, 3, 2))


def _read_labels(path: str, count: int) -> np.ndarray:
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size != count:
        raise DatasetFileError(f"{path} has {raw.size} labels for {count} images")
    if raw.size and (raw.min() < 1 or raw.max() > 10):
        raise DatasetFileError(f"{path} holds labels outside 1..10")
    return raw - 1  # 0-based, uint8 as torchvision


class STL10(ArchiveDataset):
    """`STL10 <https://cs.stanford.edu/~acoates/stl10/>`_: ``STL10(root, split="train")``."""

    base_folder = "stl10_binary"
    url = "http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz"
    filename = "stl10_binary.tar.gz"
    tgz_md5 = "91f7769df0f17e558f3565bffb0c7dfb"
    class_names_file = "class_names.txt"
    folds_list_file = "fold_indices.txt"
    train_list = [
        ["train_X.bin", "918c2871b30a85fa023e0c44e0bee87f"],
        ["train_y.bin", "5a34089d4802c674881badbb80307741"],
        ["unlabeled_X.bin", "5242ba1fed5e4be9e1e742405eb56ca4"],
    ]
    test_list = [["test_X.bin", "7f263ba9f9e0b06b93213547f721ac82"],
                 ["test_y.bin", "36f9794fa4beb8a2c72628de14fa638e"]]
    splits = ("train", "train+unlabeled", "unlabeled", "test")

    def __init__(self, root, split: str = "train", folds: Optional[int] = None,
                 transform: Optional[Callable] = None,
                 target_transform: Optional[Callable] = None, download: bool = False) -> None:
        if isinstance(root, str):
            root = os.path.expanduser(root)
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.split = verify_str_arg(split, "split", self.splits)
        self.folds = self._verify_folds(folds)
        if download:
            self.download()
        elif not self._check_integrity():
            raise RuntimeError(
                "Dataset not found or corrupted. You can use download=True to download it")
        if self.split in ("train", "train+unlabeled"):
            self.data, self.labels = self._load_pair("train_X.bin", "train_y.bin")
            self._load_folds(folds)
            if self.split == "train+unlabeled":
                unlabeled = _read_images(self._path("unlabeled_X.bin"))
                self.data = np.concatenate((self.data, unlabeled))
                self.labels = np.concatenate(
                    (self.labels, np.asarray([-1] * unlabeled.shape[0])))
        elif self.split == "unlabeled":
            self.data = _read_images(self._path("unlabeled_X.bin"))
            self.labels = np.asarray([-1] * self.data.shape[0])
        else:
            self.data, self.labels = self._load_pair("test_X.bin", "test_y.bin")
        class_file = self._path(self.class_names_file)
        if os.path.isfile(class_file):
            with open(class_file) as f:
                self.classes = f.read().splitlines()

    def _load_pair(self, images: str, labels: str):
        data = _read_images(self._path(images))
        return data, _read_labels(self._path(labels), len(data))

    @staticmethod
    def _verify_folds(folds: Optional[int]) -> Optional[int]:
        if folds is None:
            return folds
        if isinstance(folds, int):
            if folds in range(10):
                return folds
            raise ValueError("Value for argument folds should be in the range [0, 10), "
                             f"but got {folds}.")
        raise ValueError(f"Expected type None or int for argument folds, but got type "
                         f"{type(folds)}.")

    def _load_folds(self, folds: Optional[int]) -> None:
        if folds is None:
            return
        path = self._path(self.folds_list_file)
        with open(path) as f:
            lines = f.read().splitlines()
        if folds >= len(lines):
            raise DatasetFileError(f"{path} has {len(lines)} folds, fold {folds} asked for")
        try:
            index = np.array(lines[folds].split(), dtype=np.int64)
        except ValueError as err:
            raise DatasetFileError(f"{path}: fold {folds} is not a list of integers") from err
        if index.size and (index.min() < 0 or index.max() >= len(self.data)):
            raise DatasetFileError(f"{path}: fold {folds} indexes outside the "
                                   f"{len(self.data)} training images")
        self.data = self.data[index, :, :, :]
        self.labels = self.labels[index]

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        img = Image.fromarray(np.transpose(self.data[index], (1, 2, 0)))
        target = int(self.labels[index]) if self.labels is not None else None
        return self._apply_transforms(img, target)

    def __len__(self) -> int:
        return self.data.shape[0]

    def extra_repr(self) -> str:
        return f"Split: {self.split}"

"""CIFAR-10 and CIFAR-100 from the "python version" batches, read without ``pickle``.

``root/cifar-10-batches-py/`` holds ``data_batch_1`` .. ``data_batch_5``, ``test_batch`` and
``batches.meta`` (``root/cifar-100-python/``: ``train``, ``test``, ``meta``), each a pickled
dict; ``_safe_pickle`` reads them as data only, so a tampered batch cannot run code. Every
file is checked against torchvision's MD5 before it is read, as torchvision does. ``data``
is a uint8 NumPy array (N, 32, 32, 3), ``targets`` a list of ints, ``ds[i]`` an RGB PIL
image and an int.
"""
import os
from typing import Any, Callable, Optional

import numpy as np
from PIL import Image

from ._archive import ArchiveDataset
from ._file_errors import DatasetFileError
from ._safe_pickle import load_data_pickle_file
from .utils import check_integrity


def _batch_arrays(entry: dict, path: str):
    """(uint8 (N, 3072) array, list of N ints) from one batch dict, validated."""
    data = entry.get("data")
    labels = entry.get("labels", entry.get("fine_labels"))
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != 3 * 32 * 32:
        what = (f"a {data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray)
                else type(data).__name__)
        raise DatasetFileError(f"{path}: 'data' should be a uint8 array of shape (N, 3072), "
                               f"found {what}")
    if not isinstance(labels, list) or not all(type(y) is int for y in labels):
        raise DatasetFileError(f"{path}: 'labels' (or 'fine_labels') should be a list of ints")
    if len(labels) != len(data):
        raise DatasetFileError(f"{path} holds {len(data)} images but {len(labels)} labels")
    return data, labels


class CIFAR10(ArchiveDataset):
    """`CIFAR10 <https://www.cs.toronto.edu/~kriz/cifar.html>`_: ``CIFAR10(root, train=True)``."""

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [
        ["data_batch_1", "c99cafc152244af753f735de768cd75f"],
        ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
        ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
        ["data_batch_4", "634d18415352ddfa80567beed471001a"],
        ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"],
    ]
    test_list = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    meta = {"filename": "batches.meta", "key": "label_names",
            "md5": "5ff9c542aee3614f3951f8cda6e48888"}

    def __init__(self, root, train: bool = True, transform: Optional[Callable] = None,
                 target_transform: Optional[Callable] = None, download: bool = False) -> None:
        if isinstance(root, str):
            root = os.path.expanduser(root)
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError(
                "Dataset not found or corrupted. You can use download=True to download it")
        chunks, self.targets = [], []
        for file_name, _ in self.train_list if self.train else self.test_list:
            path = self._path(file_name)
            data, labels = _batch_arrays(load_data_pickle_file(path), path)
            chunks.append(data)
            self.targets.extend(labels)
        # rows are 1024 red, 1024 green, 1024 blue values: to (N, H, W, C) for PIL
        self.data = np.vstack(chunks).reshape(-1, 3, 32, 32).transpose((0, 2, 3, 1))
        self._load_meta()

    def _load_meta(self) -> None:
        path = self._path(self.meta["filename"])
        if not check_integrity(path, self.meta["md5"]):
            raise RuntimeError("Dataset metadata file not found or corrupted. You can use "
                               "download=True to download it")
        names = load_data_pickle_file(path).get(self.meta["key"])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise DatasetFileError(f"{path}: '{self.meta['key']}' should be a list of strings")
        self.classes = names
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        img, target = Image.fromarray(self.data[index]), self.targets[index]
        return self._apply_transforms(img, target)

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"


class CIFAR100(CIFAR10):
    """`CIFAR100 <https://www.cs.toronto.edu/~kriz/cifar.html>`_: 100 fine classes."""

    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = [["train", "16019d7e3df5f24257cddd939b257f8d"]]
    test_list = [["test", "f0ef6b0ae62326f3e7ffdfab6717acfc"]]
    meta = {"filename": "meta", "key": "fine_label_names",
            "md5": "7973b15100ade9c7d40fb424638fde48"}

"""MNIST, Fashion-MNIST and Kuzushiji-MNIST from their IDX files, as torchvision reads them.

Files live in ``root/<ClassName>/raw/`` (torchvision's layout): ``train-images-idx3-ubyte``,
``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each
plain or gzipped (``.gz``, as downloaded). ``download=True`` fetches the gzipped files from
torchvision's mirrors, checks their MD5 and unpacks them. ``data`` is a uint8 tensor
(N, 28, 28), ``targets`` an int64 tensor (N,), and ``ds[i]`` is a (mode "L" PIL image, int).
"""
import os
import warnings
from typing import Any, Callable, Optional
from urllib.error import URLError

import numpy as np
from PIL import Image

from .. import _interop
from ._idx import read_image_file, read_label_file
from .utils import check_integrity, download_and_extract_archive
from .vision import VisionDataset


class MNIST(VisionDataset):
    """`MNIST <http://yann.lecun.com/exdb/mnist/>`_: ``MNIST(root, train=True, download=False)``."""

    mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    training_file = "training.pt"
    test_file = "test.pt"
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root, train: bool = True, transform: Optional[Callable] = None,
                 target_transform: Optional[Callable] = None, download: bool = False) -> None:
        if isinstance(root, str):
            root = os.path.expanduser(root)
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if self._check_legacy_exist():
            self.data, self.targets = self._load_legacy_data()
            return
        if download:
            self.download()
        if not self._check_exists():
            raise RuntimeError("Dataset not found. You can use download=True to download it")
        self.data, self.targets = self._load_data()

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, self.__class__.__name__, "raw")

    @property
    def processed_folder(self) -> str:
        return os.path.join(self.root, self.__class__.__name__, "processed")

    @property
    def class_to_idx(self) -> dict:
        return {name: i for i, name in enumerate(self.classes)}

    # torchvision's old attribute names, kept with its warning
    @property
    def train_labels(self):
        warnings.warn("train_labels has been renamed targets", stacklevel=2)
        return self.targets

    @property
    def test_labels(self):
        warnings.warn("test_labels has been renamed targets", stacklevel=2)
        return self.targets

    @property
    def train_data(self):
        warnings.warn("train_data has been renamed data", stacklevel=2)
        return self.data

    @property
    def test_data(self):
        warnings.warn("test_data has been renamed data", stacklevel=2)
        return self.data

    def _check_legacy_exist(self) -> bool:
        """Old torchvision versions cached ``processed/training.pt`` and ``test.pt``."""
        return all(check_integrity(os.path.join(self.processed_folder, name))
                   for name in (self.training_file, self.test_file))

    def _load_legacy_data(self):
        import ember  # the safe (weights_only) loader: a cached file never runs code

        name = self.training_file if self.train else self.test_file
        loaded = ember.load(os.path.join(self.processed_folder, name))
        if not (isinstance(loaded, (tuple, list)) and len(loaded) == 2):
            raise RuntimeError(f"{os.path.join(self.processed_folder, name)} should hold "
                               "(data, targets)")
        return loaded[0], loaded[1]

    def _file(self, kind: str) -> Optional[str]:
        """The raw file for ``kind`` ("images"/"labels") of this split: unpacked or ``.gz``."""
        stem = f"{'train' if self.train else 't10k'}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"
        for name in (stem, stem + ".gz"):
            path = os.path.join(self.raw_folder, name)
            if os.path.isfile(path):
                return path
        return None

    def _load_data(self):
        images = read_image_file(self._file("images"))
        labels = read_label_file(self._file("labels"))
        if len(images) != len(labels):
            raise RuntimeError(f"{self.raw_folder} holds {len(images)} images but "
                               f"{len(labels)} labels for the "
                               f"{'training' if self.train else 'test'} split")
        return _interop.from_numpy(images), _interop.from_numpy(labels)

    def _check_exists(self) -> bool:
        def present(gz_name):
            stem = os.path.splitext(gz_name)[0]
            return any(check_integrity(os.path.join(self.raw_folder, n))
                       for n in (stem, gz_name))
        return all(present(name) for name, _ in self.resources)

    def download(self) -> None:
        """Fetch the four gzipped files (first mirror that works), check MD5s, unpack them."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        for filename, md5 in self.resources:
            errors = []
            for mirror in self.mirrors:
                try:
                    download_and_extract_archive(f"{mirror}{filename}",
                                                 download_root=self.raw_folder,
                                                 filename=filename, md5=md5)
                except (RuntimeError, URLError) as failure:
                    errors.append(failure)
                    continue
                break
            else:
                msg = f"Error downloading {filename}:\n"
                for mirror, err in zip(self.mirrors, errors):
                    msg += f"Tried {mirror}, got:\n{err}\n"
                raise RuntimeError(msg)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        img = Image.fromarray(np.ascontiguousarray(_interop.to_numpy(self.data)[index]))
        target = int(_interop.to_numpy(self.targets)[index])
        return self._apply_transforms(img, target)

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"


class FashionMNIST(MNIST):
    """`Fashion-MNIST <https://github.com/zalandoresearch/fashion-mnist>`_ (Zalando)."""

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


class KMNIST(MNIST):
    """`Kuzushiji-MNIST <https://github.com/rois-codh/kmnist>`_ (cursive Japanese)."""

    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    ]
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]

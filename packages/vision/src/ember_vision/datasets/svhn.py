"""SVHN (Street View House Numbers, cropped digits) from its MATLAB 5 files, without scipy.

``root/train_32x32.mat``, ``test_32x32.mat`` or ``extra_32x32.mat`` hold ``X`` (uint8,
32 x 32 x 3 x N) and ``y`` (N x 1, digits 1..10 where 10 means 0); ``_matlab`` reads just
those two variables, safely. As torchvision: ``data`` is uint8 (N, 3, 32, 32), ``labels``
int64 with 10 mapped to 0, ``ds[i]`` an RGB PIL image and an int.
"""
import os
from typing import Any, Callable, Optional

import numpy as np
from PIL import Image

from ._file_errors import DatasetFileError
from ._matlab import load_mat_variables
from .utils import check_integrity, download_url, verify_str_arg
from .vision import VisionDataset


class SVHN(VisionDataset):
    """`SVHN <http://ufldl.stanford.edu/housenumbers/>`_: ``SVHN(root, split="train")``."""

    split_list = {
        "train": ["http://ufldl.stanford.edu/housenumbers/train_32x32.mat",
                  "train_32x32.mat", "e26dedcc434d2e4c54c9b2d4a06d8373"],
        "test": ["http://ufldl.stanford.edu/housenumbers/test_32x32.mat",
                 "test_32x32.mat", "eb5a983be6a315427106f1b164d9cef3"],
        "extra": ["http://ufldl.stanford.edu/housenumbers/extra_32x32.mat",
                  "extra_32x32.mat", "a93ce644f1a588dc4d68dda5feec44a7"],
    }

    def __init__(self, root, split: str = "train", transform: Optional[Callable] = None,
                 target_transform: Optional[Callable] = None, download: bool = False) -> None:
        if isinstance(root, str):
            root = os.path.expanduser(root)
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.split = verify_str_arg(split, "split", tuple(self.split_list.keys()))
        self.url, self.filename, self.file_md5 = self.split_list[split]
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError(
                "Dataset not found or corrupted. You can use download=True to download it")
        path = os.path.join(self.root, self.filename)
        mat = load_mat_variables(path, ("X", "y"))
        x, y = mat["X"], mat["y"]
        if x.dtype != np.uint8 or x.ndim != 4 or x.shape[:3] != (32, 32, 3):
            raise DatasetFileError(f"{path}: X should be uint8 of shape (32, 32, 3, N), found "
                                   f"{x.dtype} {x.shape}")
        if y.size != x.shape[3]:
            raise DatasetFileError(f"{path} holds {x.shape[3]} images but {y.size} labels")
        self.data = np.transpose(x, (3, 2, 0, 1))
        self.labels = y.astype(np.int64).squeeze()
        np.place(self.labels, self.labels == 10, 0)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        img = Image.fromarray(np.transpose(self.data[index], (1, 2, 0)))
        target = int(self.labels[index])
        return self._apply_transforms(img, target)

    def __len__(self) -> int:
        return len(self.data)

    def _check_integrity(self) -> bool:
        return check_integrity(os.path.join(self.root, self.filename),
                               self.split_list[self.split][2])

    def download(self) -> None:
        download_url(self.url, self.root, self.filename, self.split_list[self.split][2])

    def extra_repr(self) -> str:
        return f"Split: {self.split}"

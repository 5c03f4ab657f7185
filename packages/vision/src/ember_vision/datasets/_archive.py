"""The base of data sets shipped as one archive of checksummed files (CIFAR, STL-10)."""
import os

from .utils import check_integrity, download_and_extract_archive
from .vision import VisionDataset


class ArchiveDataset(VisionDataset):
    """Files ``root/base_folder/<name>`` listed with their MD5 in ``train_list``/``test_list``,
    all unpacked from the archive ``url`` (saved as ``filename``, MD5 ``tgz_md5``)."""

    base_folder = url = filename = tgz_md5 = ""
    train_list: list = []
    test_list: list = []

    def _path(self, name: str) -> str:
        return os.path.join(self.root, self.base_folder, name)

    def _check_integrity(self) -> bool:
        return all(check_integrity(self._path(name), md5)
                   for name, md5 in self.train_list + self.test_list)

    def download(self) -> None:
        """Download and unpack the archive unless every file is already there and intact."""
        if self._check_integrity():
            return
        download_and_extract_archive(self.url, self.root, filename=self.filename,
                                     md5=self.tgz_md5)

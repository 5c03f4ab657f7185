"""The same generated MNIST/CIFAR/SVHN/STL10 files read by torchvision and by ember_vision give
the same data, targets, classes, images and reprs; missing files give the same errors."""
import importlib.util
import pathlib

import numpy as np
import pytest

import ember_vision.transforms as ET
from ember_vision import datasets as ed
from ember_vision._interop import to_numpy

ROOT = pathlib.Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("make_dataset_files",
                                               ROOT / "tools" / "make_dataset_files.py")
files = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(files)


_with_md5s = files.with_md5s


def _same_items(ours, theirs, n=3):
    assert len(ours) == len(theirs)
    for i in range(min(n, len(ours))):
        (a, ya), (b, yb) = ours[i], theirs[i]
        assert a.mode == b.mode and a.size == b.size
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        assert ya == yb and type(ya) is type(yb)


@pytest.mark.parametrize("name", ["MNIST", "FashionMNIST", "KMNIST"])
def test_mnist_family_equals_torchvision(torchvision, tmp_path, name):
    files.write_mnist_tree(tmp_path, name, n_train=6, n_test=3)
    for train in (True, False):
        ours = getattr(ed, name)(str(tmp_path), train=train)
        theirs = getattr(torchvision.datasets, name)(str(tmp_path), train=train)
        np.testing.assert_array_equal(to_numpy(ours.data), theirs.data.numpy())
        np.testing.assert_array_equal(to_numpy(ours.targets), theirs.targets.numpy())
        assert str(ours.targets.dtype).split(".")[-1] == str(theirs.targets.dtype).split(".")[-1]
        assert ours.classes == theirs.classes and ours.class_to_idx == theirs.class_to_idx
        assert repr(ours) == repr(theirs)
        _same_items(ours, theirs)


def test_missing_dataset_errors_equal_torchvision(torchvision, tmp_path):
    pairs = [(ed.MNIST, torchvision.datasets.MNIST, {}),
             (ed.CIFAR10, torchvision.datasets.CIFAR10, {}),
             (ed.STL10, torchvision.datasets.STL10, {}),
             (ed.SVHN, torchvision.datasets.SVHN, {"split": "test"})]
    for ours, theirs, kwargs in pairs:
        with pytest.raises(RuntimeError) as a:
            ours(tmp_path, **kwargs)
        with pytest.raises(RuntimeError) as b:
            theirs(tmp_path, **kwargs)
        assert str(a.value) == str(b.value)
    for ours, theirs in ((ed.SVHN, torchvision.datasets.SVHN),
                         (ed.STL10, torchvision.datasets.STL10)):
        with pytest.raises(ValueError) as a:
            ours(tmp_path, split="nope")
        with pytest.raises(ValueError) as b:
            theirs(tmp_path, split="nope")
        assert str(a.value) == str(b.value)


@pytest.mark.parametrize("which,writer", [("cifar10", "py2_pickle"), ("cifar10", "py3_pickle"),
                                          ("cifar100", "py2_pickle")])
def test_cifar_equals_torchvision(torchvision, tmp_path, which, writer):
    md5s = files.write_cifar_tree(tmp_path, which, n_per_batch=3,
                                  writer=getattr(files, writer))
    name = which.upper()
    for train in (True, False):
        ours = _with_md5s(getattr(ed, name), md5s)(tmp_path, train=train,
                                                    transform=ET.ToTensor())
        theirs = _with_md5s(getattr(torchvision.datasets, name), md5s)(
            tmp_path, train=train, transform=torchvision.transforms.ToTensor())
        np.testing.assert_array_equal(ours.data, theirs.data)
        assert ours.data.shape == theirs.data.shape and ours.targets == theirs.targets
        assert ours.classes == theirs.classes and ours.class_to_idx == theirs.class_to_idx
        assert repr(ours) == repr(theirs)
        ours.transform = theirs.transform = None
        _same_items(ours, theirs)


@pytest.mark.parametrize("compress", [False, True])
def test_svhn_equals_torchvision(torchvision, tmp_path, compress):
    pytest.importorskip("scipy.io")
    md5s = files.write_svhn(tmp_path, "train", n=5, compress=compress)
    ours = _with_md5s(ed.SVHN, md5s)(tmp_path)
    theirs = _with_md5s(torchvision.datasets.SVHN, md5s)(tmp_path)
    np.testing.assert_array_equal(ours.data, theirs.data)
    np.testing.assert_array_equal(ours.labels, theirs.labels)
    assert ours.labels.dtype == theirs.labels.dtype and repr(ours) == repr(theirs)
    _same_items(ours, theirs)


def test_stl10_equals_torchvision(torchvision, tmp_path):
    md5s = files.write_stl10_tree(tmp_path, n_train=5, n_test=3, n_unlabeled=2)
    for split, folds in (("train", None), ("train", 4), ("test", None), ("unlabeled", None),
                         ("train+unlabeled", 1)):
        ours = _with_md5s(ed.STL10, md5s)(tmp_path, split=split, folds=folds)
        theirs = _with_md5s(torchvision.datasets.STL10, md5s)(tmp_path, split=split,
                                                              folds=folds)
        np.testing.assert_array_equal(ours.data, theirs.data)
        np.testing.assert_array_equal(ours.labels, theirs.labels)
        assert ours.labels.dtype == theirs.labels.dtype
        assert ours.classes == theirs.classes and repr(ours) == repr(theirs)
        _same_items(ours, theirs)


def test_image_folder_repr_equals_torchvision(torchvision, tmp_path):
    from PIL import Image
    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        Image.new("RGB", (5, 4), (9, 99, 199)).save(tmp_path / cls / "x.png")
    TT = torchvision.transforms
    ours = ed.ImageFolder(tmp_path, transform=ET.Compose([ET.Resize(3), ET.ToTensor()]),
                          target_transform=ET.Compose([ET.ToTensor()]))
    theirs = torchvision.datasets.ImageFolder(
        tmp_path, transform=TT.Compose([TT.Resize(3), TT.ToTensor()]),
        target_transform=TT.Compose([TT.ToTensor()]))
    assert repr(ours) == repr(theirs)
    assert repr(ed.ImageFolder(tmp_path)) == repr(torchvision.datasets.ImageFolder(tmp_path))


def test_mnist_legacy_processed_files_equal_torchvision(torchvision, tmp_path):
    import torch
    processed = tmp_path / "MNIST" / "processed"
    processed.mkdir(parents=True)
    data = torch.arange(3 * 28 * 28).reshape(3, 28, 28).to(torch.uint8)
    torch.save((data, torch.tensor([1, 2, 3])), processed / "training.pt")
    torch.save((data[:2], torch.tensor([5, 6])), processed / "test.pt")
    for train in (True, False):
        ours, theirs = ed.MNIST(tmp_path, train=train), torchvision.datasets.MNIST(tmp_path,
                                                                                  train=train)
        np.testing.assert_array_equal(to_numpy(ours.data), theirs.data.numpy())
        assert repr(ours) == repr(theirs)
        _same_items(ours, theirs)


def test_dataset_utils_equal_torchvision(torchvision, tmp_path):
    import gzip

    from ember_vision.datasets import utils as eu
    tu = torchvision.datasets.utils
    (tmp_path / "f.bin.gz").write_bytes(gzip.compress(b"hello"))
    for name in ("f.bin.gz",):
        assert eu.extract_archive(str(tmp_path / name)) == tu.extract_archive(
            str(tmp_path / name))
        assert eu.calculate_md5(tmp_path / name) == tu.calculate_md5(tmp_path / name)
    for name in ("a.tar.gz", "a.tgz", "a.zip", "a.tar.xz", "a.gz", "x.tbz2"):
        assert eu._detect_file_type(name) == tu._detect_file_type(name)
    for bad in ("noext", "a.rar"):
        with pytest.raises(RuntimeError) as a:
            eu._detect_file_type(bad)
        with pytest.raises(RuntimeError) as b:
            tu._detect_file_type(bad)
        assert str(a.value) == str(b.value)
    for args in ((3, "split", ("a",)), ("c", "split", ("a", "b")), ("c", None, None),
                 ("z", "mode", ("a",), "custom message")):
        try:
            ours = eu.verify_str_arg(*args)
        except ValueError as err:
            ours = f"ValueError: {err}"
        try:
            theirs = tu.verify_str_arg(*args)
        except ValueError as err:
            theirs = f"ValueError: {err}"
        assert ours == theirs

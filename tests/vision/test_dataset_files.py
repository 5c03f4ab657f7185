"""MNIST-family, CIFAR, SVHN and STL10 read from small files written in the real formats
(tools/make_dataset_files.py), the offline/download paths through file:// URLs, and archive
extraction that refuses to write outside its folder. Nothing here touches the network."""
import gzip
import hashlib
import importlib.util
import io
import os
import pathlib
import pickle
import tarfile
import zipfile

import numpy as np
import pytest
from PIL import Image

import ember_vision.transforms as T
from ember_vision import datasets
from ember_vision._interop import to_numpy
from ember_vision.datasets import utils as dsutils

ROOT = pathlib.Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("make_dataset_files",
                                               ROOT / "tools" / "make_dataset_files.py")
files = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(files)


_with_md5s = files.with_md5s


# -- MNIST family -------------------------------------------------------------------------

@pytest.mark.parametrize("cls", [datasets.MNIST, datasets.FashionMNIST, datasets.KMNIST])
@pytest.mark.parametrize("gz", [False, True])
def test_mnist_family_reads_idx_files(tmp_path, cls, gz):
    arrays = files.write_mnist_tree(tmp_path, cls.__name__, n_train=9, n_test=4, gz=gz)
    suffix = ".gz" if gz else ""
    for train, stem in ((True, "train"), (False, "t10k")):
        ds = cls(str(tmp_path), train=train)
        images = arrays[f"{stem}-images-idx3-ubyte{suffix}"]
        labels = arrays[f"{stem}-labels-idx1-ubyte{suffix}"]
        assert str(ds.data.dtype) == "ember.uint8" and tuple(ds.data.shape) == images.shape
        assert str(ds.targets.dtype) == "ember.int64"
        np.testing.assert_array_equal(to_numpy(ds.data), images)
        np.testing.assert_array_equal(to_numpy(ds.targets), labels)
        img, target = ds[2]
        assert isinstance(img, Image.Image) and img.mode == "L" and img.size == (28, 28)
        np.testing.assert_array_equal(np.asarray(img), images[2])
        assert target == int(labels[2]) and type(target) is int
        assert len(ds) == len(images)
    assert ds.class_to_idx == {c: i for i, c in enumerate(cls.classes)}
    assert ds.raw_folder == os.path.join(str(tmp_path), cls.__name__, "raw")


def test_mnist_repr_transforms_and_missing(tmp_path):
    files.write_mnist_tree(tmp_path, "MNIST", n_train=3, n_test=2)
    ds = datasets.MNIST(tmp_path, train=False, transform=T.ToTensor(),
                        target_transform=lambda y: y + 100)
    x, y = ds[0]
    assert tuple(x.shape) == (1, 28, 28) and y >= 100
    assert repr(ds).splitlines() == [
        "Dataset MNIST", "    Number of datapoints: 2", f"    Root location: {tmp_path}",
        "    Split: Test", "    StandardTransform", "Transform: ToTensor()",
        "Target transform: " + repr(ds.target_transform)]
    with pytest.raises(RuntimeError,
                       match=r"^Dataset not found. You can use download=True to download it$"):
        datasets.FashionMNIST(tmp_path)


def test_mnist_images_and_labels_must_agree(tmp_path):
    files.write_mnist_tree(tmp_path, "KMNIST", n_train=3, n_test=2)
    files.write_idx(tmp_path / "KMNIST" / "raw" / "train-labels-idx1-ubyte",
                    np.zeros(5, np.uint8))
    with pytest.raises(RuntimeError, match="3 images but 5 labels"):
        datasets.KMNIST(tmp_path)


def test_mnist_wrong_dtype_is_a_type_error_as_torchvision(tmp_path):
    files.write_mnist_tree(tmp_path, "MNIST", n_train=3, n_test=2)
    files.write_idx(tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte",
                    np.zeros((3, 28, 28), np.float32))
    with pytest.raises(TypeError, match="x should be of dtype torch.uint8 instead of "
                                        "torch.float32") as info:
        datasets.MNIST(tmp_path)
    assert isinstance(info.value, datasets.DatasetFileError)


# -- CIFAR ----------------------------------------------------------------------------------

@pytest.mark.parametrize("writer", ["py2_pickle", "py3_pickle"])
def test_cifar10_reads_pickled_batches_without_pickle(tmp_path, writer, monkeypatch):
    md5s = files.write_cifar_tree(tmp_path, "cifar10", n_per_batch=3,
                                  writer=getattr(files, writer))
    monkeypatch.setattr(pickle, "load", None)  # the reader must never reach for pickle
    monkeypatch.setattr(pickle, "loads", None)
    cls = _with_md5s(datasets.CIFAR10, md5s)
    train, test = cls(tmp_path), cls(tmp_path, train=False)
    base = tmp_path / "cifar-10-batches-py"
    raw = [_py_load(base / f"data_batch_{i}") for i in range(1, 6)]
    expect = np.vstack([r["data"] for r in raw]).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(train.data, expect)
    assert train.targets == sum((r["labels"] for r in raw), [])
    assert len(train) == 15 and len(test) == 3
    assert train.classes == files.CIFAR10_NAMES and train.class_to_idx["cat"] == 3
    img, target = test[1]
    assert img.mode == "RGB" and img.size == (32, 32) and type(target) is int
    np.testing.assert_array_equal(np.asarray(img), test.data[1])
    assert "    Split: Test" in repr(test).splitlines()


def _py_load(path):
    """What torchvision's loader gets (test oracle only: the files are our own)."""
    import pickle as real_pickle
    with open(path, "rb") as f:
        return real_pickle.Unpickler(f, encoding="latin1").load()


def test_cifar100_fine_labels_and_meta(tmp_path):
    md5s = files.write_cifar_tree(tmp_path, "cifar100", n_per_batch=4)
    ds = _with_md5s(datasets.CIFAR100, md5s)(tmp_path, train=True)
    assert ds.classes == [f"fine{i}" for i in range(100)] and len(ds) == 4
    assert ds.targets == _py_load(tmp_path / "cifar-100-python" / "train")["fine_labels"]


def test_cifar_checksums_and_missing_files(tmp_path):
    with pytest.raises(RuntimeError, match="^Dataset not found or corrupted. You can use "
                                           "download=True to download it$"):
        datasets.CIFAR10(tmp_path)
    files.write_cifar_tree(tmp_path, "cifar10", n_per_batch=2)
    with pytest.raises(RuntimeError, match="not found or corrupted"):  # real MD5s differ
        datasets.CIFAR10(tmp_path)


# -- SVHN, STL10 ------------------------------------------------------------------------

@pytest.mark.parametrize("compress", [False, True])
def test_svhn_reads_mat5_without_scipy(tmp_path, compress):
    md5s = files.write_svhn(tmp_path, "test", n=5, compress=compress)
    ds = _with_md5s(datasets.SVHN, md5s)(tmp_path, split="test")
    from ember_vision.datasets._matlab import load_mat_variables
    mat = load_mat_variables(tmp_path / "test_32x32.mat", ("X", "y"))
    assert ds.data.shape == (5, 3, 32, 32) and ds.labels.dtype == np.int64
    np.testing.assert_array_equal(ds.data, mat["X"].transpose(3, 2, 0, 1))
    expect = mat["y"].astype(np.int64).squeeze()
    expect[expect == 10] = 0
    np.testing.assert_array_equal(ds.labels, expect)
    img, target = ds[4]
    assert img.mode == "RGB" and img.size == (32, 32) and 0 <= target <= 9
    assert repr(ds).splitlines()[-1] == "    Split: test"
    with pytest.raises(ValueError, match="Unknown value 'val' for argument split. Valid values "
                                         "are {'train', 'test', 'extra'}."):
        datasets.SVHN(tmp_path, split="val")


def test_mat5_reader_agrees_with_scipy(tmp_path):
    sio = pytest.importorskip("scipy.io")
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (32, 32, 3, 3), dtype=np.uint8)
    y = np.array([[3.0], [10.0], [1.0]])
    from ember_vision.datasets._matlab import load_mat_variables
    for compress in (False, True):
        sio.savemat(tmp_path / "s.mat", {"X": x, "y": y, "other": np.eye(3)},
                    do_compression=compress)
        got = load_mat_variables(tmp_path / "s.mat", ("X", "y"))
        np.testing.assert_array_equal(got["X"], x)
        np.testing.assert_array_equal(got["y"], y)
        (tmp_path / "o.mat").write_bytes(files.mat5_bytes({"X": x, "y": y}, compress,
                                                          stored_as={"y": np.uint8}))
        theirs = sio.loadmat(tmp_path / "o.mat")
        ours = load_mat_variables(tmp_path / "o.mat", ("X", "y"))
        for k in ("X", "y"):
            assert theirs[k].dtype == ours[k].dtype
            np.testing.assert_array_equal(theirs[k], ours[k])


@pytest.mark.parametrize("compress", [False, True])
def test_mat5_big_endian_files(tmp_path, compress):
    from ember_vision.datasets._matlab import load_mat_variables
    x = RNG_MAT.integers(0, 256, (32, 32, 3, 2), dtype=np.uint8)
    y = np.array([[7.0], [10.0]])
    for order in ("<", ">"):
        (tmp_path / f"{order == '>'}.mat").write_bytes(
            files.mat5_bytes({"X": x, "y": y, "z": np.eye(2, dtype=np.int32)}, compress,
                             order=order))
        got = load_mat_variables(tmp_path / f"{order == '>'}.mat", ("X", "y", "z"))
        np.testing.assert_array_equal(got["X"], x)
        np.testing.assert_array_equal(got["y"], y)
        np.testing.assert_array_equal(got["z"], np.eye(2))
        assert got["z"].dtype == np.int32 and got["z"].dtype.isnative
    sio = pytest.importorskip("scipy.io")
    theirs = sio.loadmat(tmp_path / "True.mat")
    np.testing.assert_array_equal(theirs["X"], x)


RNG_MAT = np.random.default_rng(2)


def test_stl10_splits_and_folds(tmp_path):
    md5s = files.write_stl10_tree(tmp_path, n_train=5, n_test=3, n_unlabeled=2)
    cls = _with_md5s(datasets.STL10, md5s)
    base = tmp_path / "stl10_binary"
    raw = np.fromfile(base / "train_X.bin", np.uint8).reshape(-1, 3, 96, 96)
    train = cls(tmp_path, split="train")
    np.testing.assert_array_equal(train.data, raw.transpose(0, 1, 3, 2))
    np.testing.assert_array_equal(train.labels, np.fromfile(base / "train_y.bin", np.uint8) - 1)
    assert train.classes[0] == "airplane" and len(train) == 5
    assert len(cls(tmp_path, split="test")) == 3
    both = cls(tmp_path, split="train+unlabeled")
    assert len(both) == 7 and both.labels[-1] == -1 and both[6][1] == -1
    assert cls(tmp_path, split="unlabeled")[0][1] == -1
    fold = cls(tmp_path, split="train", folds=2)
    np.testing.assert_array_equal(fold.data, train.data[[2, 3, 4]])
    img, _ = fold[0]
    assert img.size == (96, 96) and img.mode == "RGB"
    with pytest.raises(ValueError, match=r"range \[0, 10\), but got 10"):
        cls(tmp_path, folds=10)


# -- download, checksums, extraction ------------------------------------------------------

def _md5(path):
    return hashlib.md5(pathlib.Path(path).read_bytes()).hexdigest()


def test_cifar_download_from_a_local_url_then_offline(tmp_path, capsys):
    src = tmp_path / "src"
    md5s = files.write_cifar_tree(src, "cifar10", n_per_batch=2)
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(src / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    cls = _with_md5s(datasets.CIFAR10, md5s)
    cls.url, cls.tgz_md5 = archive.as_uri(), _md5(archive)
    root = tmp_path / "root"
    ds = cls(root, download=True)
    assert len(ds) == 10 and (root / "cifar-10-python.tar.gz").is_file()
    assert "100%" in capsys.readouterr().err  # the progress bar, as torchvision shows it
    archive.unlink()  # offline from now on: the files in root are enough
    assert len(cls(root, download=True)) == 10
    bad = type("Bad", (cls,), {"tgz_md5": "0" * 32, "url": (tmp_path / "nope.tgz").as_uri()})
    with pytest.raises(RuntimeError):
        bad(tmp_path / "other", download=True)


def test_mnist_download_tries_mirrors_and_checks_md5(tmp_path):
    mirror = tmp_path / "mirror"
    arrays = files.write_mnist_tree(tmp_path / "gen", "MNIST", n_train=4, n_test=2, gz=True)
    mirror.mkdir()
    resources = []
    for name in arrays:
        data = (tmp_path / "gen" / "MNIST" / "raw" / name).read_bytes()
        (mirror / name).write_bytes(data)
        resources.append((name, hashlib.md5(data).hexdigest()))
    order = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    resources.sort(key=lambda r: order.index(r[0]))
    cls = type("MNIST", (datasets.MNIST,), {
        "mirrors": [(tmp_path / "missing").as_uri() + "/", mirror.as_uri() + "/"],
        "resources": resources})
    ds = cls(tmp_path / "root", download=True)
    np.testing.assert_array_equal(to_numpy(ds.data), arrays["train-images-idx3-ubyte.gz"])
    assert (tmp_path / "root" / "MNIST" / "raw" / "train-images-idx3-ubyte").is_file()
    wrong = type("MNIST", (cls,), {"resources": [(n, "0" * 32) for n, _ in resources]})
    with pytest.raises(RuntimeError, match="Error downloading train-images-idx3-ubyte.gz"):
        wrong(tmp_path / "root2", download=True)


def test_download_url_and_check_integrity(tmp_path):
    src = tmp_path / "blob.bin"
    src.write_bytes(b"ember" * 100)
    md5 = _md5(src)
    assert dsutils.calculate_md5(src) == md5 and dsutils.check_md5(src, md5)
    dsutils.download_url(src.as_uri(), tmp_path / "out", md5=md5)
    assert dsutils.check_integrity(tmp_path / "out" / "blob.bin", md5)
    assert not dsutils.check_integrity(tmp_path / "out" / "missing.bin")
    with pytest.raises(RuntimeError, match="^File not found or corrupted.$"):
        dsutils.download_url(src.as_uri(), tmp_path / "out2", md5="1" * 32)


def _tar_with(path, name, data=b"x", kind=tarfile.REGTYPE, link=""):
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(name)
        info.type, info.linkname, info.size = kind, link, len(data) if kind == \
            tarfile.REGTYPE else 0
        tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


@pytest.mark.parametrize("name,kind,link", [
    ("../evil.txt", tarfile.REGTYPE, ""),
    ("/tmp/ember-evil-abs.txt", tarfile.REGTYPE, ""),
    ("ok/../../evil.txt", tarfile.REGTYPE, ""),
    ("link", tarfile.SYMTYPE, "/etc/passwd"),
    ("hard", tarfile.LNKTYPE, "../../outside"),
    ("dev", tarfile.CHRTYPE, ""),
])
def test_extraction_refuses_to_leave_its_folder(tmp_path, name, kind, link):
    archive = tmp_path / "a.tar.gz"
    _tar_with(archive, name, kind=kind, link=link)
    out = tmp_path / "deep" / "out"
    with pytest.raises(RuntimeError, match="refusing to extract"):
        dsutils.extract_archive(str(archive), str(out))
    assert not (tmp_path / "deep" / "evil.txt").exists()
    assert not (tmp_path / "evil.txt").exists()
    assert not pathlib.Path("/tmp/ember-evil-abs.txt").exists()
    assert not out.exists() or not any(out.iterdir())


def test_zip_extraction_refuses_traversal_and_extracts_good_files(tmp_path):
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("fine.txt", "fine")
        z.writestr("../../escape.txt", "nope")
    with pytest.raises(RuntimeError, match="escape.txt"):
        dsutils.extract_archive(bad, tmp_path / "out")
    assert not (tmp_path / "out" / "fine.txt").exists()  # checked before anything is written
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as z:
        z.writestr("d/fine.txt", "fine")
    assert dsutils.extract_archive(str(good), str(tmp_path / "o2")) == str(tmp_path / "o2")
    assert (tmp_path / "o2" / "d" / "fine.txt").read_text() == "fine"


def test_gz_decompress_and_unknown_suffix(tmp_path):
    (tmp_path / "f.bin.gz").write_bytes(gzip.compress(b"hello"))
    out = dsutils.extract_archive(str(tmp_path / "f.bin.gz"))
    assert out == str(tmp_path / "f.bin") and (tmp_path / "f.bin").read_bytes() == b"hello"
    with pytest.raises(RuntimeError, match="Unknown compression or archive type: '.rar'"):
        dsutils.extract_archive(tmp_path / "x.rar")


def test_verify_str_arg_messages():
    assert dsutils.verify_str_arg("a", "split", ("a", "b")) == "a"
    with pytest.raises(ValueError, match="Expected type str for argument split, but got type "
                                         "<class 'int'>."):
        dsutils.verify_str_arg(3, "split", ("a",))


def test_mnist_reads_legacy_processed_files(tmp_path):
    import ember
    processed = tmp_path / "MNIST" / "processed"
    processed.mkdir(parents=True)
    data = ember.tensor(np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28))
    ember.save((data, ember.tensor([4, 2])), processed / "training.pt")
    ember.save((data[:1], ember.tensor([7])), processed / "test.pt")
    ds = datasets.MNIST(tmp_path, train=False)
    assert len(ds) == 1 and ds[0][1] == 7
    np.testing.assert_array_equal(np.asarray(ds[0][0]), to_numpy(data)[0])


def test_cifar_through_a_dataloader_as_the_tutorial_uses_it(tmp_path):
    import ember
    md5s = files.write_cifar_tree(tmp_path, "cifar10", n_per_batch=2)
    transform = T.Compose([T.ToTensor(), T.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
    ds = _with_md5s(datasets.CIFAR10, md5s)(tmp_path, train=True, transform=transform)
    loader = ember.utils.data.DataLoader(ds, batch_size=4, shuffle=False, num_workers=2)
    images, labels = next(iter(loader))
    assert tuple(images.shape) == (4, 3, 32, 32) and str(labels.dtype) == "ember.int64"
    expect = (ds.data[:4].transpose(0, 3, 1, 2) / 255.0 - 0.5) / 0.5
    np.testing.assert_allclose(to_numpy(images), expect, atol=1e-6)
    assert to_numpy(labels).tolist() == ds.targets[:4]
    assert sum(len(y) for _, y in loader) == 10

"""ImageFolder on generated trees (including corrupt files) and the embedded digits."""
import hashlib

import numpy as np
import pytest
from PIL import Image

import ember_vision.transforms as T
from ember_vision.datasets import ImageFolder, UnreadableImageError, load_digits_dataset
from ember_vision.datasets.digits import load_digits_arrays


def _tree(root, spec):
    """spec: {class: [file names]}; png/jpg/bmp files get small real images."""
    for cls, names in spec.items():
        (root / cls).mkdir(parents=True, exist_ok=True)
        for k, name in enumerate(names):
            colour = (10 * k, 100, 200) if cls.startswith("c") else (200, 10 * k, 0)
            Image.new("RGB", (6, 4), colour).save(root / cls / name)
    return root


def test_image_folder_samples_classes_targets(tmp_path):
    _tree(tmp_path, {"dog": ["b.png", "a.jpg"], "cat": ["x.bmp"], "cow": ["z.png"]})
    (tmp_path / "dog" / "notes.txt").write_text("not an image")
    ds = ImageFolder(tmp_path)
    assert ds.classes == ["cat", "cow", "dog"]
    assert ds.class_to_idx == {"cat": 0, "cow": 1, "dog": 2}
    assert ds.samples == [(str(tmp_path / "cat" / "x.bmp"), 0),
                          (str(tmp_path / "cow" / "z.png"), 1),
                          (str(tmp_path / "dog" / "a.jpg"), 2),
                          (str(tmp_path / "dog" / "b.png"), 2)]
    assert ds.targets == [0, 1, 2, 2] and ds.imgs == ds.samples and len(ds) == 4
    img, target = ds[3]
    assert isinstance(img, Image.Image) and img.mode == "RGB" and img.size == (6, 4)
    assert target == 2


def test_image_folder_transforms_and_repr(tmp_path):
    _tree(tmp_path, {"a": ["1.png"], "b": ["2.png"]})
    ds = ImageFolder(tmp_path, transform=T.ToTensor(), target_transform=lambda y: y * 10)
    x, y = ds[1]
    assert tuple(x.shape) == (3, 4, 6) and y == 10
    text = repr(ImageFolder(tmp_path, transform=T.Compose([T.ToTensor()])))
    assert text.splitlines() == [
        "Dataset ImageFolder",
        "    Number of datapoints: 2",
        f"    Root location: {tmp_path}",
        "    StandardTransform",
        "Transform: Compose(",  # torchvision indents only the first line of the transforms
        "               ToTensor()",
        "           )",
    ]


def test_corrupt_image_error_names_the_file(tmp_path):
    _tree(tmp_path, {"a": ["ok.png"], "b": ["ok.png"]})
    bad = tmp_path / "b" / "broken.jpg"
    bad.write_bytes(b"\xff\xd8 this is not a jpeg")
    ds = ImageFolder(tmp_path)
    with pytest.raises(UnreadableImageError, match="broken.jpg") as info:
        ds[ds.samples.index((str(bad), 1))]
    assert isinstance(info.value, OSError)


def test_truncated_png_error_names_the_file(tmp_path):
    _tree(tmp_path, {"a": ["ok.png"], "b": ["ok.png"]})
    good = (tmp_path / "a" / "ok.png").read_bytes()
    (tmp_path / "b" / "cut.png").write_bytes(good[: len(good) // 2])
    ds = ImageFolder(tmp_path)
    with pytest.raises(UnreadableImageError, match="cut.png"):
        ds[1]


def test_missing_root_and_empty_classes(tmp_path):
    with pytest.raises(FileNotFoundError):
        ImageFolder(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder"):
        ImageFolder(tmp_path)
    (tmp_path / "empty").mkdir()
    _tree(tmp_path, {"full": ["a.png"]})
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes empty"):
        ImageFolder(tmp_path)
    assert len(ImageFolder(tmp_path, allow_empty=True)) == 1


def test_is_valid_file_overrides_extensions(tmp_path):
    _tree(tmp_path, {"a": ["1.png", "2.png"], "b": ["3.png"]})
    ds = ImageFolder(tmp_path, is_valid_file=lambda p: not p.endswith("2.png"))
    assert [t for _, t in ds.samples] == [0, 1]


def test_digits_are_rgb_images_of_ten_classes():
    ds = load_digits_dataset(image_size=16)
    assert len(ds) == 1797 and ds.classes == [str(d) for d in range(10)]
    assert sorted(set(ds.targets)) == list(range(10))
    img, target = ds[0]
    assert img.mode == "RGB" and img.size == (16, 16) and target == 0
    arr = np.asarray(img)
    assert arr.max() > 150 and arr.min() == 0  # the 0..16 grey levels were scaled to 0..255
    with pytest.raises(ValueError, match="image_size"):
        load_digits_dataset(image_size=4)


# Taken once from scikit-learn 1.9.1's load_digits() (images cast to uint8, target to uint8),
# so this test needs no scikit-learn and still fails if one pixel or label differs.
SKLEARN_IMAGES_SHA256 = "8f26b2bd9d135c256808f68f14fdabddde6d9c7f869ae419704b051f0f14b3b3"
SKLEARN_TARGET_SHA256 = "8ba4f891220f5e4c9c819638d1602d74b83618f167043c6da52a2a247841ddf0"


def test_embedded_digits_equal_scikit_learns():
    images, targets = load_digits_arrays()
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8
    assert targets.shape == (1797,) and targets.dtype == np.int64
    assert hashlib.sha256(images.tobytes()).hexdigest() == SKLEARN_IMAGES_SHA256
    assert hashlib.sha256(targets.astype(np.uint8).tobytes()).hexdigest() == \
        SKLEARN_TARGET_SHA256
    # a few values read off sklearn's arrays, readable when a checksum fails
    assert images[0, 1].tolist() == [0, 0, 13, 15, 10, 15, 5, 0]
    assert images[1796, 6].tolist() == [0, 8, 16, 10, 8, 16, 8, 0]
    assert int(images.astype(np.int64).sum()) == 561718 and images.max() == 16
    assert targets[:12].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    assert targets[-5:].tolist() == [9, 0, 8, 9, 8]
    assert np.bincount(targets).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_digits_need_no_scikit_learn(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "sklearn", None)  # any import of it now fails
    assert len(load_digits_dataset(image_size=8)) == 1797


def test_missing_or_damaged_digits_file_says_so(tmp_path, monkeypatch):
    import gzip

    from ember_vision.datasets import digits

    monkeypatch.setattr(digits, "_DATA_FILE", "data/no-such-file.csv.gz")
    with pytest.raises(FileNotFoundError, match="missing from this ember-vision install"):
        load_digits_arrays()
    # a damaged copy: a well-formed CSV of the wrong shape
    damaged = tmp_path / "ember_vision" / "data" / "digits.csv.gz"
    damaged.parent.mkdir(parents=True)
    with gzip.open(damaged, "wt") as f:
        f.write("1,2,3\n")
    monkeypatch.setattr(digits, "_DATA_FILE", "data/digits.csv.gz")
    monkeypatch.setattr(digits.resources, "files", lambda package: tmp_path / package)
    with pytest.raises(RuntimeError, match="is damaged"):
        load_digits_arrays()


def test_digits_licence_note_ships_beside_the_data():
    from importlib import resources

    data = resources.files("ember_vision").joinpath("data")
    assert data.joinpath("digits.csv.gz").is_file()
    note = data.joinpath("DIGITS-LICENSE.txt").read_text(encoding="utf-8")
    for must in ("Alpaydin", "Kaynak", "UCI Machine Learning Repository", "CC BY 4.0"):
        assert must in note

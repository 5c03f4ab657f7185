"""Small local stand-ins for the tutorials' datasets, in the formats torchvision reads.

Every image of class ``k`` is noise plus a bright block whose place depends on ``k``, so a
tiny model learns something in one or two epochs. Written once per test session:
FashionMNIST's raw IDX files, the ``mnist.pkl.gz`` pickle of "What is torch.nn really?",
image folders standing in for CIFAR-10 and for the ants/bees set, and a CSV-annotated
folder for the custom-dataset part of the data tutorial.
"""
import gzip
import pathlib
import pickle

import numpy as np
from PIL import Image

CIFAR_CLASSES = ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                 "truck")


def _images(rng, labels, size, channels, n_classes):
    n = len(labels)
    out = rng.integers(0, 60, size=(n, size, size, channels), dtype=np.uint8)
    block = max(2, size // 4)
    for i, k in enumerate(labels):
        row, col = divmod(int(k) % 9, 3) if n_classes > 2 else (int(k) * 2, 1)
        r0, c0 = row * size // 4 + 1, col * size // 4 + 1
        out[i, r0:r0 + block, c0:c0 + block] = 230
    return out


def _write_idx(path, array):
    kind = 0x08  # unsigned bytes
    header = bytes([0, 0, kind, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def _fashion_mnist(root, rng):
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for split, n in (("train", 128), ("t10k", 64)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        _write_idx(raw / f"{split}-images-idx3-ubyte", _images(rng, labels, 28, 1, 10)[..., 0])
        _write_idx(raw / f"{split}-labels-idx1-ubyte", labels)


def _mnist_pickle(root, rng):
    folder = root / "mnist"
    folder.mkdir()
    splits = []
    for n in (256, 128, 8):
        labels = rng.integers(0, 10, n).astype(np.int64)
        pixels = _images(rng, labels, 28, 1, 10).reshape(n, 784).astype(np.float32) / 255
        splits.append((pixels, labels))
    with gzip.open(folder / "mnist.pkl.gz", "wb") as f:
        pickle.dump(tuple(splits), f)


def _image_folder(root, classes, size, per_class, rng):
    for split, count in per_class.items():
        for k, name in enumerate(classes):
            folder = root / split / name
            folder.mkdir(parents=True)
            pixels = _images(rng, [k] * count, size, 3, len(classes))
            for i, img in enumerate(pixels):
                Image.fromarray(img).save(folder / f"{name}_{i}.png")


def _annotated(root, rng):
    images = root / "images"
    images.mkdir(parents=True)
    labels = rng.integers(0, 10, 12)
    lines = []
    for i, (img, k) in enumerate(zip(_images(rng, labels, 28, 1, 10), labels)):
        Image.fromarray(img[..., 0]).save(images / f"item{i}.png")
        lines.append(f"item{i}.png,{k}")
    (root / "labels.csv").write_text("\n".join(lines) + "\n")


def make_tutorial_data(root: pathlib.Path) -> pathlib.Path:
    rng = np.random.default_rng(0)
    _fashion_mnist(root, rng)
    _mnist_pickle(root, rng)
    _image_folder(root / "cifar10", CIFAR_CLASSES, 32, {"train": 6, "test": 2}, rng)
    _image_folder(root / "hymenoptera_data", ("ants", "bees"), 40, {"train": 6, "val": 2},
                  rng)
    _annotated(root / "annotated", rng)
    return root

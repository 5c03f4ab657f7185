"""Data for the finetune command: the chosen data set, its transform, a seeded split."""
import os

import numpy as np

from .datasets import Digits, ImageFolder
from .errors import UsageError
from . import transforms as T

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def eval_transform(image_size):
    """Shorter side to image_size, centre square, ImageNet normalisation."""
    return T.Compose([
        T.Resize(image_size), T.CenterCrop(image_size), T.ToTensor(),
        T.Normalize(IMAGENET_MEAN, IMAGENET_STD),
    ])


def load_dataset(data, image_size):
    """``data`` None -> the embedded digits; else an ImageFolder tree, checked up front."""
    transform = eval_transform(image_size)
    if data is None:
        return Digits(image_size, transform=transform), "digits (UCI 8x8, upscaled)"
    if not os.path.exists(data):
        raise UsageError(f"data folder not found: {data}")
    if not os.path.isdir(data):
        raise UsageError(f"--data must be a folder with one sub-folder per class: {data}")
    try:
        dataset = ImageFolder(data, transform=transform)
    except FileNotFoundError as err:
        raise UsageError(f"{data}: {err}") from None
    if len(dataset.classes) < 2:
        raise UsageError(
            f"{data}: found only one class ({dataset.classes[0]!r}); a classifier needs at "
            "least two class folders")
    return dataset, f"image folder {data}"


def split_indices(targets, val_fraction, seed, max_samples=None):
    """Stratified shuffle split: every class keeps ~val_fraction of its samples held out."""
    rng = np.random.default_rng(seed)
    targets = np.asarray(targets)
    chosen = np.arange(len(targets))
    if max_samples is not None and max_samples < len(targets):
        chosen = np.sort(rng.permutation(len(targets))[:max_samples])
    train, val = [], []
    for c in np.unique(targets[chosen]):
        idx = rng.permutation(chosen[targets[chosen] == c])
        n_val = int(round(len(idx) * val_fraction))
        if len(idx) >= 2:
            n_val = min(max(n_val, 1), len(idx) - 1)
        else:
            n_val = 0
        val.extend(idx[:n_val].tolist())
        train.extend(idx[n_val:].tolist())
    if not val:
        raise UsageError("too few images to hold any out for validation (need 2 per class)")
    return sorted(train), sorted(val)

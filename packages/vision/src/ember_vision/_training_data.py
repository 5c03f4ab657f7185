"""Data for the finetune command: the chosen data set, its transforms (eval, and training
augmentation), a seeded split, and batches decoded by DataLoader workers."""
import copy
import math
import os

import numpy as np
from tqdm import tqdm

from . import _interop as io
from .datasets import Digits, ImageFolder
from .errors import UsageError
from . import transforms as T

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _to_normalised_tensor():
    return [T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)]


def eval_transform(image_size, resize_size=None):
    """Shorter side to resize_size (default: image_size), centre square of image_size,
    ImageNet normalisation: a published model's ``weights.transforms()`` at another size."""
    resize_size = image_size if resize_size is None else resize_size
    return T.Compose([T.Resize(resize_size), T.CenterCrop(image_size),
                      *_to_normalised_tensor()])


# --augment NAME -> the random steps before ToTensor and Normalize. "basic" is the finetuning
# tutorial's training transform; the policies follow torchvision's classification reference
# (crop and flip, then the policy on the PIL image).
AUGMENTATIONS = {
    "none": None,
    "basic": lambda size: [T.RandomResizedCrop(size), T.RandomHorizontalFlip()],
    "trivialaugment": lambda size: [T.RandomResizedCrop(size), T.RandomHorizontalFlip(),
                                    T.TrivialAugmentWide()],
    "randaugment": lambda size: [T.RandomResizedCrop(size), T.RandomHorizontalFlip(),
                                 T.RandAugment()],
    "autoaugment": lambda size: [T.RandomResizedCrop(size), T.RandomHorizontalFlip(),
                                 T.AutoAugment(T.AutoAugmentPolicy.IMAGENET)],
    "augmix": lambda size: [T.RandomResizedCrop(size), T.RandomHorizontalFlip(),
                            T.AugMix()],
}


def train_transform(augment, image_size):
    """The training images' transform for ``--augment``; None for "none" (training images
    then get the eval transform)."""
    if augment not in AUGMENTATIONS:
        raise UsageError(f"unknown --augment {augment!r}; choose one of: "
                         f"{', '.join(AUGMENTATIONS)}")
    steps = AUGMENTATIONS[augment]
    return None if steps is None else T.Compose([*steps(image_size), *_to_normalised_tensor()])


def load_dataset(data, image_size, resize_size=None):
    """``data`` None -> the embedded digits (drawn at image_size); else an ImageFolder tree,
    checked up front, under eval_transform(image_size, resize_size)."""
    transform = eval_transform(image_size, resize_size)
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


def batch_slices(n, batch_size):
    """(start, stop) of ceil(n / batch_size) batches of near-equal size covering range(n).

    Train-mode BatchNorm takes its statistics over one batch, so a short last batch (10
    images in batches of 4 ending with 2) is a badly conditioned statistic; equal sizes
    avoid it (3, 3, 4). Two or more images never give a batch of one: BatchNorm cannot
    normalise a single value per channel (ResNet-18's layer4 is 1x1 at up to 32 px).
    """
    if n == 0:
        return []
    count = max(1, math.ceil(n / batch_size))
    if n >= 2:
        count = min(count, n // 2)
    return [(k * n // count, (k + 1) * n // count) for k in range(count)]


def _stack(samples):
    images = np.stack([io.to_numpy(x) for x, _ in samples])
    return images, np.asarray([y for _, y in samples], dtype=np.int64)


def batches(dataset, indices, batch_size, desc="", progress=False, workers=0,
            augment=None):
    """(images ndarray (B, 3, S, S), targets ndarray (B,)) in the order of ``indices``.

    ``workers`` DataLoader threads read and decode images ahead of the training step
    (Pillow's decoders release the GIL). A deterministic transform (the dataset's own) runs
    in those threads too; a random one (``augment``) runs here, image after image, so its
    draws from ember's generator come in the same order whatever the threads do, and a
    seed repeats a run.
    """
    from ember.utils.data import DataLoader

    slices = [list(indices[start:stop]) for start, stop in batch_slices(len(indices),
                                                                         batch_size)]
    if augment is not None:
        dataset = copy.copy(dataset)
        dataset.transform = None  # workers only decode
    loader = DataLoader(dataset, batch_sampler=slices, num_workers=workers,
                        collate_fn=list if augment is not None else _stack)
    bar = tqdm(total=len(indices), desc=desc, unit="img", disable=not progress, leave=False)
    try:
        for batch in loader:
            if augment is not None:
                batch = _stack([(augment(img), y) for img, y in batch])
            bar.update(len(batch[1]))
            yield batch
    finally:
        bar.close()


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


# MPI launchers announce the job's size in the environment: MPICH's hydra PMI_SIZE, Open MPI
# OMPI_COMM_WORLD_SIZE. Reading them tells a launched run from a plain one without
# importing mpi4py, which would start MPI in every ember-vision command.
_LAUNCHER_SIZE_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE")


def _launched_size():
    for name in _LAUNCHER_SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 1


class Ranks:
    """This process's share of a run launched with ``mpiexec -n N`` (rank, size; one
    process of size 1 otherwise): it joins the default process group if the launcher
    started more than one process (and leaves it in ``close`` if it joined it)."""

    def __init__(self):
        import ember.distributed as dist

        self.joined = False
        if not dist.is_initialized() and _launched_size() > 1:
            if not dist.is_available():
                raise UsageError("launched by mpiexec with several processes, but mpi4py is "
                                 "not installed: pip install 'ember-autograd[mpi]'")
            dist.init_process_group("mpi")
            self.joined = True
        on = dist.is_initialized()
        self.rank = dist.get_rank() if on else 0
        self.size = dist.get_world_size() if on else 1

    @property
    def main(self):
        """Rank 0 alone shows progress and writes files."""
        return self.rank == 0

    def shard(self, indices):
        """This rank's part of ``indices``: every size-th one, starting at rank."""
        return list(indices)[self.rank::self.size]

    def close(self):
        if self.joined:
            import ember.distributed as dist

            dist.destroy_process_group()
            self.joined = False

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

"""``DistributedSampler``: each rank of a data-parallel job visits its own share of the
dataset, all shares the same length, as torch's ``torch.utils.data.distributed``."""
from __future__ import annotations

import math
from typing import Iterator, Optional, Sized

from ... import distributed as dist
from .sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """Indices ``rank, rank + num_replicas, ...`` of one epoch's order (a permutation
    seeded by ``seed + epoch`` when ``shuffle``). Every rank yields ``num_samples`` indices:
    without ``drop_last`` the order is padded by repeating its head, so that all ranks run
    the same number of steps; with it, the tail that does not divide evenly is dropped.

    The permutation comes from Ember's generator (NumPy's PCG64), so a shuffled order
    differs from torch's; the partition and the padding are torch's exactly.
    """

    def __init__(self, dataset: Sized, num_replicas: Optional[int] = None,
                 rank: Optional[int] = None, shuffle: bool = True, seed: int = 0,
                 drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            if num_replicas is None:
                num_replicas = dist.get_world_size()
            if rank is None:
                rank = dist.get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if self.drop_last and n % self.num_replicas != 0:
            # the largest share every rank can fill without repeating an index
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            import ember_tensor
            g = ember_tensor.Generator().manual_seed(self.seed + self.epoch)
            indices = ember_tensor.randperm(n, generator=g)._np.tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            else:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[:self.total_size]
        assert len(indices) == self.total_size
        indices = indices[self.rank:self.total_size:self.num_replicas]
        assert len(indices) == self.num_samples
        return iter(indices)

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Call at the start of each epoch so that shuffling gives a new order (the same on
        every rank, as all seed with ``seed + epoch``)."""
        self.epoch = epoch

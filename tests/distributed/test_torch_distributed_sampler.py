"""DistributedSampler against torch's: identical index lists without shuffling, identical
lengths and padding structure with it (the permutation stream itself differs on purpose)."""
import itertools

import pytest

from ember.utils.data.distributed import DistributedSampler

torch_dist = pytest.importorskip("torch.utils.data.distributed")

CASES = list(itertools.product(range(0, 23), range(1, 6), (False, True)))


@pytest.mark.parametrize("n,replicas,drop_last", CASES)
def test_unshuffled_lists_equal_torch(n, replicas, drop_last):
    for rank in range(replicas):
        for epoch in (0, 3):
            ours = DistributedSampler(range(n), replicas, rank, shuffle=False,
                                      drop_last=drop_last)
            theirs = torch_dist.DistributedSampler(range(n), replicas, rank, shuffle=False,
                                                   drop_last=drop_last)
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert list(ours) == list(theirs)
            assert (len(ours), ours.num_samples, ours.total_size) == (
                len(theirs), theirs.num_samples, theirs.total_size)


@pytest.mark.parametrize("n,replicas,drop_last", CASES[::3])
def test_shuffled_structure_equals_torch(n, replicas, drop_last):
    """Map each sampler's epoch order back to positions: which positions repeat (padding)
    and which are dropped must be the same as torch's."""
    def positions(cls):
        shards = [list(cls(range(n), replicas, r, shuffle=True, seed=2, drop_last=drop_last))
                  for r in range(replicas)]
        counts = {}
        for shard in shards:
            for i in shard:
                counts[i] = counts.get(i, 0) + 1
        return sorted(counts.values()), [len(s) for s in shards]
    assert positions(DistributedSampler) == positions(torch_dist.DistributedSampler)


def test_errors_equal_torch():
    for args in ((2, 2), (2, -1), (3, 5)):
        with pytest.raises(ValueError) as ours:
            DistributedSampler(range(4), *args)
        with pytest.raises(ValueError) as theirs:
            torch_dist.DistributedSampler(range(4), *args)
        assert str(ours.value) == str(theirs.value)

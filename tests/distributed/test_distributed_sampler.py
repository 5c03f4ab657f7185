"""DistributedSampler without torch: the partition and padding rules, and the structure of
shuffled epochs (Ember's permutation stream is NumPy's, so it is checked by its properties;
test_torch_distributed_sampler.py compares the unshuffled lists with torch's)."""
import itertools
import math

import pytest

from ember.utils.data import DistributedSampler

CASES = list(itertools.product(range(0, 12), range(1, 5), (False, True)))


@pytest.mark.parametrize("n,replicas,drop_last", CASES)
def test_shuffled_epoch_is_a_permutation_split_across_ranks(n, replicas, drop_last):
    for epoch in (0, 1, 5):
        shards = []
        for rank in range(replicas):
            s = DistributedSampler(range(n), replicas, rank, shuffle=True, seed=7,
                                   drop_last=drop_last)
            s.set_epoch(epoch)
            shards.append(list(s))
            assert len(shards[-1]) == len(s)
        flat = [i for shard in shards for i in shard]
        if drop_last:
            assert len(set(flat)) == len(flat) == replicas * (n // replicas)
        else:
            per = math.ceil(n / replicas)
            assert all(len(x) == per for x in shards)
            assert set(flat) == set(range(n))  # every index served, the padding repeats
        # the same seed and epoch give the same order; every rank agrees on it
        again = DistributedSampler(range(n), replicas, 0, shuffle=True, seed=7,
                                   drop_last=drop_last)
        again.set_epoch(epoch)
        assert list(again) == shards[0]


def test_padding_repeats_the_head_of_the_epoch_order():
    n, replicas = 5, 4  # 8 slots: the order, then its first 3 again
    order = []
    shards = [list(DistributedSampler(range(n), replicas, r, shuffle=True, seed=3))
              for r in range(replicas)]
    for k in range(2):
        order += [shards[r][k] for r in range(replicas)]
    assert sorted(order[:n]) == list(range(n))
    assert order[n:] == order[:3]


def test_epochs_and_seeds_change_the_order():
    s = DistributedSampler(range(100), 2, 0, seed=0)
    first = list(s)
    s.set_epoch(1)
    assert list(s) != first
    assert list(DistributedSampler(range(100), 2, 0, seed=1)) != first


def test_unshuffled_and_errors():
    assert list(DistributedSampler(range(7), 3, 1, shuffle=False)) == [1, 4, 0]
    assert list(DistributedSampler(range(7), 3, 1, shuffle=False, drop_last=True)) == [1, 4]
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval "
                                         r"\[0, 1\]"):
        DistributedSampler(range(4), 2, 2)
    with pytest.raises(ValueError, match="Invalid rank -1"):
        DistributedSampler(range(4), 2, -1)

"""ember.utils.data: datasets, samplers, default_collate and DataLoader batching."""
import collections

import numpy as np
import pytest

import ember
from ember.utils.data import (
    BatchSampler, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler,
    SequentialSampler, Subset, TensorDataset, default_collate, get_worker_info, random_split,
)


def _vals(t):
    return t.tolist()


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": np.array([i, i * i], dtype=np.float32), "y": i}


class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def test_collate_numbers_follow_torch_dtypes():
    floats = default_collate([1.5, 2.0])
    assert floats.dtype is ember.float64 and _vals(floats) == [1.5, 2.0]
    ints = default_collate([1, 2, 3])
    assert ints.dtype is ember.int64 and _vals(ints) == [1, 2, 3]
    bools = default_collate([True, False])
    assert bools.dtype is ember.bool


def test_collate_tensors_are_stacked():
    batch = default_collate([ember.tensor([1.0, 2.0]), ember.tensor([3.0, 4.0])])
    assert tuple(batch.shape) == (2, 2) and _vals(batch) == [[1.0, 2.0], [3.0, 4.0]]


def test_collate_containers_recursively():
    out = default_collate([{"x": np.zeros(2, np.float32), "s": "a"},
                           {"x": np.ones(2, np.float32), "s": "b"}])
    assert out["s"] == ["a", "b"]
    assert out["x"].dtype is ember.float32 and _vals(out["x"]) == [[0, 0], [1, 1]]
    pairs = default_collate([(1, "a"), (2, "b")])
    assert isinstance(pairs, list) and _vals(pairs[0]) == [1, 2] and pairs[1] == ("a", "b")
    Point = collections.namedtuple("Point", "x y")
    pt = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(pt, Point) and _vals(pt.x) == [1, 3]
    scalars = default_collate([np.float32(1), np.float32(2)])
    assert scalars.dtype is ember.float32


def test_collate_errors_match_torch():
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors, numpy "
                                        "arrays, numbers, dicts or lists; found <class 'object'>"):
        default_collate([object()])
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [1]])
    with pytest.raises(TypeError, match="found <U1"):
        default_collate([np.array(["a"])])


def test_loader_batches_and_len():
    loader = DataLoader(Squares(10), batch_size=4)
    assert len(loader) == 3
    batches = list(loader)
    assert [tuple(b["x"].shape) for b in batches] == [(4, 2), (4, 2), (2, 2)]
    assert _vals(batches[2]["y"]) == [8, 9]
    dropped = DataLoader(Squares(10), batch_size=4, drop_last=True)
    assert len(dropped) == 2 and len(list(dropped)) == 2


def test_tensor_dataset_with_loader():
    x = ember.tensor([[float(i), float(-i)] for i in range(5)])
    y = ember.tensor(list(range(5)))
    ds = TensorDataset(x, y)
    assert len(ds) == 5
    xb, yb = next(iter(DataLoader(ds, batch_size=3)))
    assert _vals(xb) == [[0.0, 0.0], [1.0, -1.0], [2.0, -2.0]] and _vals(yb) == [0, 1, 2]
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(x, ember.tensor([1, 2]))


def test_shuffle_is_a_permutation_and_reproducible_under_manual_seed():
    def epoch():
        return [i for b in DataLoader(list(range(20)), batch_size=6, shuffle=True) for i in _vals(b)]

    ember.manual_seed(7)
    first, second = epoch(), epoch()
    assert sorted(first) == list(range(20)) and first != list(range(20))
    assert first != second  # each epoch reshuffles
    ember.manual_seed(7)
    assert epoch() == first and epoch() == second


def test_generator_argument_controls_shuffle():
    def order(seed):
        g = ember.Generator().manual_seed(seed)
        return list(RandomSampler(range(10), generator=g))

    assert order(3) == order(3) and sorted(order(3)) == list(range(10))


def test_random_sampler_with_replacement_and_num_samples():
    ember.manual_seed(0)
    draws = list(RandomSampler(range(4), replacement=True, num_samples=50))
    assert len(draws) == 50 and set(draws) <= {0, 1, 2, 3}
    more = list(RandomSampler(range(4), num_samples=10))
    assert len(more) == 10 and sorted(more[:4]) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got "
                                         "num_samples=0"):
        RandomSampler(range(4), num_samples=0)


def test_batch_sampler_and_its_checks():
    assert list(BatchSampler(SequentialSampler(range(7)), 3, False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(range(7), 3, True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(BatchSampler(range(7), 3, False)) == 3
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, but got "
                                         "batch_size=0"):
        BatchSampler(range(3), 0, False)
    loader = DataLoader(list(range(7)), batch_sampler=BatchSampler(range(7), 2, False))
    assert [_vals(b) for b in loader] == [[0, 1], [2, 3], [4, 5], [6]]


def test_loader_option_conflicts_raise_torchs_errors():
    data = list(range(4))
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(data, sampler=SequentialSampler(data), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(data, batch_size=2, batch_sampler=[[0, 1]])
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(data, num_workers=-1)
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        DataLoader(Stream(3), shuffle=True)
    loader = DataLoader(data)
    with pytest.raises(ValueError, match="batch_size attribute should not be set after "
                                         "DataLoader is initialized"):
        loader.batch_size = 3


def test_batch_size_none_converts_samples_without_batching():
    out = list(DataLoader(Squares(2), batch_size=None))
    assert tuple(out[0]["x"].shape) == (2,) and out[1]["y"] == 1


def test_iterable_dataset_batches():
    loader = DataLoader(Stream(7), batch_size=3)
    assert len(loader) == 3
    assert [_vals(b) for b in loader] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [_vals(b) for b in DataLoader(Stream(7), batch_size=3, drop_last=True)] == [
        [0, 1, 2], [3, 4, 5]]


def test_threaded_workers_keep_order_and_report_worker_info():
    seen = []

    class Probe(Dataset):
        def __len__(self):
            return 9

        def __getitem__(self, i):
            seen.append(get_worker_info() is not None)
            return i

    loader = DataLoader(Probe(), batch_size=2, num_workers=2)
    assert [_vals(b) for b in loader] == [[0, 1], [2, 3], [4, 5], [6, 7], [8]]
    assert all(seen) and get_worker_info() is None


def test_subset_concat_and_random_split():
    assert list(Subset(list("abcdef"), [4, 0])) == ["e", "a"]
    both = ConcatDataset([[1, 2], [3, 4, 5]])
    assert len(both) == 5 and [both[i] for i in range(5)] == [1, 2, 3, 4, 5] and both[-1] == 5
    assert len(Squares(2) + Squares(3)) == 5
    ember.manual_seed(0)
    parts = random_split(range(10), [0.5, 0.3, 0.2])
    assert [len(p) for p in parts] == [5, 3, 2]
    assert sorted(i for p in parts for i in p) == list(range(10))
    assert [len(p) for p in random_split(range(10), [0.34, 0.33, 0.33])] == [4, 3, 3]
    g1, g2 = ember.Generator().manual_seed(1), ember.Generator().manual_seed(1)
    assert list(random_split(range(6), [3, 3], generator=g1)[0]) == list(
        random_split(range(6), [3, 3], generator=g2)[0])
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length of the "
                                         "input dataset!"):
        random_split(range(10), [3, 3])

"""``DataLoader``: iterate a dataset in batches, as torch's.

``num_workers > 0`` loads batches on that many threads in the main process (not worker
processes), keeping ``prefetch_factor * num_workers`` batches in flight and yielding them in
order. Image decoding and NumPy work release the GIL, so this overlaps loading with
training; a dataset that is pure Python gains little. ``get_worker_info()`` is then
available inside the dataset as in torch, ``worker_init_fn`` runs once per thread.
"""
import concurrent.futures
import itertools
import math
import threading
from typing import Any, Callable, Iterable, Iterator, Optional

from ._collate import default_collate, default_convert
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info"]

_worker_local = threading.local()


class WorkerInfo:
    """What ``get_worker_info()`` returns inside a loading thread."""

    def __init__(self, id, num_workers, seed, dataset):
        self.id = id
        self.num_workers = num_workers
        self.seed = seed
        self.dataset = dataset

    def __repr__(self):
        return (f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, "
                f"dataset={self.dataset!r})")


def get_worker_info():
    """The current loading worker's ``WorkerInfo``, or None in the main thread."""
    return getattr(_worker_local, "info", None)


class _InfiniteConstantSampler:
    def __iter__(self):
        while True:
            yield None


class DataLoader:
    """Combines a dataset and a sampler and iterates over batches of the dataset."""

    _initialized = False

    def __init__(self, dataset: Dataset, batch_size: Optional[int] = 1,
                 shuffle: Optional[bool] = None, sampler: Optional[Iterable[Any]] = None,
                 batch_sampler: Optional[Iterable[list[Any]]] = None, num_workers: int = 0,
                 collate_fn: Optional[Callable[[list[Any]], Any]] = None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Optional[Callable[[int], None]] = None,
                 multiprocessing_context: Any = None, generator: Any = None, *,
                 prefetch_factor: Optional[int] = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; "
                             "use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing."
                "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor "
                "to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in {False, None}:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None:
            if self._iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._initialized = True

    def __setattr__(self, attr, val):
        if self._initialized and attr in ("batch_size", "batch_sampler", "sampler", "drop_last",
                                          "dataset", "persistent_workers"):
            raise ValueError(f"{attr} attribute should not be set after "
                             f"{self.__class__.__name__} is initialized")
        super().__setattr__(attr, val)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        if self._iterable:
            length = len(self.dataset)  # type: ignore[arg-type]
            if self.batch_size is not None:
                length = (length // self.batch_size if self.drop_last
                          else math.ceil(length / self.batch_size))
            return length
        return len(self._index_sampler)

    def __iter__(self) -> Iterator[Any]:
        if self._iterable:
            return self._iter_stream()
        if self.num_workers == 0:
            return self._iter_map()
        return self._iter_threads()

    # ---- map-style ----------------------------------------------------------------------
    def _fetch(self, index):
        if not self._auto_collation:
            return self.collate_fn(self.dataset[index])
        getitems = getattr(self.dataset, "__getitems__", None)
        data = getitems(index) if getitems else [self.dataset[i] for i in index]
        return self.collate_fn(data)

    def _iter_map(self):
        for index in self._index_sampler:
            yield self._fetch(index)

    def _iter_threads(self):
        counter = itertools.count()
        base_seed = id(self) & 0xFFFF

        def init_thread():
            wid = next(counter)
            _worker_local.info = WorkerInfo(wid, self.num_workers, base_seed + wid,
                                            self.dataset)
            if self.worker_init_fn is not None:
                self.worker_init_fn(wid)

        depth = max(1, self.prefetch_factor * self.num_workers)
        with concurrent.futures.ThreadPoolExecutor(self.num_workers,
                                                   thread_name_prefix="ember-loader",
                                                   initializer=init_thread) as pool:
            indices = iter(self._index_sampler)
            pending = [pool.submit(self._fetch, i) for i in itertools.islice(indices, depth)]
            try:
                while pending:
                    batch = pending.pop(0).result(timeout=self.timeout or None)
                    for i in itertools.islice(indices, 1):
                        pending.append(pool.submit(self._fetch, i))
                    yield batch
            finally:
                for f in pending:
                    f.cancel()

    # ---- iterable-style (always in this thread: a stream has one cursor) ---------------------
    def _iter_stream(self):
        stream = iter(self.dataset)
        if not self._auto_collation:
            for sample in stream:
                yield self.collate_fn(sample)
            return
        while True:
            batch = list(itertools.islice(stream, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield self.collate_fn(batch)

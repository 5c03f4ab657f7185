"""Ember's own thread pool (ember_tensor/_omp_pool.c) behind the kernels' OpenMP calls:
regions, dynamic loops, barriers, atomics, nested regions, concurrent callers, fork and the
thread count. Each kernel result is compared with NumPy in float64 (or exactly)."""
import multiprocessing
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import ember_tensor as et
from ember_tensor._kernels import nll_loss as k_nll
from ember_tensor._kernels import parallel

own_pool = pytest.mark.skipif(not parallel.own_pool(), reason="kernels run on libgomp")


@pytest.fixture
def two_threads():
    before = et.get_num_threads()
    et.set_num_threads(2)
    yield
    et.set_num_threads(before)


def _big_sum_matches():
    # a flat sum of 2e6 float32 (several slabs a thread), against float64
    x = np.random.default_rng(0).standard_normal(2_000_000).astype(np.float32)
    got = float(et.from_numpy(x).sum())
    return abs(got - float(x.astype(np.float64).sum())) < 1e-2


def test_dynamic_tasks_each_run_once(two_threads):
    # run_tasks is a dynamic loop of chunk 1 on the team, each task taking the GIL
    for n in (1, 2, 3, 17, 200):
        hits = [0] * n
        tasks = [lambda i=i: hits.__setitem__(i, hits[i] + 1) for i in range(n)]
        parallel.run_tasks(tasks, 2)
        assert hits == [1] * n


def test_tasks_run_on_the_team(two_threads):
    import time

    seen = set()

    def task():
        seen.add(threading.get_ident())
        time.sleep(0.01)   # releases the GIL: the other team thread takes the next task

    parallel.run_tasks([task] * 8, 2)
    assert len(seen) == 2


def test_task_error_reaches_the_caller(two_threads):
    def bad():
        raise ValueError("from a task")

    with pytest.raises(ValueError, match="from a task"):
        parallel.run_tasks([lambda: None, bad, lambda: None], 2)
    assert _big_sum_matches()   # the pool still works afterwards


def test_nested_regions_run_on_one_thread(two_threads):
    # a kernel's region inside a task's region runs on a team of one, and computes right
    results = []

    def task():
        results.append(_big_sum_matches())
        inner = [0] * 5
        parallel.run_tasks([lambda i=i: inner.__setitem__(i, 1) for i in range(5)], 2)
        results.append(inner == [1] * 5)

    parallel.run_tasks([task] * 4, 2)
    assert results == [True] * 8


def test_reductions_with_atomics(two_threads):
    # nll_loss's forward sums two doubles over a static loop: gcc combines the threads'
    # partial sums under GOMP_atomic_start/end
    rng = np.random.default_rng(1)
    N, C, L = 4, 3, 50_000
    lp = rng.standard_normal((N, C, L))
    t = rng.integers(0, C, size=(N, L)).astype(np.int64)
    for _ in range(20):
        total, wsum = k_nll.nll_forward(lp, t, None, -100)
        want = -np.take_along_axis(lp, t[:, None, :], axis=1).sum()
        assert total == pytest.approx(want, rel=1e-12)
        assert wsum == N * L


def test_many_regions_in_a_row(two_threads):
    # regions back to back (barriers, loops, the join), results exact
    a = np.arange(300_000, dtype=np.float32)
    x = et.from_numpy(a)
    for i in range(300):
        got = (x * float(i % 7)).numpy()
        np.testing.assert_array_equal(got, a * np.float32(i % 7))


def test_concurrent_callers(two_threads):
    # a region started while another thread holds the pool runs on a team of one
    errors = []

    def work():
        try:
            for _ in range(20):
                if not _big_sum_matches():
                    errors.append("wrong sum")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not any(th.is_alive() for th in threads)
    assert errors == []


def test_set_num_threads():
    before = et.get_num_threads()
    try:
        for n in (1, 2, 3):
            et.set_num_threads(n)
            assert et.get_num_threads() == n
            assert _big_sum_matches()
        with pytest.raises(RuntimeError):
            et.set_num_threads(0)
    finally:
        et.set_num_threads(before)


@pytest.mark.parametrize("value,expected", [("1", 1), ("3", 3), ("2,1", 2)])
def test_omp_num_threads_sets_the_start(value, expected):
    env = dict(os.environ, OMP_NUM_THREADS=value)
    out = subprocess.run([sys.executable, "-c",
                          "import ember_tensor as et; print(et.get_num_threads())"],
                         env=env, capture_output=True, text=True, check=True)
    assert int(out.stdout) == expected


def _child(queue):
    try:
        queue.put((et.get_num_threads(), _big_sum_matches()))
        et.set_num_threads(2)
        queue.put((et.get_num_threads(), _big_sum_matches()))
    except BaseException as exc:  # pragma: no cover - reported by the parent
        queue.put(repr(exc))


@own_pool
def test_fork_child_computes_on_one_then_two_threads(two_threads):
    assert _big_sum_matches()   # the parent's pool threads exist before the fork
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(queue,))
    proc.start()
    first, second = queue.get(timeout=120), queue.get(timeout=120)
    proc.join(timeout=60)
    assert proc.exitcode == 0
    assert first == (1, True)     # a forked child starts on one thread
    assert second == (2, True)    # and its own pool starts afresh on request
    assert _big_sum_matches()


@own_pool
def test_spin_budget_is_adjustable():
    before = parallel._spin_us()
    try:
        assert parallel._spin_us(0) == 0
        assert _big_sum_matches()   # sleeping at once still computes
        assert parallel._spin_us(50) == 50
    finally:
        parallel._spin_us(before)


@own_pool
def test_kernels_link_to_the_pool_not_libgomp():
    # every kernel that calls OpenMP found it in Ember's pool; no libgomp in the process
    out = subprocess.run(
        [sys.executable, "-c",
         "import ember_tensor as et, ember_tensor.nn, ember_tensor._team;"
         "x = et.arange(1_000_000, dtype=et.float32); float((x * x).sum());"
         "maps = open('/proc/self/maps').read();"
         "print('_omp_pool' in maps, 'libgomp' in maps)"],
        capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"]


@own_pool
@pytest.mark.torch
def test_torch_keeps_its_own_openmp():
    # torch's libgomp and Ember's pool in one process, each bound to its own symbols: the
    # two thread counts are independent, and both compute
    pytest.importorskip("torch")
    code = (
        "import torch, ember_tensor as et, numpy as np\n"
        "torch.set_num_threads(1); et.set_num_threads(2)\n"
        "assert et.get_num_threads() == 2 and torch.get_num_threads() == 1\n"
        "torch.set_num_threads(2); et.set_num_threads(1)\n"
        "assert et.get_num_threads() == 1 and torch.get_num_threads() == 2\n"
        "et.set_num_threads(2)\n"
        "x = np.random.default_rng(0).standard_normal(2_000_000).astype(np.float32)\n"
        "a = float(et.from_numpy(x).sum()); b = float(torch.from_numpy(x).sum())\n"
        "assert abs(a - b) < 1e-2, (a, b)\n"
        "import os; assert 'OMP_WAIT_POLICY' not in os.environ\n"
        "print('ok')\n")
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    for first in ("torch", "ember_tensor"):
        src = f"import {first}\n" + code
        out = subprocess.run([sys.executable, "-c", src], env=env, capture_output=True,
                             text=True)
        assert out.stdout.strip() == "ok", out.stderr

"""Thread safety: grad mode is per thread, and two models trained at once on two threads end
bit-identical to the same two trainings run one after the other."""
import threading

import numpy as np

import ember
import ember.nn as nn
import ember.nn.functional as F


def make_job(seed):
    """A model, optimizer and data fixed up front (all randomness drawn on this thread)."""
    ember.manual_seed(seed)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 5))
    opt = ember.optim.Adam(model.parameters(), lr=1e-2)
    x = ember.randn(8, 1, 8, 8)
    y = ember.randint(0, 5, (8,))
    return model, opt, x, y


def train(job, steps, barrier=None):
    model, opt, x, y = job
    for _ in range(steps):
        if barrier is not None:
            barrier.wait()  # lock-step, so the two threads' steps really interleave
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    return [p.detach().numpy().copy() for p in model.state_dict().values()]


def test_two_threads_training_match_sequential_runs_bit_for_bit():
    steps = 30
    sequential = [train(make_job(seed), steps) for seed in (1, 2)]
    jobs = [make_job(seed) for seed in (1, 2)]
    barrier = threading.Barrier(2, timeout=60)
    results = [None, None]
    errors = []

    def worker(k):
        try:
            results[k] = train(jobs[k], steps, barrier)
        except BaseException as exc:  # noqa: BLE001 - report it in the main thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    for got, want in zip(results, sequential):
        assert len(got) == len(want)
        for a, b in zip(got, want):
            assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
    assert sequential[0][0].tobytes() != sequential[1][0].tobytes()  # two different models


def test_grad_mode_is_per_thread():
    inside = threading.Event()
    release = threading.Event()
    seen = {}

    def no_grad_thread():
        with ember.no_grad():
            seen["other_enabled"] = ember.is_grad_enabled()
            inside.set()
            release.wait(10)

    th = threading.Thread(target=no_grad_thread)
    th.start()
    try:
        assert inside.wait(10)
        # the other thread is inside no_grad right now; this one still records graphs
        assert ember.is_grad_enabled()
        x = ember.ones(3, requires_grad=True)
        assert (x * 2).grad_fn is not None
    finally:
        release.set()
        th.join()
    assert seen["other_enabled"] is False
    assert ember.is_grad_enabled()


def test_set_grad_enabled_in_a_thread_does_not_leak_out():
    def off():
        ember.set_grad_enabled(False)
        seen.append(ember.is_grad_enabled())

    seen = []
    th = threading.Thread(target=off)
    th.start()
    th.join()
    assert seen == [False] and ember.is_grad_enabled()


def test_new_threads_start_with_grad_enabled_even_under_no_grad():
    seen = []
    with ember.no_grad():
        th = threading.Thread(target=lambda: seen.append(ember.is_grad_enabled()))
        th.start()
        th.join()
    assert seen == [True]


def test_concurrent_backward_on_separate_graphs():
    xs = [ember.from_numpy(np.full(1000, k, dtype=np.float32)).requires_grad_() for k in range(4)]
    errors = []

    def work(x):
        try:
            for _ in range(50):
                x.grad = None
                ((x * x).exp().log() * 0.5).sum().backward()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(x,)) for x in xs]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    for k, x in enumerate(xs):
        np.testing.assert_allclose(x.grad.numpy(), np.full(1000, k), rtol=1e-5)

"""Memory does not leak: training keeps RSS flat, graphs and saved tensors are freed on time.

RSS comes from /proc/self/statm (Linux); the graph tests use weak references, which hold on
every platform. Freeing is checked *without* calling gc.collect() first: a graph that needs
the cycle collector to go away would hold activations for an unpredictable time.
"""
import gc
import os
import weakref

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F

STATM = "/proc/self/statm"
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes():
    with open(STATM) as f:
        return int(f.read().split()[1]) * PAGE


def small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 4 * 4, 10))


def train(steps, on_step=None, seed=0):
    """Train the small CNN for ``steps`` steps; ``on_step(i)`` runs after each one."""
    ember.manual_seed(seed)
    model = small_cnn()
    opt = ember.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    x = ember.randn(16, 1, 8, 8)
    y = ember.randint(0, 10, (16,))
    losses = []
    for i in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if on_step is not None:
            on_step(i)
    return model, losses


def rss_growth(steps):
    """RSS after the last step minus RSS after step 10 (allocator warm-up done by then)."""
    marks = {}

    def on_step(i):
        if i == 9:
            gc.collect()
            marks["start"] = rss_bytes()
    _, losses = train(steps, on_step)
    gc.collect()
    return rss_bytes() - marks["start"], losses


needs_proc = pytest.mark.skipif(not os.path.exists(STATM), reason="needs /proc/self/statm")


@needs_proc
def test_1000_training_steps_keep_rss_flat():
    """~3 s, so the full 1,000 steps run in the default suite."""
    growth, losses = rss_growth(1000)
    assert np.isfinite(losses).all() and losses[-1] < losses[0]  # it did train
    assert growth < 5 * 2**20, f"RSS grew by {growth / 2**20:.1f} MB over 990 steps"


def test_graph_is_freed_when_its_output_goes_out_of_scope():
    x = ember.randn(64, requires_grad=True)
    y = ((x * 2).exp() + 1).sum()
    node = weakref.ref(y.grad_fn)
    inner = weakref.ref(y.grad_fn.next_functions[0][0])
    del y
    assert node() is None and inner() is None


def test_saved_tensors_are_freed_by_backward_without_retain_graph():
    x = ember.randn(1000, requires_grad=True)
    h = x * 2
    saved = weakref.ref(h._data._np)  # MulBackward0 of h * h saves h
    y = (h * h).sum()
    del h
    assert saved() is not None  # the graph keeps it for backward
    y.backward()
    assert saved() is None, "backward kept a saved tensor alive"
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 8 * x.detach().numpy(), rtol=1e-6)


def test_retain_graph_keeps_saved_tensors_until_the_graph_goes():
    x = ember.randn(100, requires_grad=True)
    h = x.exp()
    saved = weakref.ref(h._data._np)
    y = (h * h).sum()
    del h
    y.backward(retain_graph=True)
    assert saved() is not None
    y.backward()
    assert saved() is None
    del y


def test_forward_only_loops_do_not_accumulate_graphs():
    model = small_cnn()
    x = ember.randn(4, 1, 8, 8)
    nodes = []
    for _ in range(20):
        out = model(x)
        nodes.append(weakref.ref(out.grad_fn))
    del out
    assert all(ref() is None for ref in nodes)
    with ember.no_grad():
        assert model(x).grad_fn is None


def test_model_and_optimizer_are_freed_with_their_state():
    model, _ = train(3)
    refs = [weakref.ref(p._data._np) for p in model.parameters()]
    refs += [weakref.ref(p.grad._data._np) for p in model.parameters()]
    del model
    gc.collect()  # optimizer and parameters may form cycles (param_groups); gc clears them
    assert all(ref() is None for ref in refs)

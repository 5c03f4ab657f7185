"""Graphs that exercise every path of ``record`` and the backward engine; run as a script,
it writes their gradients (a pickled dict of name -> list of arrays) to the path in argv[1].

tests/autograd/test_core_reference.py runs it twice, once with the compiled core and once
with ``EMBER_PURE_PYTHON_CORE=1`` (the readable reference), and compares the results.
"""
import pickle
import sys

import numpy as np

import ember as torch
import ember.nn.functional as F
from ember import nn


def _leaf(*shape, seed=0):
    rng = np.random.default_rng(seed)
    return torch.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)


def tiny():
    a = torch.tensor([2.0, 3.0], requires_grad=True)
    b = torch.tensor([6.0, 4.0], requires_grad=True)
    (3 * a ** 3 - b ** 2).backward(gradient=torch.tensor([1.0, 1.0]))
    return [a.grad, b.grad]


def multi_output():
    x = _leaf(4, 6)
    values, indices = x.max(dim=1)
    p, q, r = x.split([1, 2, 3], dim=1)
    (values.sum() + (p * 2).sum() + (r ** 2).sum() + indices.float().sum()).backward()
    return [x.grad]


def views_and_inplace():
    x = _leaf(3, 4, seed=1)
    a = x * 1
    a[:, 1:].add_(1)  # an in-place op on a view rewrites the base's history
    t = a.t()
    v = a[:2]
    v.exp_()  # and regenerates the other live views (t) from it
    (a.sum() + (t * t).sum() + v.sum()).backward()
    return [x.grad]


def hooks():
    x = _leaf(5, seed=2)
    w = _leaf(5, seed=3)
    seen = []
    x.register_hook(lambda g: g * 2)
    y = x * w
    y.retain_grad()
    y.register_hook(lambda g: g + 1)
    z = y.sigmoid()
    z.grad_fn.register_hook(lambda gi, go: (gi[0] * 0.5,))
    z.grad_fn.register_prehook(lambda go: (go[0] * 3,))
    w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.clone()))
    z.sum().backward()
    return [x.grad, w.grad, y.grad, *seen]


def double_backward():
    x = _leaf(4, seed=4)
    y = (x ** 3).sin().sum()
    (g,) = torch.autograd.grad(y, x, create_graph=True)
    (g * g).sum().backward(retain_graph=True)
    (h,) = torch.autograd.grad(g.sum(), x)
    return [x.grad, g.detach(), h]


def retain_and_accumulate():
    x = _leaf(3, 3, seed=5)
    y = (x @ x).tanh().sum()
    y.backward(retain_graph=True)
    first = x.grad.clone()
    y.backward()  # accumulates into .grad through the retained graph
    (x * 2).sum().backward()
    return [first, x.grad]


def broadcast_and_capture():
    x = _leaf(3, 1, seed=6)
    b = _leaf(4, seed=7)
    y = _leaf(3, 4, seed=8).double()
    out = (x * b + y).relu().sum()
    gx, gb = torch.autograd.grad(out, (x, b), retain_graph=True)
    out.backward(inputs=[b])
    return [gx, gb, b.grad]


class _Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * x ** 2 * g


def custom_function():
    x = _leaf(6, seed=9)
    _Cube.apply(x).mean().backward()
    return [x.grad]


def cnn_step():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 4 * 4, 5))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = torch.tensor(np.random.default_rng(10).random((4, 3, 8, 8), dtype=np.float32))
    labels = torch.tensor([0, 1, 2, 3])
    for _ in range(2):
        opt.zero_grad()
        F.cross_entropy(model(x), labels).backward()
        opt.step()
    return [p.grad for p in model.parameters()] + [p.detach() for p in model.parameters()]


CASES = [tiny, multi_output, views_and_inplace, hooks, double_backward,
         retain_and_accumulate, broadcast_and_capture, custom_function, cnn_step]


def main(path):
    from ember.autograd import engine, node

    results = {"compiled": [type(node.record).__name__, type(engine._execute).__name__]}
    for case in CASES:
        results[case.__name__] = [np.array(t.detach().numpy()) for t in case()]
    with open(path, "wb") as f:
        pickle.dump(results, f)


if __name__ == "__main__":
    main(sys.argv[1])

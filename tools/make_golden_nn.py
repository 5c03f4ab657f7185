"""Write tests/tensor/golden/nn.npz: small inputs and torch's outputs/gradients for the nn kernels.

Run with torch installed: ``python tools/make_golden_nn.py``. The default test suite
(tests/tensor/test_nn_golden.py) replays these cases without torch.
"""
import json
import pathlib

import numpy as np
import torch
import torch.nn.functional as F

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "tensor" / "golden" / "nn.npz"
rng = np.random.default_rng(1234)
arrays = {}
cases = []


def rand(*shape):
    return rng.standard_normal(shape)


def record(kind, params, inputs, fn, n_grads):
    """Run ``fn`` on torch copies of ``inputs`` (float64); store outputs and the gradients of
    the first ``n_grads`` inputs for a random upstream gradient."""
    name = f"{kind}{len(cases)}"
    ts = [torch.tensor(a, requires_grad=i < n_grads) for i, a in enumerate(inputs)]
    outs = fn(*ts)
    outs = outs if isinstance(outs, tuple) else (outs,)
    go = rand(*outs[0].shape)
    if n_grads:
        outs[0].backward(torch.tensor(go))
    for i, a in enumerate(inputs):
        arrays[f"{name}_in{i}"] = a
    for i, o in enumerate(outs):
        arrays[f"{name}_out{i}"] = o.detach().numpy()
    arrays[f"{name}_go"] = go
    for i in range(n_grads):
        arrays[f"{name}_grad{i}"] = ts[i].grad.numpy()
    cases.append({"name": name, "kind": kind, "params": params, "n_in": len(inputs),
                  "n_out": len(outs), "n_grads": n_grads})


for xs, ws, p in [
    ((2, 3, 7, 6), (4, 3, 3, 3), dict(stride=1, padding=0, dilation=1, groups=1)),
    ((2, 4, 9, 8), (6, 2, 3, 2), dict(stride=[2, 1], padding=[1, 2], dilation=[2, 1], groups=2)),
    ((2, 4, 6, 6), (4, 1, 3, 3), dict(stride=2, padding=1, dilation=1, groups=4)),
    ((3, 5, 4, 4), (2, 5, 1, 1), dict(stride=1, padding=0, dilation=1, groups=1)),
    ((20, 3, 3, 3), (4, 3, 3, 3), dict(stride=1, padding=1, dilation=1, groups=1)),
]:
    record("conv", p, [rand(*xs), rand(*ws), rand(ws[0])], lambda x, w, b: F.conv2d(x, w, b, **p), 3)

for xs, p in [
    ((2, 3, 8, 7), dict(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)),
    ((1, 2, 5, 5), dict(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=True)),
    ((1, 2, 9, 9), dict(kernel_size=[3, 2], stride=[1, 2], padding=[1, 1], dilation=2,
                        ceil_mode=True)),
]:
    record("maxpool", p, [rand(*xs)], lambda x: F.max_pool2d(x, return_indices=True, **p), 1)

for xs, p in [
    ((2, 3, 8, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=False,
                        count_include_pad=True, divisor_override=None)),
    ((1, 2, 5, 5), dict(kernel_size=2, stride=2, padding=1, ceil_mode=True,
                        count_include_pad=False, divisor_override=None)),
    ((1, 2, 6, 5), dict(kernel_size=[3, 2], stride=1, padding=[1, 0], ceil_mode=False,
                        count_include_pad=True, divisor_override=5)),
]:
    record("avgpool", p, [rand(*xs)], lambda x: F.avg_pool2d(x, **p), 1)

for xs, size in [((2, 3, 7, 7), [1, 1]), ((1, 2, 7, 5), [3, 2]), ((1, 2, 3, 3), [5, 4])]:
    record("adaptive", {"output_size": size}, [rand(*xs)],
           lambda x: F.adaptive_avg_pool2d(x, size), 1)

for xs, training in [((4, 3, 5, 5), True), ((6, 4), True), ((2, 3, 4, 4), False)]:
    C = xs[1]
    rm, rv = rand(C), np.abs(rand(C)) + 0.5
    trm, trv = torch.tensor(rm), torch.tensor(rv)
    record("batchnorm", {"training": training, "momentum": 0.1, "eps": 1e-5,
                         "running_mean": rm.tolist(), "running_var": rv.tolist()},
           [rand(*xs), rand(C), rand(C)],
           lambda x, w, b: F.batch_norm(x, trm, trv, w, b, training=training, momentum=0.1,
                                        eps=1e-5), 3)
    arrays[f"{cases[-1]['name']}_rm"] = trm.numpy()
    arrays[f"{cases[-1]['name']}_rv"] = trv.numpy()

for xs, ns in [((3, 5), [5]), ((2, 3, 4), [3, 4])]:
    record("layernorm", {"normalized_shape": ns}, [rand(*xs), rand(*ns), rand(*ns)],
           lambda x, w, b: F.layer_norm(x, ns, w, b, 1e-5), 3)

for xs, dim in [((3, 5), 1), ((2, 3, 4), 0), ((2, 3, 4), -1)]:
    record("softmax", {"dim": dim}, [rand(*xs) * 3], lambda x: F.softmax(x, dim), 1)
    record("logsoftmax", {"dim": dim}, [rand(*xs) * 3], lambda x: F.log_softmax(x, dim), 1)

for xs, red, ign, weighted in [((5, 4), "mean", -100, False), ((5, 4), "sum", 1, True),
                               ((5, 4), "none", 2, False), ((2, 3, 4, 2), "mean", 0, True)]:
    C = xs[1]
    t = rng.integers(0, C, size=(xs[0],) + xs[2:])
    w = np.abs(rand(C)) if weighted else None
    record("nll", {"reduction": red, "ignore_index": ign, "target": t.tolist(),
                   "weight": None if w is None else w.tolist()}, [rand(*xs)],
           lambda x: F.nll_loss(x, torch.tensor(t), None if w is None else torch.tensor(w),
                                ignore_index=ign, reduction=red), 1)

for pad in (None, 1):
    idx = [[0, 4, 1], [1, 1, 3]]
    record("embedding", {"indices": idx, "padding_idx": pad}, [rand(5, 3)],
           lambda w: F.embedding(torch.tensor(idx), w, padding_idx=pad), 1)

arrays["cases"] = np.array(json.dumps(cases))
OUT.parent.mkdir(parents=True, exist_ok=True)
np.savez_compressed(OUT, **arrays)
print(f"wrote {len(cases)} cases to {OUT}")

"""Replay torch's outputs and gradients (tools/make_golden_nn.py) for every nn kernel."""
import json
import pathlib

import numpy as np
import pytest

from ember_tensor import Array
from ember_tensor import nn as enn

GOLDEN = np.load(pathlib.Path(__file__).parent / "golden" / "nn.npz")
CASES = json.loads(str(GOLDEN["cases"]))


def A(a):
    return Array(np.asarray(a))


def check(got, name, tol=1e-10):
    want = GOLDEN[name]
    got = got._np
    assert got.shape == want.shape, name
    assert got.dtype == want.dtype, name
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=name)


def run(case):
    n, p = case["name"], case["params"]
    ins = [GOLDEN[f"{n}_in{i}"] for i in range(case["n_in"])]
    go = A(GOLDEN[f"{n}_go"])
    kind = case["kind"]
    if kind == "conv":
        x, w, b = ins
        geo = (p["stride"], p["padding"], p["dilation"], p["groups"])
        check(enn.conv2d(A(x), A(w), A(b), *geo), f"{n}_out0")
        for i, g in enumerate(enn.conv2d_backward(go, A(x), A(w), *geo)):
            check(g, f"{n}_grad{i}")
    elif kind == "maxpool":
        out, idx = enn.max_pool2d_with_indices(A(ins[0]), p["kernel_size"], p["stride"],
                                               p["padding"], p["dilation"], p["ceil_mode"])
        check(out, f"{n}_out0")
        np.testing.assert_array_equal(idx._np, GOLDEN[f"{n}_out1"])
        check(enn.max_pool2d_backward(go, A(ins[0]), idx), f"{n}_grad0")
    elif kind == "avgpool":
        args = (p["kernel_size"], p["stride"], p["padding"], p["ceil_mode"],
                p["count_include_pad"], p["divisor_override"])
        check(enn.avg_pool2d(A(ins[0]), *args), f"{n}_out0")
        check(enn.avg_pool2d_backward(go, A(ins[0]), *args), f"{n}_grad0")
    elif kind == "adaptive":
        check(enn.adaptive_avg_pool2d(A(ins[0]), p["output_size"]), f"{n}_out0")
        check(enn.adaptive_avg_pool2d_backward(go, A(ins[0])), f"{n}_grad0")
    elif kind == "batchnorm":
        x, w, b = ins
        rm, rv = np.array(p["running_mean"]), np.array(p["running_var"])
        out, mean, invstd = enn.batch_norm(A(x), A(w), A(b), A(rm), A(rv), p["training"],
                                           p["momentum"], p["eps"])
        check(out, f"{n}_out0")
        np.testing.assert_allclose(rm, GOLDEN[f"{n}_rm"], rtol=1e-12)
        np.testing.assert_allclose(rv, GOLDEN[f"{n}_rv"], rtol=1e-12)
        grads = enn.batch_norm_backward(go, A(x), A(w), mean, invstd, p["training"])
        for i, g in enumerate(grads):
            check(g, f"{n}_grad{i}")
    elif kind == "layernorm":
        x, w, b = ins
        out, mean, rstd = enn.layer_norm(A(x), p["normalized_shape"], A(w), A(b), 1e-5)
        check(out, f"{n}_out0")
        grads = enn.layer_norm_backward(go, A(x), p["normalized_shape"], mean, rstd, A(w), A(b))
        for i, g in enumerate(grads):
            check(g, f"{n}_grad{i}")
    elif kind in ("softmax", "logsoftmax"):
        fwd, bwd = ((enn.softmax, enn.softmax_backward) if kind == "softmax"
                    else (enn.log_softmax, enn.log_softmax_backward))
        out = fwd(A(ins[0]), p["dim"])
        check(out, f"{n}_out0")
        check(bwd(go, out, p["dim"]), f"{n}_grad0")
    elif kind == "nll":
        t = A(np.array(p["target"], np.int64))
        w = None if p["weight"] is None else A(np.array(p["weight"]))
        loss, total = enn.nll_loss(A(ins[0]), t, w, p["reduction"], p["ignore_index"])
        check(loss, f"{n}_out0")
        check(enn.nll_loss_backward(go, A(ins[0]), t, w, p["reduction"], p["ignore_index"],
                                    total), f"{n}_grad0")
    elif kind == "embedding":
        idx = A(np.array(p["indices"], np.int64))
        check(enn.embedding(A(ins[0]), idx, p["padding_idx"]), f"{n}_out0")
        check(enn.embedding_backward(go, idx, ins[0].shape[0], p["padding_idx"]), f"{n}_grad0")
    else:
        raise AssertionError(f"unknown golden kind {kind}")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_golden(case):
    run(case)


def test_golden_covers_every_kernel():
    kinds = {c["kind"] for c in CASES}
    assert kinds >= {"conv", "maxpool", "avgpool", "adaptive", "batchnorm", "layernorm",
                     "softmax", "logsoftmax", "nll", "embedding"}

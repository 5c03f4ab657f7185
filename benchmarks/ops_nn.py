"""Batch-norm, max-pool and conv-backward cases for ``benchmarks/run.py`` on ResNet-18
shapes, float32: batch norm in training (statistics + normalise, then the three gradients)
and in eval, the stem's 3x3/2 max pool with its backward, and the input + weight gradients
of representative convolutions (``ops_conv.py`` times their forwards), each against torch's
native kernels."""
import numpy as np

# (label, N, C, H) for the batch-norm layers that dominate a ResNet-18 step
BN_SHAPES = [
    ("layer1", 8, 64, 56),
    ("stem", 16, 64, 112),
    ("layer3", 16, 256, 14),
]
POOL_SHAPES = [(1, 64, 32), (16, 64, 112)]
# (label, N, in, out, kernel, stride, padding, side): a 64 px step and a 16x224 step
CONV_BACKWARD = [
    ("conv1 (weights only)", 1, 3, 64, 7, 2, 3, 64),
    ("layer1 3x3", 1, 64, 64, 3, 1, 1, 16),
    ("layer4 3x3", 1, 512, 512, 3, 1, 1, 2),
    ("conv1 (weights only)", 16, 3, 64, 7, 2, 3, 224),
    ("layer1 3x3", 16, 64, 64, 3, 1, 1, 56),
    ("layer3 3x3", 16, 256, 256, 3, 1, 1, 14),
    ("layer4 3x3", 16, 512, 512, 3, 1, 1, 7),
    ("layer3.0 downsample 1x1 s2", 16, 128, 256, 1, 2, 0, 28),
]


def _bn_cases(torch, rng):
    from ember_tensor import from_numpy
    from ember_tensor.nn import batch_norm, batch_norm_backward

    out = []
    for label, n, c, h in BN_SHAPES:
        x = rng.standard_normal((n, c, h, h), dtype=np.float32)
        go = rng.standard_normal((n, c, h, h), dtype=np.float32)
        w = rng.random(c, dtype=np.float32) + 0.5
        b = rng.standard_normal(c, dtype=np.float32)
        ex, ego, ew, eb = (from_numpy(a.copy()) for a in (x, go, w, b))
        erm, erv = from_numpy(np.zeros(c, np.float32)), from_numpy(np.ones(c, np.float32))
        tx, tgo, tw, tb = (torch.from_numpy(a.copy()) for a in (x, go, w, b))
        trm, trv = torch.zeros(c), torch.ones(c)
        shape = f"{n}x{c}x{h}x{h}"

        def e_train(ex=ex, ego=ego, ew=ew, eb=eb, erm=erm, erv=erv):
            _, mean, invstd = batch_norm(ex, ew, eb, erm, erv, True, 0.1, 1e-5)
            batch_norm_backward(ego, ex, ew, mean, invstd, True)

        def t_train(tx=tx, tgo=tgo, tw=tw, tb=tb, trm=trm, trv=trv):
            _, mean, invstd = torch.native_batch_norm(tx, tw, tb, trm, trv, True, 0.1, 1e-5)
            torch.ops.aten.native_batch_norm_backward(
                tgo, tx, tw, trm, trv, mean, invstd, True, 1e-5, [True, True, True])

        def e_eval(ex=ex, ew=ew, eb=eb, erm=erm, erv=erv):
            batch_norm(ex, ew, eb, erm, erv, False, 0.1, 1e-5)

        def t_eval(tx=tx, tw=tw, tb=tb, trm=trm, trv=trv):
            torch.native_batch_norm(tx, tw, tb, trm, trv, False, 0.1, 1e-5)

        def e_eval_bwd(ex=ex, ego=ego, ew=ew, erm=erm, erv=erv):
            _, mean, invstd = batch_norm(ex, ew, None, erm, erv, False, 0.1, 1e-5)
            batch_norm_backward(ego, ex, ew, mean, invstd, False)

        def t_eval_bwd(tx=tx, tgo=tgo, tw=tw, trm=trm, trv=trv):
            _, mean, invstd = torch.native_batch_norm(tx, tw, None, trm, trv, False, 0.1, 1e-5)
            torch.ops.aten.native_batch_norm_backward(
                tgo, tx, tw, trm, trv, mean, invstd, False, 1e-5, [True, True, True])

        out.append({"name": f"batch_norm train fwd+bwd {label} {shape}", "ember": e_train,
                    "torch": t_train, "repeat": 9})
        out.append({"name": f"batch_norm eval fwd {label} {shape}", "ember": e_eval,
                    "torch": t_eval, "repeat": 9})
        out.append({"name": f"batch_norm eval fwd+bwd {label} {shape}", "ember": e_eval_bwd,
                    "torch": t_eval_bwd, "repeat": 9})
    return out


def _pool_cases(torch, rng):
    from ember_tensor import from_numpy
    from ember_tensor.nn import max_pool2d_backward, max_pool2d_with_indices

    out = []
    for n, c, h in POOL_SHAPES:
        x = rng.standard_normal((n, c, h, h), dtype=np.float32)
        ex, tx = from_numpy(x.copy()), torch.from_numpy(x.copy())
        eo, eidx = max_pool2d_with_indices(ex, 3, 2, 1)
        to, tidx = torch.nn.functional.max_pool2d(tx, 3, 2, 1, return_indices=True)
        g = rng.standard_normal(tuple(to.shape), dtype=np.float32)
        eg, tg = from_numpy(g.copy()), torch.from_numpy(g.copy())
        shape = f"{n}x{c}x{h}x{h}"
        out.append({
            "name": f"max_pool2d 3x3/2 pad 1 fwd {shape}",
            "ember": lambda ex=ex: max_pool2d_with_indices(ex, 3, 2, 1),
            "torch": lambda tx=tx: torch.nn.functional.max_pool2d(tx, 3, 2, 1,
                                                                  return_indices=True),
            "repeat": 9,
        })
        out.append({
            "name": f"max_pool2d 3x3/2 pad 1 bwd {shape}",
            "ember": lambda eg=eg, ex=ex, eidx=eidx: max_pool2d_backward(eg, ex, eidx),
            "torch": lambda tg=tg, tx=tx, tidx=tidx: (
                torch.ops.aten.max_pool2d_with_indices_backward(
                    tg, tx, [3, 3], [2, 2], [1, 1], [1, 1], False, tidx)),
            "repeat": 9,
        })
    return out


def _conv_backward_cases(torch, rng):
    from ember_tensor import from_numpy
    from ember_tensor.nn import conv2d_backward

    out = []
    for label, n, cin, cout, k, s, p, side in CONV_BACKWARD:
        oside = (side + 2 * p - k) // s + 1
        x = rng.standard_normal((n, cin, side, side), dtype=np.float32)
        w = rng.standard_normal((cout, cin, k, k), dtype=np.float32) * 0.05
        g = rng.standard_normal((n, cout, oside, oside), dtype=np.float32)
        ex, ew, eg = (from_numpy(a.copy()) for a in (x, w, g))
        tx, tw, tg = (torch.from_numpy(a.copy()) for a in (x, w, g))
        # the stem's input is the image: nobody asks for its gradient
        mask = (not label.startswith("conv1"), True, False)
        macs = n * cout * oside * oside * cin * k * k
        out.append({
            "name": f"conv2d backward {label} N={n} {cin}x{side}x{side}",
            "ember": lambda eg=eg, ex=ex, ew=ew, s=s, p=p, mask=mask: conv2d_backward(
                eg, ex, ew, s, p, 1, 1, mask),
            "torch": lambda tg=tg, tx=tx, tw=tw, s=s, p=p, mask=mask:
                torch.ops.aten.convolution_backward(tg, tx, tw, None, [s, s], [p, p], [1, 1],
                                                    False, [0, 0], 1, list(mask)),
            "flops": 2.0 * macs * sum(mask),
            "repeat": 7 if n == 1 else 3,
        })
    return out


def cases():
    import torch

    rng = np.random.default_rng(0)
    return _bn_cases(torch, rng) + _pool_cases(torch, rng) + _conv_backward_cases(torch, rng)

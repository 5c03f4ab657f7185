"""Batch-norm, max-pool, conv-backward and softmax cases for ``benchmarks/run.py``, float32:
on ResNet-18 shapes, batch norm in training (statistics + normalise, then the three
gradients) and in eval, the stem's 3x3/2 max pool with its backward, and the input + weight
gradients of representative convolutions (``ops_conv.py`` times their forwards), one
framework at a time (torch through its native kernels); softmax over rows and over columns
through what users call, ``lib.softmax`` on the framework's Tensors."""
import numpy as np
from frameworks import module

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


class _Ember:
    """The kernel calls of one case, on Ember."""

    def __init__(self):
        self.wrap = module("ember", "kernels").from_numpy
        self.nn = module("ember", "nn_kernels")

    def zeros(self, c):
        return self.wrap(np.zeros(c, np.float32))

    def ones(self, c):
        return self.wrap(np.ones(c, np.float32))

    def bn(self, x, w, b, rm, rv, training):
        _, mean, invstd = self.nn.batch_norm(x, w, b, rm, rv, training, 0.1, 1e-5)
        return mean, invstd

    def bn_backward(self, go, x, w, rm, rv, mean, invstd, training):
        self.nn.batch_norm_backward(go, x, w, mean, invstd, training)

    def max_pool(self, x):
        return self.nn.max_pool2d_with_indices(x, 3, 2, 1)

    def max_pool_backward(self, g, x, idx):
        self.nn.max_pool2d_backward(g, x, idx)

    def conv_backward(self, g, x, w, s, p, mask):
        self.nn.conv2d_backward(g, x, w, s, p, 1, 1, mask)


class _Torch:
    """The same calls on torch's native kernels."""

    def __init__(self):
        torch = module("torch", "fw")
        self.torch, self.wrap = torch, torch.from_numpy

    def zeros(self, c):
        return self.torch.zeros(c)

    def ones(self, c):
        return self.torch.ones(c)

    def bn(self, x, w, b, rm, rv, training):
        _, mean, invstd = self.torch.native_batch_norm(x, w, b, rm, rv, training, 0.1, 1e-5)
        return mean, invstd

    def bn_backward(self, go, x, w, rm, rv, mean, invstd, training):
        self.torch.ops.aten.native_batch_norm_backward(
            go, x, w, rm, rv, mean, invstd, training, 1e-5, [True, True, True])

    def max_pool(self, x):
        return self.torch.nn.functional.max_pool2d(x, 3, 2, 1, return_indices=True)

    def max_pool_backward(self, g, x, idx):
        self.torch.ops.aten.max_pool2d_with_indices_backward(
            g, x, [3, 3], [2, 2], [1, 1], [1, 1], False, idx)

    def conv_backward(self, g, x, w, s, p, mask):
        self.torch.ops.aten.convolution_backward(g, x, w, None, [s, s], [p, p], [1, 1], False,
                                                 [0, 0], 1, list(mask))


def _bn_cases(k, rng):
    out = []
    for label, n, c, h in BN_SHAPES:
        x = k.wrap(rng.standard_normal((n, c, h, h), dtype=np.float32))
        go = k.wrap(rng.standard_normal((n, c, h, h), dtype=np.float32))
        w = k.wrap(rng.random(c, dtype=np.float32) + 0.5)
        b = k.wrap(rng.standard_normal(c, dtype=np.float32))
        rm, rv = k.zeros(c), k.ones(c)
        shape = f"{n}x{c}x{h}x{h}"

        def train(x=x, go=go, w=w, b=b, rm=rm, rv=rv):
            k.bn_backward(go, x, w, rm, rv, *k.bn(x, w, b, rm, rv, True), True)

        def evaluate(x=x, w=w, b=b, rm=rm, rv=rv):
            k.bn(x, w, b, rm, rv, False)

        def eval_bwd(x=x, go=go, w=w, rm=rm, rv=rv):
            k.bn_backward(go, x, w, rm, rv, *k.bn(x, w, None, rm, rv, False), False)

        out.append({"name": f"batch_norm train fwd+bwd {label} {shape}", "fn": train,
                    "repeat": 9})
        out.append({"name": f"batch_norm eval fwd {label} {shape}", "fn": evaluate,
                    "repeat": 9})
        out.append({"name": f"batch_norm eval fwd+bwd {label} {shape}", "fn": eval_bwd,
                    "repeat": 9})
    return out


def _pool_cases(k, rng):
    out = []
    for n, c, h in POOL_SHAPES:
        x = k.wrap(rng.standard_normal((n, c, h, h), dtype=np.float32))
        _, idx = k.max_pool(x)
        oh = (h + 2 - 3) // 2 + 1
        g = k.wrap(rng.standard_normal((n, c, oh, oh), dtype=np.float32))
        shape = f"{n}x{c}x{h}x{h}"
        out.append({"name": f"max_pool2d 3x3/2 pad 1 fwd {shape}",
                    "fn": lambda x=x: k.max_pool(x), "repeat": 9})
        out.append({"name": f"max_pool2d 3x3/2 pad 1 bwd {shape}",
                    "fn": lambda g=g, x=x, idx=idx: k.max_pool_backward(g, x, idx),
                    "repeat": 9})
    return out


def _conv_backward_cases(k, rng):
    out = []
    for label, n, cin, cout, ksize, s, p, side in CONV_BACKWARD:
        oside = (side + 2 * p - ksize) // s + 1
        x = k.wrap(rng.standard_normal((n, cin, side, side), dtype=np.float32))
        w = k.wrap(rng.standard_normal((cout, cin, ksize, ksize), dtype=np.float32) * 0.05)
        g = k.wrap(rng.standard_normal((n, cout, oside, oside), dtype=np.float32))
        # the stem's input is the image: nobody asks for its gradient
        mask = (not label.startswith("conv1"), True, False)
        macs = n * cout * oside * oside * cin * ksize * ksize
        out.append({
            "name": f"conv2d backward {label} N={n} {cin}x{side}x{side}",
            "fn": lambda g=g, x=x, w=w, s=s, p=p, mask=mask: k.conv_backward(g, x, w, s, p, mask),
            "flops": 2.0 * macs * sum(mask),
            "repeat": 7 if n == 1 else 3,
        })
    return out


def _softmax_cases(lib, rng):
    mod = __import__(lib)
    out = []
    for shape, dim in (((1000, 1000), 1), ((1000, 1000), 0), ((64, 1000), 1)):
        x = mod.from_numpy(rng.standard_normal(shape, dtype=np.float32))
        label = "x".join(map(str, shape))
        out.append({"name": f"softmax dim={dim} {label} f32",
                    "fn": lambda x=x, dim=dim: mod.softmax(x, dim), "flops": float(x.numel())})
    return out


def cases(lib):
    k = _Ember() if lib == "ember" else _Torch()
    rng = np.random.default_rng(0)
    return (_bn_cases(k, rng) + _pool_cases(k, rng) + _conv_backward_cases(k, rng)
            + _softmax_cases(lib, rng))

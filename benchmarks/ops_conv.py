"""conv2d forward cases for ``benchmarks/run.py``: every distinct ResNet-18 convolution shape,
at batch 1 on a 64x64 and on a 224x224 image (one image's convolution split across threads)
and at batch 16 on 224x224, float32, one framework at a time."""
import time

import numpy as np
from frameworks import module

# (name, in_channels, out_channels, kernel, stride, padding, input side at 224)
RESNET18_CONVS = [
    ("conv1", 3, 64, 7, 2, 3, 224),
    ("layer1 3x3", 64, 64, 3, 1, 1, 56),
    ("layer2.0 3x3 s2", 64, 128, 3, 2, 1, 56),
    ("layer2 3x3", 128, 128, 3, 1, 1, 28),
    ("layer2.0 downsample 1x1 s2", 64, 128, 1, 2, 0, 56),
    ("layer3.0 3x3 s2", 128, 256, 3, 2, 1, 28),
    ("layer3 3x3", 256, 256, 3, 1, 1, 14),
    ("layer3.0 downsample 1x1 s2", 128, 256, 1, 2, 0, 28),
    ("layer4.0 3x3 s2", 256, 512, 3, 2, 1, 14),
    ("layer4 3x3", 512, 512, 3, 1, 1, 7),
    ("layer4.0 downsample 1x1 s2", 256, 512, 1, 2, 0, 14),
]


def _flops(n, cin, cout, k, s, p, side):
    out = (side + 2 * p - k) // s + 1
    return 2.0 * n * cout * out * out * cin * k * k


def _ops(lib):
    return module(lib, "kernels").from_numpy, module(lib, "nn_kernels").conv2d


def cases(lib):
    wrap, conv2d = _ops(lib)
    rng = np.random.default_rng(0)
    out = []
    for batch, image in ((1, 64), (1, 224), (16, 224)):
        for name, cin, cout, k, s, p, side224 in RESNET18_CONVS:
            side = side224 * image // 224
            x = wrap(rng.standard_normal((batch, cin, side, side), dtype=np.float32))
            w = wrap(rng.standard_normal((cout, cin, k, k), dtype=np.float32) * 0.05)
            out.append({
                "name": f"conv2d {name} N={batch} {cin}x{side}x{side}",
                "fn": lambda x=x, w=w, s=s, p=p: conv2d(x, w, None, s, p),
                "flops": _flops(batch, cin, cout, k, s, p, side),
                "repeat": 7 if batch == 1 else 3,
            })
    return out


def sgemm_gflops(n=2048, repeat=5):
    """NumPy's float32 GEMM rate on an n^3 product: the ceiling an im2col conv can reach."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    c = np.empty((n, n), np.float32)
    np.matmul(a, b, out=c)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        np.matmul(a, b, out=c)
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n ** 3 / best / 1e9

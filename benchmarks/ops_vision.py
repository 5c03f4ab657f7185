"""Cases for ``benchmarks/run.py``: the ops MobileNet/EfficientNet/AlexNet add beyond
ResNet's, float32 through each framework's public autograd API (``F.conv2d`` with
groups == channels, ``F.adaptive_*_pool2d``, ``F.hardswish``): depthwise 3x3 convolutions
at MobileNetV2 shapes (forward, and forward + both gradients), adaptive pooling to a size
that does not divide the input (AlexNet's 6x6) and to 1x1, hardswish forward and backward."""
import numpy as np

# (N, C, side, kernel, stride): MobileNetV2's early depthwise layers, EfficientNet's 5x5
DEPTHWISE = [(8, 32, 112, 3, 1), (8, 96, 112, 3, 2), (8, 96, 56, 3, 1), (8, 144, 56, 3, 2),
             (8, 240, 28, 5, 1)]
ADAPTIVE = [(8, 256, 13, 6), (8, 1280, 7, 1)]
HARDSWISH = (8, 16, 112, 112)


def _lib(lib):
    mod = __import__(lib)
    return mod, mod.nn.functional


def _grad(T, out, inputs, g):
    return T.autograd.grad(out, inputs, g)


def cases(lib):
    T, F = _lib(lib)
    rng = np.random.default_rng(0)

    def tensor(shape, grad=False):
        t = T.tensor(rng.standard_normal(shape, dtype=np.float32))
        return t.requires_grad_(True) if grad else t

    out = []
    for n, c, h, k, s in DEPTHWISE:
        x, w = tensor((n, c, h, h), True), tensor((c, 1, k, k), True)
        p = k // 2
        y = F.conv2d(x, w, None, s, p, 1, c)
        g = tensor(tuple(y.shape))
        shape = f"{n}x{c}x{h}x{h} {k}x{k}/{s}"
        with T.no_grad():
            out.append({"name": f"depthwise conv fwd {shape}",
                        "fn": lambda x=x, w=w, s=s, p=p, c=c: F.conv2d(x, w, None, s, p, 1, c),
                        "budget": 2.0})
        out.append({"name": f"depthwise conv fwd+bwd {shape}",
                    "fn": lambda x=x, w=w, s=s, p=p, c=c, g=g: _grad(
                        T, F.conv2d(x, w, None, s, p, 1, c), (x, w), g), "budget": 2.0})
    for n, c, h, o in ADAPTIVE:
        x = tensor((n, c, h, h), True)
        g = tensor((n, c, o, o))
        shape = f"{n}x{c}x{h}x{h} -> {o}x{o}"
        out.append({"name": f"adaptive_avg_pool2d fwd+bwd {shape}",
                    "fn": lambda x=x, o=o, g=g: _grad(T, F.adaptive_avg_pool2d(x, o), (x,), g)})
        out.append({"name": f"adaptive_max_pool2d fwd+bwd {shape}",
                    "fn": lambda x=x, o=o, g=g: _grad(T, F.adaptive_max_pool2d(x, o), (x,), g)})
    x = tensor(HARDSWISH, True)
    g = tensor(HARDSWISH)
    shape = "x".join(str(d) for d in HARDSWISH)
    with T.no_grad():
        out.append({"name": f"hardswish fwd {shape}", "fn": lambda: F.hardswish(x)})
    out.append({"name": f"hardswish fwd+bwd {shape}",
                "fn": lambda: _grad(T, F.hardswish(x), (x,), g)})
    return out

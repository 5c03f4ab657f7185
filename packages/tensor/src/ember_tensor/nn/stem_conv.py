"""Convolutions of inputs with few channels (an image's RGB planes: ResNet's 7x7/2 stem) on
the direct kernels of ``_kernels/stem_conv.pyx``: im2col + GEMM spends its time there on a
GEMM whose inner dimension is only C*kh*kw (147 for the stem), far below BLAS's peak.

``conv.py`` checks the arguments in torch's words and routes the forward and the weight
gradient here when ``fits`` says so; the input gradient (which the stem never needs: its
input is the image) stays on im2col's path.
"""
import numpy as np

from .._kernels import stem_conv as _k
from .._kernels.parallel import get_num_threads

# Input channels up to which the direct kernels take a convolution (RGB, RGBA, grey).
_MAX_CHANNELS = 4
# Taps per output (C*kh*kw) from which they do: below it (1x1s on few channels) the output
# is a handful of multiply-adds a pixel and the existing paths' copies cost about the same.
_MIN_TAPS = 9
# ---- Threads. A convolution of this many multiply-adds or more runs on every thread of the
# team (forward: bands of output rows; weight gradient: blocks of taps); below it, on the
# calling thread. The split changes no bits. Tuned by 2-thread A/B on a quiet machine; the
# stem at 64 px is 9.6M multiply-adds (~250 us on one thread).
_FORWARD_SPLIT_MACS = 2_000_000
_GRAD_WEIGHT_SPLIT_MACS = 2_000_000


def fits(g, dtype) -> bool:
    """Whether a convolution's ``_Geometry`` goes to the direct kernels: one group, few input
    channels, enough taps, a float dtype, and a kernel copy with FMA (AVX2 and up)."""
    return (_k.FASTER_THAN_BLAS and g.G == 1 and g.C <= _MAX_CHANNELS
            and g.C * g.kh * g.kw >= _MIN_TAPS and dtype in (np.float32, np.float64))


def _threads(g, limit: int) -> int:
    return get_num_threads() if g.macs >= limit else 1


def forward(xa: np.ndarray, wa: np.ndarray, ba, g) -> np.ndarray:
    """The (N, Cout, OH, OW) output, bias included; ``xa``/``wa``/``ba`` contiguous, of one
    float dtype."""
    out = np.empty((g.N, g.Cout, g.OH, g.OW), xa.dtype)
    _k.forward(xa, wa, ba, out, g.args[:8], _threads(g, _FORWARD_SPLIT_MACS))
    return out


def grad_weight(go: np.ndarray, xa: np.ndarray, gw: np.ndarray, g) -> None:
    """Overwrites ``gw`` (Cout, C, kh, kw) with the weight gradient."""
    _k.grad_weight(go, xa, gw, g.args[:8], _threads(g, _GRAD_WEIGHT_SPLIT_MACS))

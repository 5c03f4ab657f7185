"""Depthwise convolution (``groups`` == input channels, one input channel per group) on the
direct kernels of ``_kernels/depthwise.pyx``: MobileNet's and EfficientNet's 3x3 / 5x5
layers, where im2col + GEMM spends its time copying columns for GEMMs of one row.

``conv.py`` checks the arguments in torch's words and routes here when ``fits`` says so;
the depth multiplier (output channels a multiple of the input's) is handled here too.
"""
import numpy as np

from .._kernels import depthwise as _k


def fits(g) -> bool:
    """Whether a convolution's ``_Geometry`` is depthwise (one input channel per group)."""
    return g.G > 1 and g.G == g.C and g.Cg == 1


def forward(xa: np.ndarray, wa: np.ndarray, ba, g) -> np.ndarray:
    """The (N, Cout, OH, OW) output; ``xa``/``wa``/``ba`` contiguous, of one float dtype."""
    out = np.empty((g.N, g.Cout, g.OH, g.OW), xa.dtype)
    _k.forward(xa, wa, ba, out, g.args[:8])
    return out


def grad_input(go: np.ndarray, wa: np.ndarray, g) -> np.ndarray:
    gx = np.empty((g.N, g.C, g.H, g.W), go.dtype)
    _k.grad_input(go, wa, gx, g.args[:8])
    return gx


def grad_weight(go: np.ndarray, xa: np.ndarray, g) -> np.ndarray:
    gw = np.empty((g.Cout, 1, g.kh, g.kw), go.dtype)
    _k.grad_weight(go, xa, gw, g.args[:8])
    return gw

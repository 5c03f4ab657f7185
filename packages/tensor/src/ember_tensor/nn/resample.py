"""Nearest and (bi)linear resampling over the last one or two axes (``F.interpolate``'s
``nearest``, ``linear`` and ``bilinear`` modes) and their backwards.

Source positions follow torch's rules to the letter, in the input's float type (float32
arithmetic for float32, as torch's kernels compute them):

* nearest: ``src = min(floor(dst * scale), in - 1)`` with ``scale = 1 / scale_factor`` when a
  scale factor was given, else ``in / out``; same size and exact doubling are shortcuts.
  nearest-exact samples pixel centres: ``floor((dst + 0.5) * scale)``.
* linear: with ``align_corners`` ``src = dst * (in - 1) / (out - 1)``; without, the area
  rule ``src = (dst + 0.5) * scale - 0.5`` clamped at 0. The two taps are ``floor(src)`` and
  the next (or the same at the last input), weighted ``1 - frac`` and ``frac``.

The forward gathers (the width taps first, then the height's, torch's order of operations);
the backward multiplies by the transposed interpolation matrices, one small GEMM per axis.
"""
import math

import numpy as np

from ._util import nd, scalar_name, wrap


def _scale(in_size, out_size, factor, dtype):
    """torch's ``compute_scales_value``: 1 / the given factor, else in / out."""
    if factor is not None and factor > 0:
        return dtype.type(1.0 / factor)
    return dtype.type(in_size) / dtype.type(out_size)


def nearest_indices(in_size: int, out_size: int, factor, exact: bool = False) -> np.ndarray:
    """The input index each output position copies: torch's ``nearest_idx``, or with
    ``exact`` its ``nearest-exact`` rule (pixel centres: ``floor((dst + 0.5) * scale)``)."""
    dst = np.arange(out_size)
    if out_size == in_size:
        return dst
    if out_size == 2 * in_size and not exact:
        return dst >> 1
    dt = np.dtype(np.float32)  # torch computes nearest indices in float for every dtype
    pos = dst.astype(dt) + dt.type(0.5) if exact else dst.astype(dt)
    src = np.floor(pos * _scale(in_size, out_size, factor, dt)).astype(np.int64)
    return np.minimum(src, in_size - 1)


def linear_taps(in_size: int, out_size: int, align_corners: bool, factor, dtype):
    """``(i0, i1, w0, w1)``: each output's two input taps and their weights."""
    dt = np.dtype(dtype)
    dst = np.arange(out_size).astype(dt)
    if align_corners:
        scale = dt.type(in_size - 1) / dt.type(out_size - 1) if out_size > 1 else dt.type(0)
        src = dst * scale
    else:
        scale = _scale(in_size, out_size, factor, dt)
        src = np.maximum(scale * (dst + dt.type(0.5)) - dt.type(0.5), dt.type(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    w1 = np.clip(src - i0.astype(dt), 0, 1).astype(dt)
    i1 = i0 + (i0 < in_size - 1)
    return i0, i1, (dt.type(1) - w1).astype(dt), w1


def _matrix(out_size, in_size, taps, dtype):
    """The (out, in) matrix whose rows hold each output's weights on its inputs."""
    m = np.zeros((out_size, in_size), dtype)
    rows = np.arange(out_size)
    if len(taps) == 1:  # nearest
        m[rows, taps[0]] = 1
    else:
        i0, i1, w0, w1 = taps
        np.add.at(m, (rows, i0), w0)
        np.add.at(m, (rows, i1), w1)
    return m


def _check(xa, out_sizes, mode):
    dims = len(out_sizes)
    nearest = mode in ("nearest", "nearest-exact")
    if xa.dtype not in (np.float32, np.float64) and not (nearest and xa.dtype == np.uint8):
        # the names of the torch kernels that refuse it
        kind = "nearest" if nearest else "linear"
        kernel = (f"upsample_{'nearest' if nearest else 'bilinear'}2d_channels_last"
                  if dims == 2 else f"compute_indices_weights_{kind}")
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{scalar_name(xa.dtype)}'")
    ins = xa.shape[-dims:]
    if min(ins) <= 0 or min(out_sizes) <= 0:
        names = ("W",) if dims == 1 else ("H", "W")
        fmt = ", ".join(f"{n}: {s}" for n, s in zip(names, ins))
        ofmt = ", ".join(f"{n}: {s}" for n, s in zip(names, out_sizes))
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({fmt}) output ({ofmt})")


def _taps(in_size, out_size, mode, align_corners, factor, dtype):
    if mode in ("nearest", "nearest-exact"):
        return (nearest_indices(in_size, out_size, factor, mode == "nearest-exact"),)
    return linear_taps(in_size, out_size, align_corners, factor, dtype)


def upsample(x, out_sizes, mode="nearest", align_corners=False, factors=None):
    """Resample the last ``len(out_sizes)`` (1 or 2) axes of ``x`` to ``out_sizes``
    (``mode`` nearest, nearest-exact or linear);
    ``factors`` are the user's scale factors (or None), which set the scale as torch's."""
    xa = nd(x)
    out_sizes = tuple(int(s) for s in out_sizes)
    _check(xa, out_sizes, mode)
    factors = factors or (None,) * len(out_sizes)
    work = xa.dtype if xa.dtype != np.uint8 else np.float32
    out = xa
    # the last axis first: torch sums the width taps inside the height's
    for axis, out_size, factor in reversed(list(zip(range(-len(out_sizes), 0), out_sizes,
                                                    factors))):
        taps = _taps(out.shape[axis], out_size, mode, align_corners, factor, work)
        if len(taps) == 1:  # a nearest mode
            out = np.take(out, taps[0], axis=axis)
        else:
            i0, i1, w0, w1 = taps
            shape = (-1,) + (1,) * (-axis - 1)
            out = (np.take(out, i0, axis=axis) * w0.reshape(shape)
                   + np.take(out, i1, axis=axis) * w1.reshape(shape))
    return wrap(np.ascontiguousarray(out))


def upsample_backward(grad, in_shape, dims, mode="nearest", align_corners=False,
                      factors=None):
    """The gradient of ``upsample`` over the last ``dims`` axes for an input of
    ``in_shape``: each output's gradient spread over the inputs it read, with the forward's
    weights."""
    g = nd(grad)
    factors = factors or (None,) * dims
    out = g
    for axis, factor in zip(range(-dims, 0), factors):
        in_size, out_size = in_shape[axis], g.shape[axis]
        m = _matrix(out_size, in_size, _taps(in_size, out_size, mode, align_corners, factor,
                                             g.dtype), g.dtype)
        moved = np.moveaxis(out, axis, -1)
        out = np.moveaxis(moved @ m, -1, axis)
    return wrap(np.ascontiguousarray(out))


def output_size(in_sizes, scale_factors):
    """torch's output size from scale factors: ``floor(in * factor)`` in double."""
    return [int(math.floor(float(s) * f)) for s, f in zip(in_sizes, scale_factors)]

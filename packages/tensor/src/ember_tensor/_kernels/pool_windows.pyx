"""The argument checks max pooling (``max_pool``) and average pooling (``avg_pool``) share;
the window geometry they share is ``pool_windows.pxd``'s.

The Python side (``ember_tensor.nn.pooling``) computes output sizes and checks arguments in
torch's words; the kernels' ``def`` functions re-check what memory safety depends on (shapes,
dtypes, contiguity, index ranges) with these before any loop runs.
"""
import numpy as np


def planes(a, name):
    if a.ndim != 3 or not a.flags.c_contiguous:
        raise RuntimeError(f"pool: {name} must be a contiguous (planes, H, W) array")
    return a.shape


def same_float(*arrays):
    dt = arrays[0].dtype
    if dt != np.float32 and dt != np.float64:
        raise RuntimeError("pool: arrays must share a float32/float64 dtype")
    for a in arrays:  # a loop, not any(generator): this runs on every call
        if a.dtype != dt:
            raise RuntimeError("pool: arrays must share a float32/float64 dtype")
    return dt


def geometry_ok(args):
    kh, kw, sh, sw, ph, pw, dh, dw = args
    if min(kh, kw, sh, sw, dh, dw) <= 0 or min(ph, pw) < 0:
        raise RuntimeError("pool: invalid pooling geometry")

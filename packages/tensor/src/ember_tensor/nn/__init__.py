"""Neural-network kernels on Arrays: forward functions and the backward pieces autograd needs.

Every function takes and returns ``ember_tensor.Array`` objects (NCHW layout for images) and
raises torch's error types and words for bad input.
"""
from .conv import conv2d, conv2d_backward

__all__ = ["conv2d", "conv2d_backward"]

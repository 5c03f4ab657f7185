"""Neural-network kernels on Arrays: forward functions and the backward pieces autograd needs.

Every function takes and returns ``ember_tensor.Array`` objects (NCHW layout for images) and
raises torch's error types and words for bad input.
"""
from .conv import conv2d
from .conv_backward import conv2d_backward
from .dropout import dropout, dropout_backward
from .embedding import embedding, embedding_backward
from .loss import nll_loss, nll_loss_backward
from .normalization import (
    batch_norm, batch_norm_backward, batch_norm_relu, layer_norm, layer_norm_backward,
)
from .pooling import (
    adaptive_avg_pool2d, adaptive_avg_pool2d_backward, adaptive_max_pool2d, avg_pool2d,
    avg_pool2d_backward, global_avg_pool2d, global_avg_pool2d_backward, max_pool2d_backward,
    max_pool2d_with_indices,
)
from .softmax import log_softmax, log_softmax_backward, softmax, softmax_backward

__all__ = [
    "adaptive_avg_pool2d", "adaptive_avg_pool2d_backward", "adaptive_max_pool2d", "avg_pool2d",
    "avg_pool2d_backward",
    "batch_norm", "batch_norm_backward", "batch_norm_relu", "conv2d", "conv2d_backward",
    "dropout", "dropout_backward", "embedding", "embedding_backward", "global_avg_pool2d",
    "global_avg_pool2d_backward", "layer_norm",
    "layer_norm_backward", "log_softmax", "log_softmax_backward", "max_pool2d_backward",
    "max_pool2d_with_indices", "nll_loss", "nll_loss_backward", "softmax", "softmax_backward",
]

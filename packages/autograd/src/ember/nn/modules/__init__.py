"""Every layer class, importable as ``ember.nn.<Name>``."""
from .activation import (
    ELU, GELU, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, LogSoftmax, ReLU, ReLU6, SiLU,
    Sigmoid, Softmax, Softplus, Tanh,
)
from .batchnorm import BatchNorm1d, BatchNorm2d
from .channelshuffle import ChannelShuffle
from .container import ModuleDict, ModuleList, Sequential
from .conv import Conv2d
from .dropout import Dropout
from .flatten import Flatten, Unflatten
from .linear import Identity, Linear
from .loss import (
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss, NLLLoss,
    SmoothL1Loss,
)
from .module import Module
from .normalization import LayerNorm
from .pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from .sparse import Embedding
from .upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d
from .sync_batchnorm import SyncBatchNorm

__all__ = [
    "Module", "Sequential", "ModuleList", "ModuleDict", "Identity", "Linear", "Conv2d",
    "BatchNorm1d", "BatchNorm2d", "LayerNorm", "ReLU", "LeakyReLU", "GELU", "Sigmoid", "Tanh",
    "Softmax", "LogSoftmax", "SiLU", "ReLU6", "Hardtanh", "MaxPool2d", "AvgPool2d",
    "AdaptiveAvgPool2d", "Dropout", "Embedding", "Flatten", "Unflatten", "CrossEntropyLoss",
    "NLLLoss", "MSELoss", "L1Loss", "BCEWithLogitsLoss", "BCELoss", "SmoothL1Loss", "HuberLoss",
    "ELU", "Softplus", "SyncBatchNorm", "AdaptiveMaxPool2d", "Hardswish", "Hardsigmoid",
    "Upsample", "ChannelShuffle", "UpsamplingNearest2d", "UpsamplingBilinear2d",
    "RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell",
]

"""``torch.softmax`` / ``torch.log_softmax`` and the ``Tensor.softmax`` / ``log_softmax``
methods: ``dim`` is required (unlike ``F.softmax``), ``dtype=`` casts the input first."""
from .nn import log_softmax as _log_softmax
from .nn import softmax as _softmax


def _cast(input, dtype):
    return input if dtype is None else input.to(dtype)


def softmax(input, dim, dtype=None):
    return _softmax(_cast(input, dtype), dim)


def log_softmax(input, dim, dtype=None):
    return _log_softmax(_cast(input, dtype), dim)


FUNCTIONS = {"softmax": softmax, "log_softmax": log_softmax}
TENSOR_METHODS = dict(FUNCTIONS)

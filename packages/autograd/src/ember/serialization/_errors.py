"""Error types raised by ember.save / ember.load.

A damaged checkpoint raises ``CheckpointError`` (a RuntimeError, as torch's stream reader
raises); one that simply ends too early is also an ``EOFError``, so code written for
``torch.load`` (which raises EOFError on an empty file) catches it either way.
Refused pickle content raises ``pickle.UnpicklingError``, as torch's weights_only loader does.
"""
import pickle


class CheckpointError(RuntimeError):
    """The file is not a checkpoint Ember can read, or it is corrupt."""


class TruncatedCheckpointError(CheckpointError, EOFError):
    """The file ends before the data it declares."""


WEIGHTS_ONLY_PREFIX = (
    "Weights only load failed. Ember loads checkpoints like torch.load(weights_only=True) and "
    "never runs code stored in a file; this file asks for something outside that allowlist.\n\n"
)


def refused(detail):
    """The error for pickle content outside the allowlist (torch's type, a clear reason)."""
    return pickle.UnpicklingError(WEIGHTS_ONLY_PREFIX + detail)

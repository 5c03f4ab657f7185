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


# torch's kind of message: what failed, the way out for a trusted file, then the reason
WEIGHTS_ONLY_PREFIX = (
    "Weights only load failed. This file can still be loaded, but only do so if you trust "
    "the source of the checkpoint: re-running `ember.load` with `weights_only` set to `False` "
    "will likely succeed, but it can result in arbitrary code execution. Ember's default "
    "(weights_only=True) never runs code stored in a file, and this file asks for something "
    "outside its allowlist.\n\tWeightsUnpickler error: "
)


def refused(detail):
    """The error for pickle content outside the allowlist (torch's type, a clear reason)."""
    return pickle.UnpicklingError(WEIGHTS_ONLY_PREFIX + detail)

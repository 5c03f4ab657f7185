"""Checkpoints: ``save`` writes torch's zip format, ``load`` reads every torch format safely.

``load`` never unpickles with Python's pickle machinery: a from-scratch opcode interpreter
(``restricted_unpickler``) resolves only the allowlisted globals in ``rebuild``.
"""
from ._errors import CheckpointError, TruncatedCheckpointError
from .loading import load
from .saving import save

__all__ = ["save", "load", "CheckpointError", "TruncatedCheckpointError"]

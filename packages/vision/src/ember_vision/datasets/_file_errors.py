"""The one error every data set file parser raises for a file it will not read.

``DatasetFileError`` is a ``ValueError``: the file's bytes are wrong (truncated, oversized,
wrong magic or dtype, a pickle that would run code), not the caller's arguments. Where
torchvision raises ``TypeError`` for a well-formed file of the wrong dtype, the subclass
``DatasetFileDtypeError`` is both, so ``except TypeError`` written for torchvision still works.
"""


class DatasetFileError(ValueError):
    """A data set file that is damaged, hostile, or not in the format it claims to be."""


class DatasetFileDtypeError(DatasetFileError, TypeError):
    """A well-formed data set file whose element type is not the one the data set needs."""

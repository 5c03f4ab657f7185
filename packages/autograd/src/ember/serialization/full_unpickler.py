"""``ember.load(f, weights_only=False)``: Python's own unpickler, for whole-model files.

It runs whatever the file names (classes are imported, their ``__setstate__`` runs), exactly
as ``torch.load(weights_only=False)`` does, so it is only for files from a trusted source;
the restricted interpreter stays the default. torch's own names (tensor rebuilds, storage
classes, dtypes, ``torch.Size``) still resolve to Ember's objects through the allowlist, so
the tensors inside come back as Ember tensors.
"""
import io
import pickle
from typing import Any, Callable

from . import rebuild


class FullUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, persistent_load: Callable[[Any], Any], encoding: str):
        super().__init__(io.BytesIO(data), encoding=encoding)
        self._load_storage = persistent_load

    def find_class(self, module: str, name: str) -> Any:
        if module == "torch" or module.startswith("torch."):
            # torch's data types map onto Ember's; torch's classes (a pickled
            # torch.nn.Linear) are not Ember's and are refused
            try:
                return rebuild.resolve_global(module, name)
            except pickle.UnpicklingError:
                raise pickle.UnpicklingError(
                    f"ember.load cannot build {module}.{name}: a whole torch model pickles "
                    "torch's own classes, which Ember does not have. Save the model's "
                    "state_dict with torch and load that into the Ember model instead."
                ) from None
        return super().find_class(module, name)

    def persistent_load(self, pid: Any) -> Any:
        return self._load_storage(pid)


def load_full(data: bytes, persistent_load: Callable[[Any], Any], encoding: str = "utf-8"):
    return FullUnpickler(data, persistent_load, encoding).load()

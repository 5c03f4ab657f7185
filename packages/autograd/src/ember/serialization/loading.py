"""``ember.load``: read zip, legacy-stream and tar checkpoints with the restricted unpickler.

The format is told from the first bytes (``PK\\x03\\x04`` zip, ``ustar`` at offset 257 tar,
otherwise a pickle stream). Whatever the format, the whole object is built before anything is
returned: an error anywhere means no result, never half a state dict.
"""
import io
import os
from typing import Any, Optional

from ._errors import CheckpointError, TruncatedCheckpointError
from .full_unpickler import load_full
from .legacy_format import LegacyCheckpoint
from .saving import FileLike
from .tar_format import TarCheckpoint, is_tar
from .zip_reader import ZipCheckpoint

_NOT_CPU = (
    "Attempting to deserialize object on a {kind} device but Ember runs on the CPU only. "
    "Use ember.load with map_location='cpu' to map your storages to the CPU."
)


def _device_string(value):
    if isinstance(value, str):
        return value
    kind = getattr(value, "type", None)  # torch.device-like objects
    if isinstance(kind, str):
        index = getattr(value, "index", None)
        return kind if index is None else f"{kind}:{index}"
    return None


def _is_cpu(text):
    return text == "cpu" or text.startswith("cpu:")


class MapLocation:
    """Decides where each storage goes; Ember has one place: the CPU."""

    def __init__(self, map_location):
        self.to_cpu = False  # True: every location is remapped to the CPU
        self.table = {}
        self.fn = None
        if map_location is None:
            return
        if isinstance(map_location, dict):
            for src, dst in map_location.items():
                text = _device_string(dst)
                if text is None or not _is_cpu(text):
                    raise RuntimeError(_NOT_CPU.format(kind=repr(dst)))
                self.table[_device_string(src) or src] = "cpu"
            return
        text = _device_string(map_location)
        if text is not None:
            if not _is_cpu(text):
                raise RuntimeError(_NOT_CPU.format(kind=text.split(":")[0].upper()))
            self.to_cpu = True
            return
        if callable(map_location):
            self.fn = map_location
            return
        raise TypeError(
            "map_location should be None, 'cpu', a device, a dict of device strings or a "
            f"callable, got {type(map_location).__name__}"
        )

    def check(self, location):
        """Accept a storage saved at ``location`` (a string such as 'cpu' or 'cuda:0')."""
        if isinstance(location, bytes):
            location = location.decode("ascii", "replace")
        if not isinstance(location, str):
            raise CheckpointError(f"storage location must be a string, got "
                f"{type(location).__name__}")
        if self.fn is None and (self.to_cpu or _is_cpu(self.table.get(location, location))):
            return
        if self.fn is not None:
            marker = object()
            if self.fn(marker, location) is marker:  # e.g. lambda storage, loc: storage
                return
            raise RuntimeError(
                "ember.load: map_location functions may only return the storage unchanged "
                "(Ember keeps every storage on the CPU)"
            )
        raise RuntimeError(_NOT_CPU.format(kind=location.split(":")[0].upper()))


def _open(f):
    """(file object, display name, should close, path or None)."""
    if isinstance(f, (str, bytes, os.PathLike)):
        path = os.fsdecode(f) if isinstance(f, bytes) else os.fspath(f)
        return open(path, "rb"), path, True, path
    if isinstance(f, (bytes, bytearray, memoryview)):
        raise TypeError("ember.load expects a path or a binary file object; wrap bytes in "
            "io.BytesIO")
    if not hasattr(f, "read") or not hasattr(f, "seek"):
        raise TypeError(
            f"ember.load expects a path or a seekable binary file object, got {type(f).__name__}"
        )
    name = getattr(f, "name", None)
    return f, (name if isinstance(name, str) else "checkpoint"), False, None


def load(f: FileLike, map_location: Any = None, pickle_module: Any = None, *,
         weights_only: bool = True, mmap: Optional[bool] = None, **kwargs: Any) -> Any:
    """Load a checkpoint written by ``torch.save`` (any format since torch 0.1) or ``ember.save``.

    Like ``torch.load(f, weights_only=True)`` by default: only tensors, Parameters,
    containers, numbers, strings, dtypes and Size come back; any other global in the file
    raises ``pickle.UnpicklingError`` naming it, and no code from the file ever runs.
    ``weights_only=False`` unpickles a zip-format file with Python's pickle, as torch does
    (a whole model saved with ``ember.save(model, f)``): only for files you trust.
    """
    if pickle_module is not None:
        raise ValueError("ember.load uses its own restricted unpickler; pickle_module is "
            "not supported")
    encoding = kwargs.pop("encoding", "utf-8")
    if kwargs:
        raise TypeError(f"ember.load got unexpected keyword arguments {sorted(kwargs)}")
    if encoding not in ("utf-8", "utf8", "latin1", "ASCII", "ascii"):
        raise ValueError(f"unsupported encoding {encoding!r}")
    locations = MapLocation(map_location)
    fileobj, name, owned, path = _open(f)
    try:
        start = fileobj.tell()
        fileobj.seek(0, io.SEEK_END)
        end = fileobj.seek(0, io.SEEK_END)
        fileobj.seek(start)
        if start != 0:  # a stream positioned inside a bigger file: read from here on
            raise ValueError("ember.load reads checkpoints from the start of the file object")
        head = fileobj.read(512)
        fileobj.seek(0)
        if not head:
            raise TruncatedCheckpointError(f"{name} is empty: not a valid checkpoint")
        if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
            if mmap and path is None:
                raise ValueError("f must be a file path in order to use the mmap argument")
            unpickler = None
            if weights_only is False:
                def unpickler(data, persistent_load):
                    return load_full(data, persistent_load, encoding)
            return ZipCheckpoint(fileobj, name, end, mmap_path=path if mmap else None,
                                 locations=locations, unpickler=unpickler).load()
        if mmap:
            raise RuntimeError(
                "mmap can only be used with files saved in the zip format "
                "(torch >= 1.6 default, and every ember.save)"
            )
        if is_tar(head):
            return TarCheckpoint(fileobj, name, locations).load()
        if head[:1] == b"\x80":
            return LegacyCheckpoint(fileobj, name, end, locations).load()
        raise CheckpointError(
            f"{name} is not a valid checkpoint: it is neither a zip archive, a tar archive "
            "nor a torch pickle stream"
        )
    finally:
        if owned:
            fileobj.close()

"""``ember.save``: write torch's zip checkpoint format.

The archive is what torch 2.13 writes: ``<prefix>/data.pkl`` (protocol-2 pickle),
``.format_version``, ``.storage_alignment``, ``byteorder``, ``data/<key>`` (raw little-endian
storage bytes), ``version`` and ``.data/serialization_id``. Saving to a path is atomic: the
archive is written to a temporary file in the same folder, flushed to disk and renamed over the
target, so an interrupted save leaves the previous file intact.
"""
import os
import re
import secrets
from typing import IO, Any, Union

from .pickle_writer import encode
from .zip_writer import ZipWriter

# a path, or a binary file open for writing (loading: reading)
FileLike = Union[str, os.PathLike, IO[bytes]]

_SAFE_PREFIX = re.compile(r"^[A-Za-z0-9_.\-]+$")


def _prefix_for(path):
    stem = os.path.splitext(os.path.basename(os.fspath(path)))[0] if path is not None else ""
    return stem if stem and _SAFE_PREFIX.match(stem) and stem not in (".", "..") else "archive"


def write_archive(fileobj, obj, prefix):
    data_pkl, storages = encode(obj)
    zw = ZipWriter(fileobj)
    zw.add(f"{prefix}/data.pkl", data_pkl)
    zw.add(f"{prefix}/.format_version", b"1")
    zw.add(f"{prefix}/.storage_alignment", b"64")
    zw.add(f"{prefix}/byteorder", b"little")
    for record in storages:
        zw.add(f"{prefix}/data/{record.key}", record.buffer)
    zw.add(f"{prefix}/version", b"3\n")
    zw.add(f"{prefix}/.data/serialization_id", str(secrets.randbits(128)).zfill(40).encode())
    zw.close()


def _fsync_dir(folder):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # not every platform lets a folder be opened
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _save_to_path(obj, path):
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(f"ember.save: {path!r} is a directory")
    if not os.path.isdir(folder):  # torch raises RuntimeError here, not FileNotFoundError
        raise RuntimeError(f"Parent directory {folder} does not exist.")
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    # O_EXCL: never write through someone else's file; 0o666 lets the umask decide, as open() does
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            write_archive(f, obj, _prefix_for(path))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(folder)


def save(obj: object, f: FileLike, pickle_module: Any = None, pickle_protocol: int = 2,
         _use_new_zipfile_serialization: bool = True) -> None:
    """Save ``obj`` to ``f`` (a path or a writable binary file) in torch's checkpoint format.

    ``torch.load(f, weights_only=True)`` reads the result. Only checkpoint data is accepted:
    tensors, Parameters, dtypes, Size, numbers, strings, bytes, None and dict / OrderedDict /
    list / tuple / set containers of them; anything else raises TypeError naming its type.
    """
    if pickle_module is not None:
        raise ValueError("ember.save writes its own pickle; pickle_module is not supported")
    if pickle_protocol != 2:
        raise ValueError(
            "ember.save writes pickle protocol 2 (what torch writes), "
            f"got pickle_protocol={pickle_protocol}"
        )
    if not _use_new_zipfile_serialization:
        raise ValueError("ember.save writes only the zip format "
            "(_use_new_zipfile_serialization=True)")
    if isinstance(f, (str, bytes, os.PathLike)):
        if isinstance(f, bytes):
            f = os.fsdecode(f)
        _save_to_path(obj, f)
        return
    if not hasattr(f, "write"):
        raise AttributeError(
            f"ember.save expected a path or a writable binary file object, got {type(f).__name__}"
        )
    # write_archive encodes the whole pickle before its first write, so an object that cannot
    # be saved raises without leaving half an archive in f
    write_archive(f, obj, "archive")
    if hasattr(f, "flush"):
        f.flush()

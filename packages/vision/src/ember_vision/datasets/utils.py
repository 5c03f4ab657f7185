"""Download, verify and unpack data set files, with torchvision's function names and rules.

``download_url`` fetches through ``ember_vision.hub.download_url_to_file`` (progress bar,
``.partial`` file renamed into place only when complete) and then checks the MD5, raising
torchvision's ``RuntimeError("File not found or corrupted.")`` on a mismatch. A file already
present with the right MD5 is never downloaded again, which is what makes offline use work.

Extraction differs from torchvision on purpose: every tar/zip member is checked before
anything is written. Absolute names, ``..`` components, links and device files are refused
with a ``RuntimeError`` naming the member, so a hostile archive cannot write outside
``root`` (torchvision relies on ``tarfile``'s extraction filter).
"""
import bz2
import functools
import gzip
import hashlib
import lzma
import os
import pathlib
import shutil
import tarfile
import zipfile
from collections.abc import Iterable
from typing import Any, Callable, Literal, Optional, Union

from .. import hub

__all__ = ["calculate_md5", "check_md5", "check_integrity", "download_url",
           "download_and_extract_archive", "extract_archive", "verify_str_arg",
           "list_dir", "list_files"]

PathLike = Union[str, os.PathLike]
_CHUNK = 1024 * 1024


def calculate_md5(fpath: PathLike, chunk_size: int = _CHUNK) -> str:
    """Hex MD5 of a file, read in chunks (MD5 here is a checksum, not security)."""
    md5 = hashlib.md5(usedforsecurity=False)
    with open(fpath, "rb") as f:
        while chunk := f.read(chunk_size):
            md5.update(chunk)
    return md5.hexdigest()


def check_md5(fpath: PathLike, md5: str, **kwargs) -> bool:
    return md5 == calculate_md5(fpath, **kwargs)


def check_integrity(fpath: PathLike, md5: Optional[str] = None) -> bool:
    """True when ``fpath`` is a file and (if ``md5`` is given) its MD5 matches."""
    if not os.path.isfile(fpath):
        return False
    if md5 is None:
        return True
    return check_md5(fpath, md5)


def download_url(url: str, root: PathLike, filename: Optional[PathLike] = None,
                 md5: Optional[str] = None, max_redirect_hops: int = 3) -> None:
    """Download ``url`` to ``root/filename`` (default: the URL's base name), then check MD5.

    Redirects are followed by ``urllib`` itself; ``max_redirect_hops`` is accepted for
    torchvision's signature.
    """
    root = os.path.expanduser(os.fspath(root))
    if not filename:
        filename = os.path.basename(url)
    fpath = os.fspath(os.path.join(root, filename))
    os.makedirs(root, exist_ok=True)
    if check_integrity(fpath, md5):
        return
    hub.download_url_to_file(url, fpath, progress=True)
    if not check_integrity(fpath, md5):
        raise RuntimeError("File not found or corrupted.")


def list_dir(root: PathLike, prefix: bool = False) -> list:
    root = os.path.expanduser(root)
    names = [p for p in os.listdir(root) if os.path.isdir(os.path.join(root, p))]
    return [os.path.join(root, d) for d in names] if prefix else names


def list_files(root: PathLike, suffix, prefix: bool = False) -> list:
    root = os.path.expanduser(root)
    names = [p for p in os.listdir(root)
             if os.path.isfile(os.path.join(root, p)) and p.endswith(suffix)]
    return [os.path.join(root, d) for d in names] if prefix else names


# -- archives -------------------------------------------------------------------------------

_COMPRESSED_FILE_OPENERS: dict[str, Callable[..., Any]] = {
    ".bz2": bz2.open, ".gz": gzip.open, ".xz": lzma.open}
_ARCHIVE_TYPES = (".tar", ".zip")
_TAR_READ_MODES: dict[str, Literal["r:gz", "r:bz2", "r:xz"]] = {
    ".gz": "r:gz", ".bz2": "r:bz2", ".xz": "r:xz"}
_FILE_TYPE_ALIASES = {".tbz": (".tar", ".bz2"), ".tbz2": (".tar", ".bz2"),
                      ".tgz": (".tar", ".gz")}


def _detect_file_type(file: PathLike):
    """(suffix, archive type or None, compression or None), from the file name as torchvision."""
    suffixes = pathlib.Path(file).suffixes
    if not suffixes:
        raise RuntimeError(f"File '{file}' has no suffixes that could be used to detect the "
                           "archive type and compression.")
    suffix = suffixes[-1]
    if suffix in _FILE_TYPE_ALIASES:
        return (suffix, *_FILE_TYPE_ALIASES[suffix])
    if suffix in _ARCHIVE_TYPES:
        return suffix, suffix, None
    if suffix in _COMPRESSED_FILE_OPENERS:
        if len(suffixes) > 1 and suffixes[-2] in _ARCHIVE_TYPES:
            return suffixes[-2] + suffix, suffixes[-2], suffix
        return suffix, None, suffix
    valid = sorted(set(_FILE_TYPE_ALIASES) | set(_ARCHIVE_TYPES) | set(_COMPRESSED_FILE_OPENERS))
    raise RuntimeError(f"Unknown compression or archive type: '{suffix}'.\n"
                       f"Known suffixes are: '{valid}'.")


def _inside(root: str, name: str) -> str:
    """The absolute path ``name`` extracts to, or RuntimeError when it escapes ``root``."""
    if os.path.isabs(name) or name.startswith(("/", "\\")) or ":" in name.split("/")[0]:
        raise RuntimeError(f"refusing to extract '{name}': absolute path in the archive")
    target = os.path.realpath(os.path.join(root, name))
    if os.path.commonpath([root, target]) != root:
        raise RuntimeError(f"refusing to extract '{name}': it points outside {root}")
    return target


def _write_members(to_path: str, entries) -> None:
    """Write archive members ``(name, is_dir, open_member)``: every name is checked first,
    so a hostile member anywhere in the archive stops the extraction before any write."""
    root = os.path.realpath(to_path)
    checked = [(_inside(root, name), is_dir, opener) for name, is_dir, opener in entries]
    for target, is_dir, opener in checked:
        if is_dir:
            os.makedirs(target, exist_ok=True)
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with opener() as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, _CHUNK)


def _extract_tar(from_path: PathLike, to_path: str, compression: Optional[str]) -> None:
    # "r:*" (= "r") lets tarfile detect a compression the suffix did not name, as torchvision
    mode: Literal["r:*", "r:gz", "r:bz2", "r:xz"] = (
        "r:*" if not compression else _TAR_READ_MODES[compression])
    with tarfile.open(from_path, mode) as tar:
        members = tar.getmembers()
        for m in members:
            if not (m.isfile() or m.isdir()):  # links, devices, fifos: none in a data set
                raise RuntimeError(f"refusing to extract '{m.name}': not a regular file or "
                                   "folder")
        _write_members(to_path, [(m.name, m.isdir(), functools.partial(tar.extractfile, m))
                                 for m in members])


def _extract_zip(from_path: PathLike, to_path: str, compression: Optional[str]) -> None:
    with zipfile.ZipFile(from_path, "r") as archive:
        _write_members(to_path, [(i.filename, i.is_dir(), functools.partial(archive.open, i))
                                 for i in archive.infolist()])


def _decompress(from_path: PathLike, to_path: Optional[PathLike] = None,
                remove_finished: bool = False) -> pathlib.Path:
    suffix, archive_type, compression = _detect_file_type(from_path)
    if not compression:
        raise RuntimeError(f"Couldn't detect a compression from suffix {suffix}.")
    if to_path is None:
        to_path = os.fspath(from_path).replace(suffix, archive_type or "")
    with _COMPRESSED_FILE_OPENERS[compression](from_path, "rb") as src, \
            open(to_path, "wb") as dst:
        shutil.copyfileobj(src, dst, _CHUNK)
    if remove_finished:
        os.remove(from_path)
    return pathlib.Path(to_path)


def extract_archive(from_path: PathLike, to_path: Optional[PathLike] = None,
                    remove_finished: bool = False) -> Union[str, pathlib.Path]:
    """Unpack a tar/zip (optionally compressed) or decompress a ``.gz``/``.bz2``/``.xz`` file.

    Returns the folder extracted to (or the decompressed file), as ``str`` when ``from_path``
    is a ``str``.
    """
    def same_kind(path):
        return os.fspath(path) if isinstance(from_path, str) else pathlib.Path(path)

    if to_path is None:
        to_path = os.path.dirname(from_path)
    suffix, archive_type, compression = _detect_file_type(from_path)
    if not archive_type:
        out = os.path.join(to_path, os.path.basename(from_path).replace(suffix, ""))
        return same_kind(_decompress(from_path, out, remove_finished=remove_finished))
    os.makedirs(to_path, exist_ok=True)
    extractor = _extract_tar if archive_type == ".tar" else _extract_zip
    extractor(from_path, os.fspath(to_path), compression)
    if remove_finished:
        os.remove(from_path)
    return same_kind(to_path)


def download_and_extract_archive(url: str, download_root: PathLike,
                                 extract_root: Optional[PathLike] = None,
                                 filename: Optional[PathLike] = None, md5: Optional[str] = None,
                                 remove_finished: bool = False) -> None:
    download_root = os.path.expanduser(os.fspath(download_root))
    if extract_root is None:
        extract_root = download_root
    if not filename:
        filename = os.path.basename(url)
    download_url(url, download_root, filename, md5)
    archive = os.path.join(download_root, filename)
    extract_archive(archive, extract_root, remove_finished)


def _iterable_to_str(iterable: Iterable) -> str:
    return "'" + "', '".join(str(item) for item in iterable) + "'"


def verify_str_arg(value, arg: Optional[str] = None, valid_values: Optional[Iterable] = None,
                   custom_msg: Optional[str] = None):
    """``value`` if it is a str among ``valid_values``, else torchvision's ValueError."""
    if not isinstance(value, str):
        where = "" if arg is None else f" for argument {arg}"
        raise ValueError(f"Expected type str{where}, but got type {type(value)}.")
    if valid_values is None or value in valid_values:
        return value
    if custom_msg is not None:
        raise ValueError(custom_msg)
    raise ValueError(f"Unknown value '{value}' for argument {arg}. "
                     f"Valid values are {{{_iterable_to_str(valid_values)}}}.")

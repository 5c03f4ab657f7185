"""Download and cache checkpoints, as ``torch.hub`` does, read by Ember's own loader.

Cache: ``get_dir()/checkpoints/<file name>``; ``get_dir()`` is ``$EMBER_HOME/hub`` (default
``$XDG_CACHE_HOME/ember/hub`` or ``~/.cache/ember/hub``) unless ``set_dir`` chose another.
A file already in torch's cache (``$TORCH_HOME`` or ``$XDG_CACHE_HOME/torch`` or
``~/.cache/torch``, then ``hub/checkpoints/<file name>``) is used as it is, so nobody
downloads the same weights twice.

A cached file is trusted as is (no hash check, as torch); a download goes to
``<dst>.<random>.partial`` in the destination folder, is checked (length, and with
``check_hash`` the SHA-256 prefix in the file name) and only then renamed into place, so an
interrupted or corrupt download never leaves a file that looks complete. Two processes
downloading the same file each write their own partial file; the renames are atomic, so the
cache ends up with one complete file.
"""
import hashlib
import http.client
import os
import re
import sys
import uuid
from urllib.error import HTTPError, URLError
from urllib.parse import urlparse
from urllib.request import Request, urlopen

__all__ = ["get_dir", "set_dir", "download_url_to_file", "load_state_dict_from_url"]

HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")
_CHUNK = 128 * 1024
_TIMEOUT = 60.0  # seconds without data before a stalled download fails
_hub_dir = None


def _cache_root(env_name, folder):
    default = os.path.join(os.getenv("XDG_CACHE_HOME", "~/.cache"), folder)
    return os.path.expanduser(os.getenv(env_name, default))


def _ember_home():
    return _cache_root("EMBER_HOME", "ember")


def _torch_home():
    return _cache_root("TORCH_HOME", "torch")


def get_dir():
    """The hub folder: the one ``set_dir`` chose, else ``$EMBER_HOME/hub``."""
    if _hub_dir is not None:
        return _hub_dir
    return os.path.join(_ember_home(), "hub")


def set_dir(d):
    """Use ``d`` as the hub folder (checkpoints go to ``d/checkpoints``)."""
    global _hub_dir
    _hub_dir = os.path.expanduser(os.fspath(d))


def _by_hand_hint(url, dst):
    return (
        f"If this machine has no internet access, download {url} elsewhere and copy it to "
        f"{dst} (the exact cache path Ember looks at)."
    )


def _open_partial(dst):
    folder = os.path.dirname(os.path.abspath(dst))
    os.makedirs(folder, exist_ok=True)
    for _ in range(100):
        tmp = f"{dst}.{uuid.uuid4().hex}.partial"
        try:
            return tmp, open(tmp, "xb")
        except FileExistsError:
            continue
    raise FileExistsError(f"no usable temporary file name found for {dst}")


def _content_length(response):
    values = response.info().get_all("Content-Length") or []
    try:
        return int(values[0]) if values else None
    except ValueError:
        return None


def _progress_bar(total, progress):
    from tqdm import tqdm
    return tqdm(total=total, disable=not progress, unit="B", unit_scale=True, unit_divisor=1024)


def download_url_to_file(url, dst, hash_prefix=None, progress=True):
    """Download ``url`` to ``dst`` through a ``.partial`` file; check ``hash_prefix`` if given.

    Raises RuntimeError, naming the URL and ``dst``, when the server cannot be reached, answers
    with an error, or sends fewer bytes than announced; and torch's
    ``invalid hash value (expected "...", got "...")`` when the SHA-256 does not match. In
    every failure case nothing is left at ``dst`` or beside it.
    """
    dst = os.path.expanduser(os.fspath(dst))
    tmp, f = _open_partial(dst)
    try:
        sha256 = hashlib.sha256() if hash_prefix is not None else None
        received = 0
        try:
            request = Request(url, headers={"User-Agent": "ember.hub"})
            with urlopen(request, timeout=_TIMEOUT) as response:
                total = _content_length(response)
                with _progress_bar(total, progress) as bar:
                    while True:
                        chunk = response.read(_CHUNK)
                        if not chunk:
                            break
                        f.write(chunk)
                        if sha256 is not None:
                            sha256.update(chunk)
                        received += len(chunk)
                        bar.update(len(chunk))
        except HTTPError as exc:
            raise RuntimeError(
                f"could not download {url}: the server answered HTTP {exc.code} ({exc.reason}). "
                + _by_hand_hint(url, dst)
            ) from exc
        except (URLError, OSError, http.client.HTTPException) as exc:
            # offline, DNS failure, refused or reset connection, or a body cut short
            reason = getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}"
            raise RuntimeError(
                f"could not download {url} (got {received} bytes): {reason}. "
                + _by_hand_hint(url, dst)
            ) from exc
        if total is not None and received != total:
            raise RuntimeError(
                f"could not download {url}: received {received} of {total} bytes (the connection "
                "was cut). " + _by_hand_hint(url, dst)
            )
        f.close()
        if sha256 is not None:
            digest = sha256.hexdigest()
            if digest[: len(hash_prefix)] != hash_prefix:
                raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got "{digest}")')
        os.replace(tmp, dst)
    finally:
        f.close()
        if os.path.exists(tmp):
            os.remove(tmp)


def _file_name_of(url, file_name):
    name = file_name if file_name is not None else os.path.basename(urlparse(url).path)
    if not name or name in (".", "..") or "/" in name or os.sep in name:
        raise ValueError(f"cannot derive a cache file name from {url!r} (file_name={file_name!r})")
    return name


def cached_path(url, model_dir=None, file_name=None):
    """Where the checkpoint for ``url`` is (or would be) cached: an existing file in Ember's
    or torch's cache, else the path a download would create."""
    name = _file_name_of(url, file_name)
    if model_dir is not None:
        return os.path.join(os.path.expanduser(os.fspath(model_dir)), name)
    own = os.path.join(get_dir(), "checkpoints", name)
    if not os.path.exists(own):
        torch_file = os.path.join(_torch_home(), "hub", "checkpoints", name)
        if os.path.isfile(torch_file):
            return torch_file
    return own


def load_state_dict_from_url(url, model_dir=None, map_location=None, progress=True,
                             check_hash=False, file_name=None, weights_only=True):
    """Load the checkpoint at ``url``, downloading it into the cache first if needed.

    Same arguments as ``torch.hub.load_state_dict_from_url``; the file is read by
    ``ember.load`` (restricted unpickler, ``weights_only=True``).
    """
    import ember

    cached_file = cached_path(url, model_dir, file_name)
    if not os.path.exists(cached_file):
        sys.stdout.write(f'Downloading: "{url}" to {cached_file}\n')
        hash_prefix = None
        if check_hash:
            match = HASH_REGEX.search(os.path.basename(cached_file))
            hash_prefix = match.group(1) if match else None
        download_url_to_file(url, cached_file, hash_prefix, progress=progress)
    load = getattr(ember, "load", None)
    if load is None:
        from ember.serialization import load
    return load(cached_file, map_location=map_location, weights_only=weights_only)

"""Install Ember's packages from their folders, building each wheel once per tox run.

    python tools/install_packages.py tensor autograd "vision[plot]"

tox installs the packages into a fresh environment for every env of the matrix. Built by
plain ``pip install packages/tensor``, ember-tensor compiles all three CPU-level copies of its
kernels each time (minutes on this 2-core machine), although seven envs share one Python.
This script builds each package's wheel with ``pip wheel`` (the same isolated PEP 517 build a
plain install runs) and keeps it in a cache keyed by everything the build reads:

* the package's source files (those git tracks, plus untracked files git does not ignore, so
  a developer's uncommitted edits change the key; every file under the folder outside a git
  checkout);
* the interpreter (version, ABI, platform) and the ``EMBER_*`` build switches.

A second env with the same key installs the cached wheel. The cache sits in tox's work folder
(``.tox/.ember-wheels``) unless ``EMBER_WHEEL_CACHE`` names another, so a clean clone starts
from nothing and CI still builds from source. All wheels are installed by one ``pip install``
so that the pinned sibling dependencies resolve among them, never from an index.
"""
from __future__ import annotations

import hashlib
import os
import pathlib
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ROOT / "packages"
SKIP_DIRS = {"build", "dist", "__pycache__", ".pytest_cache"}


def source_files(folder: pathlib.Path) -> list[pathlib.Path]:
    """The files a build of ``folder`` reads, sorted."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", "."],
            cwd=folder, check=True, capture_output=True).stdout
        names = [n for n in out.decode().split("\0") if n]
        return sorted(folder / n for n in names if (folder / n).is_file())
    except (OSError, subprocess.CalledProcessError):
        files = []
        for path in folder.rglob("*"):
            parts = set(path.relative_to(folder).parts)
            if path.is_file() and not parts & SKIP_DIRS and not any(
                    p.endswith(".egg-info") for p in parts):
                files.append(path)
        return sorted(files)


def cache_key(folder: pathlib.Path) -> str:
    digest = hashlib.sha256()
    digest.update(f"{sys.version}|{sysconfig.get_platform()}|{sys.abiflags}".encode())
    for name in sorted(k for k in os.environ if k.startswith("EMBER_")):
        digest.update(f"|{name}={os.environ[name]}".encode())
    for path in source_files(folder):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:24]


def cached_wheel(folder: pathlib.Path, cache: pathlib.Path) -> pathlib.Path:
    """The wheel of ``folder`` for this interpreter, built now if the cache lacks it."""
    slot = cache / f"{folder.name}-{cache_key(folder)}"
    wheels = sorted(slot.glob("*.whl"))
    if wheels:
        print(f"install_packages: {folder.name}: cached wheel {wheels[0].name}")
        return wheels[0]
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", tmp,
                        str(folder)], check=True)
        built = sorted(pathlib.Path(tmp).glob("*.whl"))
        if len(built) != 1:
            raise SystemExit(f"pip wheel {folder} made {len(built)} wheels, expected one")
        staged = pathlib.Path(tmp) / "slot"
        staged.mkdir()
        shutil.move(str(built[0]), staged / built[0].name)
        try:
            os.replace(staged, slot)  # atomic: a concurrent run sees all of it or nothing
        except OSError:
            if not slot.is_dir():
                raise
    print(f"install_packages: {folder.name}: built {built[0].name}")
    return next(slot.glob("*.whl"))


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    cache = pathlib.Path(os.environ.get("EMBER_WHEEL_CACHE", ROOT / ".tox" / ".ember-wheels"))
    requirements = []
    for spec in argv:
        match = re.fullmatch(r"([a-z]+)(\[[a-z0-9_,-]+\])?", spec)
        if not match or not (PACKAGES / match.group(1)).is_dir():
            raise SystemExit(f"unknown package {spec!r}: expected a folder of packages/")
        wheel = cached_wheel(PACKAGES / match.group(1), cache)
        requirements.append(f"{wheel}{match.group(2) or ''}")
    subprocess.run([sys.executable, "-m", "pip", "install", *requirements], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Build the sdists (and the pure-Python wheels) and look inside them.

Slow and needs the `build` package and the package index (for the isolated build
environments), so it runs only with EMBER_TEST_BUILDS=1:

    EMBER_TEST_BUILDS=1 python -m pytest tests/packaging

ember-tensor's wheel is not built here (minutes of compiling); tools/build_wheels.py builds
and checks it.
"""
import os
import pathlib
import subprocess
import sys
import tarfile
import zipfile

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("EMBER_TEST_BUILDS", "") in ("", "0"),
                       reason="builds sdists and wheels: set EMBER_TEST_BUILDS=1"),
]

ROOT = pathlib.Path(__file__).resolve().parents[2]
DISTS = {"tensor": "ember_tensor", "autograd": "ember_autograd", "vision": "ember_vision"}
IMPORTS = {"tensor": "ember_tensor", "autograd": "ember", "vision": "ember_vision"}


def _build(folder, out, *what):
    pytest.importorskip("build")
    subprocess.run([sys.executable, "-m", "build", *what, "--outdir", str(out),
                    str(ROOT / "packages" / folder)], check=True, capture_output=True)


def _source_files(folder):
    """Every file of the package folder that git does not ignore, tracked or new."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", "."],
            cwd=ROOT / "packages" / folder, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("needs a git checkout")
    here = ROOT / "packages" / folder
    return {name for name in listed.stdout.splitlines() if (here / name).is_file()}


@pytest.mark.parametrize("folder", ["tensor", "autograd", "vision"])
def test_sdist_holds_the_sources_and_nothing_built(folder, tmp_path):
    _build(folder, tmp_path, "--sdist")
    (sdist,) = tmp_path.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = [m.name for m in archive.getmembers() if m.isfile()]
    top = names[0].split("/")[0]
    inside = {name.split("/", 1)[1] for name in names}
    assert "LICENSE" in inside and "PKG-INFO" in inside
    sources = _source_files(folder)
    # setuptools writes PKG-INFO, the egg-info and (where the folder has none) a setup.cfg
    generated = {name for name in inside if name == "PKG-INFO" or ".egg-info/" in name}
    if "setup.cfg" not in sources:
        generated.add("setup.cfg")
    # exactly the sources: everything git keeps in the folder, plus the generated metadata
    assert inside - generated == sources, top
    assert not [n for n in inside if n.startswith("build/") or n.endswith((".so", ".pyc"))]


@pytest.mark.parametrize("folder", ["vision"])  # ember-autograd compiles its core (_core)
def test_pure_wheel_carries_licence_and_data(folder, tmp_path):
    _build(folder, tmp_path, "--wheel")
    (wheel,) = tmp_path.glob("*.whl")
    assert wheel.name.endswith("-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    dist_info = next(n.split("/")[0] for n in names if ".dist-info/" in n)
    assert f"{dist_info}/licenses/LICENSE" in names
    src = ROOT / "packages" / folder / "src"
    expected = {p.relative_to(src).as_posix() for p in (src / IMPORTS[folder]).rglob("*")
                if p.is_file() and "__pycache__" not in p.parts}
    assert expected <= names, sorted(expected - names)

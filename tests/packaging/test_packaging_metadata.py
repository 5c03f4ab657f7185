"""The three packages' metadata, read from their files (nothing is built here).

SPDX licence and its file, identical LICENSE copies, package-data globs that match files,
versions and sibling pins in step, classifiers that agree with requires-python, and the
cibuildwheel settings the release wheels depend on.
"""
import importlib.util
import pathlib

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest itself depends on tomli there
    tomllib = pytest.importorskip("tomli")

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = pathlib.Path(__file__).resolve().parents[2]
FOLDERS = ("tensor", "autograd", "vision")
PYTHONS = ("3.10", "3.11", "3.12", "3.13")


def pyproject(folder):
    return tomllib.loads((ROOT / "packages" / folder / "pyproject.toml").read_text())


@pytest.mark.parametrize("folder", FOLDERS)
def test_licence_is_an_spdx_string_with_its_file(folder):
    meta = pyproject(folder)
    project = meta["project"]
    assert project["license"] == "BSD-3-Clause"
    assert project["license-files"] == ["LICENSE"]
    assert not [c for c in project.get("classifiers", []) if c.startswith("License ::")], (
        "the SPDX expression replaces License classifiers (setuptools refuses both)")
    # SPDX strings and license-files need setuptools 77: an older one must not be allowed
    setuptools = [Requirement(r) for r in meta["build-system"]["requires"]
                  if Requirement(r).name == "setuptools"]
    assert len(setuptools) == 1
    assert "77.0" in setuptools[0].specifier and "76.1" not in setuptools[0].specifier


def test_licence_copies_are_identical():
    top = (ROOT / "LICENSE").read_bytes()
    assert top.startswith(b"BSD 3-Clause License\n\nCopyright (c) 2026, the Ember developers\n")
    for folder in FOLDERS:
        copy = ROOT / "packages" / folder / "LICENSE"
        assert copy.is_file() and not copy.is_symlink(), copy
        assert copy.read_bytes() == top, f"{copy} differs from the top-level LICENSE"


def _package_data():
    for folder in FOLDERS:
        meta = pyproject(folder)
        setuptools = meta.get("tool", {}).get("setuptools", {})
        src = ROOT / "packages" / folder / setuptools.get("package-dir", {}).get("", ".")
        for package, globs in setuptools.get("package-data", {}).items():
            for pattern in globs:
                yield pytest.param(src / package.replace(".", "/"), pattern,
                                   id=f"{package}:{pattern}")


@pytest.mark.parametrize("package_dir, pattern", list(_package_data()))
def test_every_package_data_glob_matches_a_file(package_dir, pattern):
    assert [p for p in package_dir.glob(pattern) if p.is_file()], (
        f"package-data {pattern!r} matches nothing in {package_dir}")


def test_versions_and_sibling_pins_agree():
    path = ROOT / "tools" / "check_pins.py"
    spec = importlib.util.spec_from_file_location("check_pins", path)
    check_pins = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check_pins)
    assert check_pins.problems(ROOT) == []
    versions = {pyproject(folder)["project"]["version"] for folder in FOLDERS}
    assert len(versions) == 1, f"the three packages are released together: {versions}"


@pytest.mark.parametrize("folder", FOLDERS)
def test_classifiers_agree_with_requires_python(folder):
    project = pyproject(folder)["project"]
    classifiers = project["classifiers"]
    listed = {c.rsplit(" :: ", 1)[1] for c in classifiers
              if c.startswith("Programming Language :: Python :: 3.")}
    assert listed == set(PYTHONS)
    allowed = SpecifierSet(project["requires-python"])
    assert all(version in allowed for version in PYTHONS)
    assert "3.9" not in allowed
    assert "Topic :: Scientific/Engineering :: Artificial Intelligence" in classifiers
    assert project["authors"] and project["keywords"]
    if folder == "tensor":
        assert "Programming Language :: Cython" in classifiers


def test_no_placeholder_urls():
    for folder in FOLDERS:
        urls = pyproject(folder)["project"].get("urls", {})
        for name, url in urls.items():
            assert "example" not in url and "TODO" not in url, (folder, name, url)


def test_vision_digits_extra_stays_installable():
    extras = pyproject("vision")["project"]["optional-dependencies"]
    # `pip install "./packages/vision[digits,plot]"` is in the README and tox.ini
    assert "digits" in extras and "plot" in extras


def test_cibuildwheel_builds_what_is_released():
    cibw = pyproject("tensor")["tool"]["cibuildwheel"]
    assert sorted(cibw["build"]) == [f"cp{v.replace('.', '')}-*" for v in PYTHONS]
    assert "*-musllinux_*" in cibw["skip"] and "*_i686" in cibw["skip"]
    assert cibw["manylinux-x86_64-image"] == cibw["manylinux-aarch64-image"] == "manylinux_2_28"
    assert "import ember_tensor" in cibw["test-command"]
    repair = cibw["linux"]["repair-wheel-command"]
    assert repair.startswith("auditwheel repair") and "--strip" in repair


def test_tensor_sdist_manifest_takes_kernel_sources_not_builds():
    lines = (ROOT / "packages" / "tensor" / "MANIFEST.in").read_text().splitlines()
    commands = [line.split() for line in lines if line.strip() and not line.startswith("#")]
    assert ["prune", "build"] in commands
    assert any(c[0] == "global-exclude" and "*.so" in c for c in commands)
    assert any(c[0] == "recursive-include" and {"*.pyx", "*.pxd", "*.h"} <= set(c)
               for c in commands)

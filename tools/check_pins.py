"""Check that the sibling packages pin each other at the versions they actually have.

Each package's version lives in its pyproject.toml and in its ``__version__``; ember-autograd
pins ember-tensor with ``==``, ember-vision pins both. Bump one and this check names every
pin that fell out of step. Exit status 1 on a mismatch.
"""
import pathlib
import re
import sys

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = None

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = {"ember-tensor": "tensor", "ember-autograd": "autograd", "ember-vision": "vision"}
IMPORT_NAMES = {"tensor": "ember_tensor", "autograd": "ember", "vision": "ember_vision"}


def _load(path):
    text = path.read_text()
    if tomllib is not None:
        return tomllib.loads(text)["project"]
    # minimal fallback: the two fields this check needs
    version = re.search(r'^version\s*=\s*"([^"]+)"', text, re.M).group(1)
    deps_block = re.search(r"^dependencies\s*=\s*\[(.*?)\]", text, re.M | re.S).group(1)
    return {"version": version, "dependencies": re.findall(r'"([^"]+)"', deps_block)}


def problems(root=ROOT):
    meta = {name: _load(root / "packages" / folder / "pyproject.toml")
            for name, folder in PACKAGES.items()}
    found = []
    for name, folder in PACKAGES.items():
        version = meta[name]["version"]
        init = root / "packages" / folder / "src" / IMPORT_NAMES[folder] / "__init__.py"
        m = re.search(r'^__version__\s*=\s*"([^"]+)"', init.read_text(), re.M)
        if not m or m.group(1) != version:
            found.append(f"{init.relative_to(root)}: __version__ is "
                         f"{m.group(1) if m else 'missing'}, pyproject says {version}")
        for dep in meta[name].get("dependencies", []):
            m = re.match(r"\s*([A-Za-z0-9_.-]+)\s*(==)?\s*([^;\s]*)", dep)
            dep_name = m.group(1).lower().replace("_", "-")
            if dep_name in meta:
                if m.group(2) != "==":
                    found.append(f"{name}: dependency {dep!r} is not pinned with ==")
                elif m.group(3) != meta[dep_name]["version"]:
                    found.append(f"{name}: pins {dep_name}=={m.group(3)} but it is at "
                                 f"{meta[dep_name]['version']}")
    return found


def main():
    found = problems()
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

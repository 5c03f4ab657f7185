"""Static layering check: no module of a lower package imports a higher one.

Reads every .py/.pyx/.pxd under packages/<pkg>/src with the ``ast`` module (Cython files with
a line scan), so an import hidden inside a function is caught as well as a top-level one.
Exit status 1 and a list of offenders when the rule is broken. Run by the test suite.
"""
import ast
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
# package folder -> top-level import names it must never use
FORBIDDEN = {
    "tensor": {"ember", "ember_vision", "torch", "torchvision"},
    "autograd": {"ember_vision", "torch", "torchvision"},
    "vision": {"torch", "torchvision"},
}
_CY_IMPORT = re.compile(r"^\s*(?:from|c?import)\s+([A-Za-z_][\w.]*)", re.M)


def _imports_py(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", ""))
              in ("import_module", "__import__") and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            yield node.lineno, node.args[0].value


def _imports_cython(path):
    text = path.read_text()
    for match in _CY_IMPORT.finditer(text):
        yield text.count("\n", 0, match.start()) + 1, match.group(1)


def violations(root=ROOT):
    found = []
    for pkg, banned in FORBIDDEN.items():
        src = root / "packages" / pkg / "src"
        for path in sorted(src.rglob("*")):
            if path.suffix == ".py":
                imports = _imports_py(path)
            elif path.suffix in (".pyx", ".pxd"):
                imports = _imports_cython(path)
            else:
                continue
            for lineno, name in imports:
                if name.split(".")[0] in banned:
                    found.append(f"{path.relative_to(root)}:{lineno}: imports {name}")
    return found


def main():
    found = violations()
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

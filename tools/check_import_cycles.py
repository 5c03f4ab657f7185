"""Static import-cycle check: no package's modules import each other in a loop at import time.

Parses every module of a package with ``ast`` (Cython ``.pyx`` files with a scan of their
column-0 ``import``/``from`` lines) and builds the graph of *module-level* imports between
modules of the same package: an import counts when it runs while the module is being imported,
i.e. it is not inside a function body or an ``if TYPE_CHECKING:`` block. ``from pkg import name``
points at ``pkg.name`` when that is a module, else at ``pkg`` (its ``__init__``); importing
``a.b.c`` also points at ``a.b`` (its ``__init__`` runs first) unless ``a.b`` encloses the
importing module. Cycles are the
strongly connected components with more than one module (or a module importing itself).

Imports inside functions break no cycle by design but hide the dependency order, so they are
counted and reported separately. Exit status 1 when any package has a cycle.
Usage: ``python tools/check_import_cycles.py [-v]`` (``-v`` lists the function-level imports).
"""
from __future__ import annotations

import ast
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
# package folder -> its top-level import name
PACKAGES = {"tensor": "ember_tensor", "autograd": "ember", "vision": "ember_vision"}
# a parenthesised name list may span lines
_CY_IMPORT = re.compile(
    r"^(?:from\s+(\.*[\w.]*)\s+import\s+(\([^)]*\)|[\w, *]+)|import\s+([\w.]+))", re.M)


def module_files(folder: str) -> dict[str, pathlib.Path]:
    """Dotted module name -> source file, for every .py/.pyx of one package."""
    top = PACKAGES[folder]
    base = ROOT / "packages" / folder / "src"
    found = {}
    for path in sorted((base / top).rglob("*")):
        if path.suffix not in (".py", ".pyx") or "__pycache__" in path.parts:
            continue
        parts = list(path.relative_to(base).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _absolute(module: str, is_package: bool, level: int, name: str | None) -> str:
    if level == 0:
        return name or ""
    parts = module.split(".")
    if not is_package:
        parts.pop()
    if level > 1:
        parts = parts[: len(parts) - (level - 1)]
    return ".".join(parts + ([name] if name else []))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _py_imports(tree: ast.AST):
    """Yield (lineno, ImportNode, at_module_level) for every import statement."""
    def walk_all(node, in_function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                yield from walk_all(child, True)
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.orelse:
                    yield from walk_all(ast.Module(body=[stmt], type_ignores=[]), in_function)
            elif isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child, not in_function
            else:
                yield from walk_all(child, in_function)
    yield from walk_all(tree, False)


def _targets(module, is_package, node, modules):
    """Modules of this package that one import statement loads."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name in modules]
    source = _absolute(module, is_package, node.level, node.module)
    out = []
    for alias in node.names:
        sub = f"{source}.{alias.name}"
        if sub in modules:
            out.append(sub)
        elif source in modules:
            out.append(source)
    return out


def _with_packages(module, targets, modules):
    """Add the packages an import runs on the way: importing ``a.b.c`` first runs ``a.b``'s
    ``__init__``, unless ``a.b`` encloses the importing module (then it is already running)."""
    out = list(targets)
    for target in targets:
        parts = target.split(".")
        for n in range(1, len(parts)):
            parent = ".".join(parts[:n])
            if parent in modules and not (module + ".").startswith(parent + "."):
                out.append(parent)
    return list(dict.fromkeys(out))


def graph(folder: str):
    """(module -> set of modules it imports at import time, list of function-level imports)."""
    files = module_files(folder)
    edges = {name: set() for name in files}
    late = []
    for module, path in files.items():
        is_package = path.stem == "__init__"
        text = path.read_text()
        if path.suffix == ".py":
            statements = _py_imports(ast.parse(text, filename=str(path)))
        else:
            statements = []
            for match in _CY_IMPORT.finditer(text):
                src, names, plain = match.groups()
                if plain:
                    statements.append((ast.Import(names=[ast.alias(name=plain)]), True))
                else:
                    level = len(src) - len(src.lstrip("."))
                    aliases = [ast.alias(name=n.split(" as ")[0].strip())
                               for n in names.strip("() ").split(",") if n.strip()]
                    statements.append((ast.ImportFrom(module=src.lstrip(".") or None,
                                                      names=aliases, level=level), True))
        for node, at_top in statements:
            targets = _with_packages(module, _targets(module, is_package, node, files), files)
            if at_top:
                edges[module].update(t for t in targets if t != module or not is_package)
            elif targets:
                late.append(f"{path.relative_to(ROOT)}:{node.lineno}: {', '.join(targets)}")
    return edges, late


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in edges[v]:
                out.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(out)


def main(argv: list[str]) -> int:
    bad = False
    for folder, top in PACKAGES.items():
        edges, late = graph(folder)
        found = cycles(edges)
        print(f"{top}: {len(edges)} modules, {len(found)} import cycle(s), "
              f"{len(late)} function-level import(s) of its own modules")
        for component in found:
            print("  cycle: " + " <-> ".join(component))
        if "-v" in argv:
            for line in late:
                print("  late: " + line)
        bad = bad or bool(found)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

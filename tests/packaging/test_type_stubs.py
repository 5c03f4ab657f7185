"""The packages ship ``py.typed``, so their stubs must be complete: every public name of
``dir(ember)``, ``dir(ember.Tensor)`` and ``dir(ember_tensor.Array)`` must be one a type
checker can see, read here (with ``ast``, cheaply) from the sources and ``.pyi`` files mypy
reads. Most Tensor/Array methods and ``ember.*`` functions are attached from the ops modules'
tables at import; ``tools/generate_ops.py`` writes their stubs and ``ember/_namespace.py``
(test_generated_ops checks those are fresh). mypy runs over the packages in the lint env, and
over a file naming every public name here when EMBER_TEST_MYPY=1.
"""
import ast
import os
import pathlib
import types

import pytest

import ember
import ember_tensor
from ember._core import tensor_base

SRC = pathlib.Path(ember.__file__).parent
TENSOR_SRC = pathlib.Path(ember_tensor.__file__).parent


def _source(path):
    """The file mypy reads for a module: its stub when there is one."""
    stub = path.with_suffix(".pyi")
    return ast.parse((stub if stub.exists() else path).read_text())


def _class_names(path, name):
    cls = next(n for n in _source(path).body if isinstance(n, ast.ClassDef) and n.name == name)
    return _bound_names(cls.body)


def _bound_names(body):
    names = set()
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ImportFrom):
            names |= {a.asname or a.name for a in node.names if a.name != "*"}
        elif isinstance(node, ast.Import):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def _missing(obj, visible):
    return sorted(n for n in dir(obj) if not n.startswith("_") and n not in visible
                  and n not in dir(object))


def test_every_tensor_attribute_has_a_declaration():
    visible = (_class_names(SRC / "_tensor.py", "Tensor")
               | _class_names(SRC / "_generated_tensor_ops.py", "GeneratedTensorMethods")
               | _class_names(SRC / "_core/tensor_base.py", "TensorBase"))
    assert _missing(ember.Tensor, visible) == []


def test_the_compiled_base_stub_names_every_field():
    declared = _class_names(SRC / "_core/tensor_base.py", "TensorBase")
    fields = {n for n in vars(tensor_base.TensorBase) if n not in ("__doc__", "__new__")}
    assert declared == fields


def test_every_array_attribute_has_a_declaration():
    visible = (_class_names(TENSOR_SRC / "_array.py", "Array")
               | _class_names(TENSOR_SRC / "_generated_array_ops.py", "GeneratedArrayMethods"))
    assert _missing(ember_tensor.Array, visible) == []


def _star_imported(path):
    """What ``from module import *`` gives: the stub's ``__all__``."""
    for node in _source(path).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__all__"
                                                for t in node.targets):
            return set(ast.literal_eval(node.value))
    raise AssertionError(f"{path} has no __all__")


def test_every_ember_name_is_imported_or_defined_where_mypy_sees_it():
    init = _source(SRC / "__init__.py")
    visible = _bound_names(init.body)
    for node in init.body:
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            visible |= _star_imported(SRC / (node.module.replace(".", "/") + ".py"))
    # submodules are seen through ``import ember.x``; anything else must be bound in __init__
    missing = [n for n in _missing(ember, visible)
               if not isinstance(getattr(ember, n), types.ModuleType)]
    assert missing == []


def test_every_package_ships_py_typed():
    import ember_vision

    for package in (ember, ember_tensor, ember_vision):
        assert (pathlib.Path(package.__file__).parent / "py.typed").exists(), package


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("EMBER_TEST_MYPY", "") in ("", "0"),
                    reason="runs mypy (~10 s): set EMBER_TEST_MYPY=1")
def test_mypy_resolves_every_public_name(tmp_path):
    """The same question asked of mypy itself: a file that touches every public name of
    ``ember``, a Tensor and an Array type-checks with the repository's mypy.ini."""
    api = pytest.importorskip("mypy.api")
    lines = ["import ember", "import ember_tensor", "",
             "def use(t: ember.Tensor, a: ember_tensor.Array) -> None:"]
    lines += [f"    ember.{n}" for n in sorted(dir(ember)) if not n.startswith("_")
              and not isinstance(getattr(ember, n), types.ModuleType)]
    lines += [f"    t.{n}" for n in sorted(dir(ember.Tensor)) if not n.startswith("_")]
    lines += [f"    a.{n}" for n in sorted(dir(ember_tensor.Array)) if not n.startswith("_")]
    usage = tmp_path / "usage.py"
    usage.write_text("\n".join(lines) + "\n")
    root = pathlib.Path(__file__).resolve().parents[2]
    out, err, status = api.run(["--config-file", str(root / "mypy.ini"), "--cache-dir",
                                str(tmp_path / "cache"), str(usage)])
    assert status == 0, out + err

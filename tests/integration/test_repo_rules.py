"""Rules that keep the monorepo whole: layering, pins, and CI running the README's command."""
import importlib.util
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _tool(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_lower_package_imports_a_higher_one():
    assert _tool("check_layering").violations() == []


def test_layering_check_catches_an_import_of_ember_inside_ember_tensor(tmp_path):
    layering = _tool("check_layering")
    bad = tmp_path / "packages" / "tensor" / "src" / "ember_tensor"
    bad.mkdir(parents=True)
    (bad / "sneaky.py").write_text("def f():\n    import ember\n    return ember\n")
    (bad / "kernel.pyx").write_text("from ember_vision import models\n")
    found = layering.violations(tmp_path)
    assert any("sneaky.py:2: imports ember" in line for line in found)
    assert any("kernel.pyx:1: imports ember_vision" in line for line in found)


def test_sibling_pins_are_in_step():
    assert _tool("check_pins").problems() == []


def test_pin_check_names_a_stale_pin(tmp_path):
    pins = _tool("check_pins")
    for folder, mod in pins.IMPORT_NAMES.items():
        src = ROOT / "packages" / folder
        dst = tmp_path / "packages" / folder
        (dst / "src" / mod).mkdir(parents=True)
        text = (src / "pyproject.toml").read_text()
        if folder == "tensor":
            text = text.replace('version = "0.1.0"', 'version = "0.2.0"', 1)
        (dst / "pyproject.toml").write_text(text)
        version = "0.2.0" if folder == "tensor" else "0.1.0"
        (dst / "src" / mod / "__init__.py").write_text(f'__version__ = "{version}"\n')
    found = pins.problems(tmp_path)
    assert any("ember-autograd: pins ember-tensor==0.1.0 but it is at 0.2.0" in f for f in found)


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- test-command -->\s*```(?:bash|sh)?\n(.*?)```", readme, re.S)
    assert block, "README.md marks its test command with <!-- test-command -->"
    command = block.group(1).strip()
    assert command in (ROOT / ".ci" / "run").read_text()

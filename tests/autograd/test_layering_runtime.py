"""Importing ember in a fresh interpreter loads nothing of ember_vision (nor torch)."""
import subprocess
import sys

CODE = (
    "import sys, ember;"
    "print(sorted(m for m in sys.modules if m.split('.')[0] in "
    "('ember_vision', 'torch', 'torchvision')))"
)


def test_ember_imports_no_higher_layer():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

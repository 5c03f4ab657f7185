"""Importing ember_tensor in a fresh interpreter loads nothing of the layers above it."""
import subprocess
import sys

CODE = (
    "import sys, ember_tensor;"
    "print(sorted(m for m in sys.modules if m.split('.')[0] in "
    "('ember', 'ember_vision', 'torch', 'torchvision')))"
)


def test_ember_tensor_imports_no_higher_layer():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

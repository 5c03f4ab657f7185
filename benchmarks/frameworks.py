"""The one place a benchmark case gets a framework's modules, by role and by name, for the
framework its worker times: no case file imports either framework itself, so none can pull
the other one into a worker's process (run.py's ``check_alone`` verifies it at run time)."""
import importlib
from types import ModuleType

# role -> module, per framework: the user-facing package, the raw kernels (Ember's
# ember_tensor layer; torch's own functions), its nn kernels, where resnet18 lives, and the
# vision package's transforms.functional
MODULES = {
    "ember": {"fw": "ember", "kernels": "ember_tensor", "nn_kernels": "ember_tensor.nn",
              "models": "ember_vision.models",
              "transforms_functional": "ember_vision.transforms.functional"},
    "torch": {"fw": "torch", "kernels": "torch", "nn_kernels": "torch.nn.functional",
              "models": "torch_resnet",
              "transforms_functional": "torchvision.transforms.functional"},
}


def module(lib: str, role: str) -> ModuleType:
    """Framework ``lib``'s module for ``role`` (imported on first use)."""
    return importlib.import_module(MODULES[lib][role])

"""Reading the weights the finetune command starts from: the published ones or a user file."""
import os

import ember

from .errors import UsageError
from .models import ResNet18_Weights, resnet18


def _unwrap(obj):
    """Accept a bare state dict or the common {'state_dict': ...}/{'model': ...} wrappers."""
    if isinstance(obj, dict):
        for key in ("state_dict", "model", "model_state_dict"):
            if key in obj and isinstance(obj[key], dict):
                return obj[key]
        return obj
    raise UsageError(f"expected a state dict, found a {type(obj).__name__}")


def check_fits(model, state_dict, source):
    """Raise one UsageError that names what does not fit, before load_state_dict runs."""
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    given = {k: tuple(v.shape) for k, v in state_dict.items() if hasattr(v, "shape")}
    optional = {k for k in expected if k.endswith("num_batches_tracked")}
    missing = sorted(set(expected) - set(given) - optional)
    unexpected = sorted(set(given) - set(expected))
    wrong = sorted(k for k in set(expected) & set(given) if expected[k] != given[k])
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing keys (e.g. '{missing[0]}')")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys (e.g. '{unexpected[0]}')")
        if wrong:
            k = wrong[0]
            parts.append(f"{len(wrong)} shape mismatches (e.g. '{k}': file {list(given[k])}, "
                         f"ResNet-18 {list(expected[k])})")
        raise UsageError(f"{source} does not hold ResNet-18 weights: {', '.join(parts)}")


def load_user_weights(path):
    """A ResNet-18 from a .pth file or a finetune output folder (its model.pth)."""
    if os.path.isdir(path):
        path = os.path.join(path, "model.pth")
    if not os.path.isfile(path):
        raise UsageError(f"weights file not found: {path}")
    try:
        state = _unwrap(ember.load(path, map_location="cpu", weights_only=True))
    except UsageError as err:
        raise UsageError(f"{path}: {err}") from None
    except Exception as err:  # noqa: BLE001 - any reader failure is the file's fault
        raise UsageError(f"cannot read weights file {path}: {err}") from None
    fc = state.get("fc.weight")
    num_classes = fc.shape[0] if fc is not None and len(fc.shape) == 2 else 1000
    model = resnet18(num_classes=num_classes)
    check_fits(model, state, path)
    model.load_state_dict(state)
    return model


def load_pretrained(progress, log):
    """(model, loaded?) for the published ResNet-18 weights; offline without a cache: random."""
    model = resnet18()
    try:
        state = ResNet18_Weights.DEFAULT.get_state_dict(progress=progress, check_hash=True)
    except (OSError, RuntimeError, ValueError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        log("ember-vision: pretrained ResNet-18 weights are not cached and could not be "
            f"downloaded ({reason}); starting from random weights and training the whole "
            "network")
        return model, False
    check_fits(model, state, ResNet18_Weights.DEFAULT.url)
    model.load_state_dict(state)
    return model, True

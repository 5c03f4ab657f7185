"""Reading the weights the finetune command starts from: the published ones or a user file,
for any ``--arch`` (``_architectures.py``)."""
import os

import ember

from ._architectures import build_kwargs, display_name, head_spec
from .errors import UsageError
from .models import get_model, get_model_weights


def _unwrap(obj):
    """Accept a bare state dict or the common {'state_dict': ...}/{'model': ...} wrappers."""
    if isinstance(obj, dict):
        for key in ("state_dict", "model", "model_state_dict"):
            if key in obj and isinstance(obj[key], dict):
                return obj[key]
        return obj
    raise UsageError(f"expected a state dict, found a {type(obj).__name__}")


def check_fits(model, state_dict, source, arch="resnet18"):
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
                         f"{display_name(arch)} {list(expected[k])})")
        raise UsageError(f"{source} does not hold {display_name(arch)} weights: "
                         f"{', '.join(parts)}")


def _num_classes(state, arch):
    """The class count of a state dict: the rows of its main head's weight (1000 if absent)."""
    head = state.get(head_spec(arch).paths[0] + ".weight")
    return head.shape[0] if head is not None and len(head.shape) in (2, 4) else 1000


_AUX_PREFIXES = {"inception_v3": ("AuxLogits.",), "googlenet": ("aux1.", "aux2.")}


def model_for_state(arch, state, pretrained=True, num_classes=None):
    """An ``arch`` model shaped for ``state``: its class count (unless ``num_classes`` says
    what it must be), and GoogLeNet's or Inception-v3's auxiliary heads only if the file has
    them. ``pretrained`` False: the file was trained from random weights (its GoogLeNet or
    Inception takes inputs untransformed)."""
    kwargs = build_kwargs(arch, "file" if pretrained else "random")
    if arch in _AUX_PREFIXES:
        kwargs["aux_logits"] = any(k.startswith(_AUX_PREFIXES[arch]) for k in state)
    if num_classes is None:
        num_classes = _num_classes(state, arch)
    return get_model(arch, weights=None, num_classes=num_classes, **kwargs)


def read_state(path):
    """The state dict in ``path``; a UsageError naming the file if it is not one."""
    try:
        return _unwrap(ember.load(path, map_location="cpu", weights_only=True))
    except UsageError as err:
        raise UsageError(f"{path}: {err}") from None
    except Exception as err:  # noqa: BLE001 - any reader failure is the file's fault
        raise UsageError(f"cannot read weights file {path}: {err}") from None


def load_user_weights(path, arch="resnet18"):
    """An ``arch`` model from a .pth file or a finetune output folder (its model.pth)."""
    if os.path.isdir(path):
        path = os.path.join(path, "model.pth")
    if not os.path.isfile(path):
        raise UsageError(f"weights file not found: {path}")
    state = read_state(path)
    model = model_for_state(arch, state)
    check_fits(model, state, path, arch)
    model.load_state_dict(state)
    return model


def published_weights(arch, name):
    """The weights enum member ``name`` names for ``arch`` (DEFAULT, IMAGENET1K_V1, or
    'ResNet18_Weights.IMAGENET1K_V1'), or None if it names none."""
    enum = get_model_weights(arch)
    key = name.upper()
    prefix = enum.__name__.upper() + "."
    key = key[len(prefix):] if key.startswith(prefix) else key
    members = {m.upper(): m for m in enum.__members__}
    return enum[members[key]] if key in members else None


def load_pretrained(arch, weights, progress, log):
    """(model, loaded?) for published weights; offline without a cache: random weights."""
    try:
        model = get_model(arch, weights=weights, progress=progress,
                          **build_kwargs(arch, "published"))
    except (OSError, RuntimeError, ValueError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        log(f"ember-vision: pretrained {display_name(arch)} weights are not cached and could "
            f"not be downloaded ({reason}); starting from random weights and training the "
            "whole network")
        return get_model(arch, weights=None, **build_kwargs(arch, "random")), False
    return model, True

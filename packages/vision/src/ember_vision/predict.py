"""``ember-vision predict``: top-5 classes of images under a finetuned (or ImageNet) model."""
import json
import os

import numpy as np

import ember

from . import _interop as io
from ._architectures import DEFAULT_ARCH, build_kwargs, check_arch
from ._training_data import eval_transform
from ._weights_file import check_fits, model_for_state, published_weights, read_state
from .datasets.folder import UnreadableImageError, pil_loader
from .errors import NonFiniteOutput, RunFailure, UsageError
from .models import get_model


def _published(arch, name):
    """(model, categories, transform) of ``arch``'s published ImageNet classifier."""
    weights = published_weights(check_arch(arch), name)
    try:
        model = get_model(arch, weights=weights, **build_kwargs(arch, "published"))
    except (OSError, RuntimeError) as err:  # offline, or a damaged download: not a usage error
        raise RunFailure(f"the ImageNet weights are not available: {err}") from None
    return model.eval(), weights.meta["categories"], weights.transforms()


def load_finetuned(model_dir, arch=DEFAULT_ARCH):
    """(model in eval mode, class names, transform) from a ``finetune --out`` folder (whose
    metrics.json names the architecture), or ``arch``'s ImageNet classifier for DEFAULT."""
    if model_dir.upper() in ("DEFAULT", "IMAGENET1K_V1"):
        return _published(arch, model_dir)
    if not os.path.isdir(model_dir):
        raise UsageError(f"model folder not found: {model_dir}")
    meta_path = os.path.join(model_dir, "metrics.json")
    weights_path = os.path.join(model_dir, "model.pth")
    for path in (meta_path, weights_path):
        if not os.path.isfile(path):
            raise UsageError(f"{model_dir} is not a finetune output folder: {path} is missing")
    try:
        with open(meta_path) as f:
            meta = json.load(f)
        classes = [str(c) for c in meta["classes"]]
        image_size = int(meta["image_size"])
        resize_size = int(meta.get("resize_size", image_size))  # older folders: no margin
        arch = str(meta.get("arch", DEFAULT_ARCH))
        pretrained = bool(meta.get("pretrained", True))
    except (ValueError, KeyError, TypeError) as err:  # JSONDecodeError is a ValueError
        raise UsageError(f"{meta_path} is not a finetune metrics file ({type(err).__name__}: "
                         f"{err})") from None
    check_arch(arch)
    state = read_state(weights_path)
    model = model_for_state(arch, state, pretrained, num_classes=len(classes))
    check_fits(model, state, weights_path, arch)
    model.load_state_dict(state)
    return model.eval(), classes, eval_transform(image_size, resize_size)


def _refuse_non_finite(logits, model_dir, path):
    """NaN or infinite outputs have no probabilities: say so instead of printing nan%."""
    if np.isfinite(logits).all():
        return
    kind = "nan" if np.isnan(logits).any() else "inf"
    hint = ("the weights file is damaged; delete it from the cache" if model_dir.upper() in
            ("DEFAULT", "IMAGENET1K_V1") else
            "its training diverged (see metrics.json); finetune again with a smaller --lr "
            "or a larger --batch-size")
    raise NonFiniteOutput(f"the model in {model_dir} gives non-finite outputs ({kind}) for "
                          f"{path}, so it has no probabilities to show: {hint}")


def predict(model_dir, images, topk=5, log=print, arch=DEFAULT_ARCH):
    """Print and return, per image, the top-k (class, probability) pairs.

    Raises NonFiniteOutput (status 1 on the command line) for a model whose outputs are NaN
    or infinite, as a diverged training run leaves it.
    """
    model, classes, transform = load_finetuned(model_dir, arch)
    k = min(topk, len(classes))
    results = {}
    for path in images:
        if not os.path.isfile(path):
            raise UsageError(f"image not found: {path}")
        try:
            x = transform(pil_loader(path))
        except UnreadableImageError as err:
            raise UsageError(str(err)) from None
        with ember.no_grad():
            logits = io.to_numpy(model(x.unsqueeze(0)))[0].astype(np.float64)
        _refuse_non_finite(logits, model_dir, path)
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        top = np.argsort(-probs, kind="stable")[:k]
        results[path] = [(classes[i], float(probs[i])) for i in top]
        log(path)
        for name, p in results[path]:
            log(f"  {p:7.2%}  {name}")
    return results

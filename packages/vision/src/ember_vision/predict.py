"""``ember-vision predict``: top-5 classes of images under a finetuned (or ImageNet) model."""
import json
import os

import numpy as np

import ember

from . import _interop as io
from ._training_data import eval_transform
from ._weights_file import check_fits, _unwrap
from .datasets.folder import UnreadableImageError, pil_loader
from .errors import UsageError
from .models import ResNet18_Weights, resnet18


def load_finetuned(model_dir):
    """(model in eval mode, class names, transform) from a ``finetune --out`` folder."""
    if model_dir.upper() in ("DEFAULT", "IMAGENET1K_V1"):
        weights = ResNet18_Weights.IMAGENET1K_V1
        try:
            model = resnet18(weights=weights)
        except (OSError, RuntimeError) as err:
            raise UsageError(f"the ImageNet weights are not available: {err}") from None
        return model.eval(), weights.meta["categories"], weights.transforms()
    if not os.path.isdir(model_dir):
        raise UsageError(f"model folder not found: {model_dir}")
    meta_path = os.path.join(model_dir, "metrics.json")
    weights_path = os.path.join(model_dir, "model.pth")
    for path in (meta_path, weights_path):
        if not os.path.isfile(path):
            raise UsageError(f"{model_dir} is not a finetune output folder: {path} is missing")
    with open(meta_path) as f:
        meta = json.load(f)
    classes = meta["classes"]
    model = resnet18(num_classes=len(classes))
    try:
        state = _unwrap(ember.load(weights_path, map_location="cpu", weights_only=True))
    except Exception as err:  # noqa: BLE001 - any reader failure is the file's fault
        raise UsageError(f"cannot read weights file {weights_path}: {err}") from None
    check_fits(model, state, weights_path)
    model.load_state_dict(state)
    return model.eval(), classes, eval_transform(int(meta["image_size"]))


def predict(model_dir, images, topk=5, log=print):
    """Print and return, per image, the top-k (class, probability) pairs."""
    model, classes, transform = load_finetuned(model_dir)
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
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        top = np.argsort(-probs, kind="stable")[:k]
        results[path] = [(classes[i], float(probs[i])) for i in top]
        log(path)
        for name, p in results[path]:
            log(f"  {p:7.2%}  {name}")
    return results

"""Write tests/vision/golden/models_torchvision.json.gz: for each classification model of
issue 15, torchvision's state-dict keys and shapes, parameter count and ``repr``, and every
field of its weights enum (URL, metadata, preset), so the default suite checks Ember's
models and enums without torch.

Run (needs torch and torchvision's Python parts):

    python tools/make_golden_models.py
"""
import gzip
import json
import math
import pathlib
import sys
import types
import warnings

import torch

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "vision" / "golden" / "models_torchvision.json.gz"

MODELS = [
    "alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19",
    "vgg19_bn", "squeezenet1_0", "squeezenet1_1", "densenet121", "densenet161", "densenet169",
    "densenet201", "inception_v3", "googlenet", "mobilenet_v2", "mobilenet_v3_small",
    "mobilenet_v3_large", "efficientnet_b0", "efficientnet_b1", "efficientnet_b2",
    "efficientnet_b3", "shufflenet_v2_x1_0", "resnext50_32x4d", "wide_resnet50_2",
    "regnet_y_400mf", "convnext_tiny",
]


def import_torchvision():
    # torchvision's compiled ops do not load beside CPU torch; its Python parts need none
    # of them, so their registration module is replaced by an empty one (tests/conftest.py)
    sys.modules.setdefault("torchvision._meta_registrations",
                           types.ModuleType("torchvision._meta_registrations"))
    import torchvision
    return torchvision


def _jsonable(value):
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "value") and type(value).__name__ == "InterpolationMode":
        return value.value
    return value


def weights_golden(enum):
    members = {}
    for w in enum:
        meta = dict(w.meta)
        cats = meta.pop("categories")
        meta["_docs"] = " ".join(meta["_docs"].split())
        members[w.name] = {
            "url": w.url,
            "meta": _jsonable(meta),
            "categories": None if cats is None else [len(cats), cats[0], cats[-1]],
            "transforms": _jsonable(dict(w.transforms.keywords)),
        }
    return {"enum": enum.__name__, "members": members, "DEFAULT": enum.DEFAULT.name}


def main():
    tv = import_torchvision()
    warnings.simplefilter("ignore")
    torch.manual_seed(0)
    out = {}
    for name in MODELS:
        model = tv.models.get_model(name)
        out[name] = {
            "num_params": sum(p.numel() for p in model.parameters()),
            "state_dict": [[k, list(v.shape)] for k, v in model.state_dict().items()],
            "repr": repr(model),
            "weights": weights_golden(tv.models.get_model_weights(name)),
        }
        print(name, out[name]["num_params"])
    OUT.write_bytes(gzip.compress(json.dumps(out).encode(), mtime=0))
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()

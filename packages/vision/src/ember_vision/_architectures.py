"""The architectures ``ember-vision finetune --arch`` trains, and where each keeps its head.

Per model family: which modules are the classifier head, how a new head for ``num_classes``
replaces them (torchvision's finetuning tutorial's recipe: a fresh ``nn.Linear`` with the old
one's input size; SqueezeNet's head is a 1x1 convolution), the modules between the head's
input and the logits (the part trained on cached features when the backbone is frozen), and
the input size its published weights expect (``weights.transforms()``: 224 after resizing to
256 or 232; Inception-v3 299 after 342).
"""
import re
from dataclasses import dataclass

import ember
from ember import nn

from .errors import UsageError

DEFAULT_ARCH = "resnet18"

# issue 15's finetuning models, in the order of torchvision's model table; ``--help`` lists
# these, and one not (yet) registered in ember_vision.models is refused with a UsageError
ARCHITECTURES = (
    "alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19",
    "vgg19_bn", "squeezenet1_0", "squeezenet1_1", "densenet121", "densenet161",
    "densenet169", "densenet201", "inception_v3", "googlenet", "mobilenet_v2",
    "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0", "efficientnet_b1",
    "efficientnet_b2", "efficientnet_b3", "shufflenet_v2_x1_0", "resnet18", "resnet34",
    "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "wide_resnet50_2",
    "regnet_y_400mf", "convnext_tiny",
)


@dataclass(frozen=True)
class HeadSpec:
    """Where a family keeps its classifier: ``paths`` (dotted, digits index a Sequential)
    of the modules a new head replaces, the first being the main one whose input the frozen
    path caches; ``after`` the modules that follow it up to the logits (then flattened);
    ``aux_weight`` the weight of the auxiliary loss in training (Inception-v3)."""

    paths: tuple
    conv: bool = False
    after: tuple = ()
    aux_weight: float = 0.0
    # the smallest input a train-mode forward takes: Inception-v3's auxiliary classifier
    # pools Mixed_6e's maps 5x5 with stride 3 and then convolves 5x5, so they must be 17x17,
    # which they are from 299 px up
    train_min_size: int = 0


_FC = HeadSpec(("fc",))
_CLASSIFIER_6 = HeadSpec(("classifier.6",))
_CLASSIFIER_1 = HeadSpec(("classifier.1",))
# name prefix -> head; the first prefix that matches wins
_HEADS = (
    ("resnet", _FC), ("resnext", _FC), ("wide_resnet", _FC), ("regnet", _FC),
    ("shufflenet", _FC), ("googlenet", _FC),
    ("inception", HeadSpec(("fc", "AuxLogits.fc"), aux_weight=0.4, train_min_size=299)),
    ("alexnet", _CLASSIFIER_6), ("vgg", _CLASSIFIER_6),
    ("squeezenet", HeadSpec(("classifier.1",), conv=True,
                            after=("classifier.2", "classifier.3"))),
    ("densenet", HeadSpec(("classifier",))),
    ("mobilenet_v2", _CLASSIFIER_1), ("efficientnet", _CLASSIFIER_1),
    ("mobilenet_v3", HeadSpec(("classifier.3",))),
    ("convnext", HeadSpec(("classifier.2",))),
)


def head_spec(arch: str) -> HeadSpec:
    for prefix, spec in _HEADS:
        if arch.startswith(prefix):
            return spec
    raise UsageError(f"no classifier head is known for --arch {arch}")


def display_name(arch: str) -> str:
    """'ResNet-18' for resnet18 (the name the command has always printed), else the name."""
    m = re.fullmatch(r"resnet(\d+)", arch)
    return f"ResNet-{m.group(1)}" if m else arch


def check_arch(arch: str) -> str:
    """The architecture name, or a UsageError for one the command does not know or that this
    ember_vision does not provide yet."""
    from .models import list_models

    arch = str(arch)
    if arch not in ARCHITECTURES:
        raise UsageError(f"unknown --arch {arch!r}; choose one of: {', '.join(ARCHITECTURES)}")
    if arch not in list_models():
        raise UsageError(f"--arch {arch} is not available in this ember-vision yet")
    return arch


def submodule(model: nn.Module, path: str) -> nn.Module:
    for part in path.split("."):
        # a digit names a child of a Sequential, which indexes it as torchvision's paths do
        model = model[int(part)] if part.isdigit() else getattr(model, part)  # type: ignore[index]
    return model


def _replace(model, path, module):
    parent_path, _, last = path.rpartition(".")
    parent = submodule(model, parent_path) if parent_path else model
    if last.isdigit():
        parent[int(last)] = module
    else:
        setattr(parent, last, module)


def _new_head(old, num_classes, conv):
    if conv:  # SqueezeNet: a 1x1 convolution to num_classes maps, then ReLU and pooling
        return nn.Conv2d(old.in_channels, num_classes, kernel_size=(1, 1), stride=(1, 1))
    return nn.Linear(old.in_features, num_classes)


def replace_head(model: nn.Module, arch: str, num_classes: int) -> nn.Module:
    """Puts freshly initialised head modules for ``num_classes`` into ``model`` (in place,
    and returned). An auxiliary head the model was built without is left out."""
    spec = head_spec(arch)
    for path in spec.paths:
        try:
            old = submodule(model, path)
        except AttributeError:
            continue
        if old is None:  # e.g. Inception built with aux_logits=False
            continue
        _replace(model, path, _new_head(old, num_classes, spec.conv))
    if hasattr(model, "num_classes"):
        model.num_classes = num_classes
    return model


def head_modules(model: nn.Module, arch: str) -> list:
    """The head modules present in ``model`` (the main head first)."""
    found = []
    for path in head_spec(arch).paths:
        try:
            module = submodule(model, path)
        except AttributeError:
            continue
        if module is not None:
            found.append(module)
    return found


def head_parameters(model: nn.Module, arch: str) -> list:
    """The parameters a frozen-backbone run trains: those of the head modules."""
    return [p for m in head_modules(model, arch) for p in m.parameters()]


def freeze_backbone(model: nn.Module, arch: str) -> None:
    """Every parameter stops requiring gradients except the head's."""
    for p in model.parameters():
        p.requires_grad = False
    for p in head_parameters(model, arch):
        p.requires_grad = True


class _Captured(Exception):
    def __init__(self, value):
        super().__init__("head input captured")
        self.value = value


class _Capture(nn.Module):
    """Stands in for the head while features are extracted: records its input and stops
    the forward there (nothing after the head needs computing)."""

    def forward(self, x):
        raise _Captured(x)


def backbone_features(model: nn.Module, arch: str, x):
    """The input of the model's main head for the batch ``x``: everything before the head.
    (N, C) for a Linear head, (N, C, H, W) for SqueezeNet's convolution."""
    path = head_spec(arch).paths[0]
    head = submodule(model, path)
    _replace(model, path, _Capture())
    try:
        model(x)
    except _Captured as got:
        return got.value
    finally:
        _replace(model, path, head)
    raise RuntimeError(f"{arch}'s forward never reached its head {path}")


class _Tail(nn.Module):
    """The head and what follows it up to the logits, on cached backbone features."""

    def __init__(self, modules):
        super().__init__()
        self.layers = nn.ModuleList(modules)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return ember.flatten(x, 1) if x.dim() > 2 else x


def feature_tail(model: nn.Module, arch: str) -> nn.Module:
    """A module mapping backbone_features to the model's logits, sharing the head's
    parameters (training it trains the model's head)."""
    spec = head_spec(arch)
    return _Tail([submodule(model, p) for p in (spec.paths[0],) + spec.after])


def logits_and_loss(outputs, target, criterion, arch):
    """(logits, loss) of a train-mode forward: Inception-v3's auxiliary output adds its loss
    weighted 0.4, as the finetuning tutorial trains it; other models give the logits."""
    if isinstance(outputs, tuple):
        logits, aux = outputs[0], outputs[1]
        loss = criterion(logits, target)
        if aux is not None:
            loss = loss + head_spec(arch).aux_weight * criterion(aux, target)
        return logits, loss
    return outputs, criterion(outputs, target)


def build_kwargs(arch: str, start: str) -> dict:
    """Builder keywords beyond ``weights`` for a model that starts ``"random"``, from
    ``"published"`` weights, or from a user's weights ``"file"``. GoogLeNet and Inception
    only: random ones are initialised explicitly (torchvision warns otherwise) and GoogLeNet
    is built without its auxiliary heads, which its published weights drop too; the
    published builders set the rest themselves (and refuse a contradiction); a file's model
    is fed inputs as the published weights were (transform_input), its auxiliary heads
    being whatever the file holds (``_weights_file.model_for_state``)."""
    if arch not in ("googlenet", "inception_v3") or start == "published":
        return {}
    if start == "random":
        return {"transform_input": False, "init_weights": True,
                **({"aux_logits": False} if arch == "googlenet" else {})}
    return {"transform_input": True, "init_weights": False}


def input_sizes(arch: str):
    """(crop, resize, minimum) input sizes of the architecture's published weights."""
    from .models import get_model_weights

    weights = get_model_weights(arch).DEFAULT
    preset = weights.transforms()
    crop, resize = int(preset.crop_size[0]), int(preset.resize_size[0])
    minimum = int(weights.meta.get("min_size", (1, 1))[0])
    return crop, resize, minimum

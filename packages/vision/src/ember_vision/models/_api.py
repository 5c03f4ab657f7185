"""Weights enums and the model registry: ``get_model``, ``get_model_weights``, ``get_weight``,
``list_models``, with torchvision's names and behaviour."""
import fnmatch
import functools
import inspect
import sys
import types
import warnings
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional, TypeVar, Union

_F = TypeVar("_F", bound=Callable[..., Any])

if TYPE_CHECKING:
    from ember.nn import Module

__all__ = ["Weights", "WeightsEnum", "get_model", "get_model_builder", "get_model_weights",
           "get_weight", "list_models", "register_model", "model_builder"]


@dataclass
class Weights:
    """One published checkpoint: where it lives, the preprocessing it expects, and facts."""

    url: str
    transforms: object
    meta: dict


class WeightsEnum(Enum):
    """Base of ``ResNet18_Weights`` and friends; members are ``Weights``."""

    @classmethod
    def verify(cls, obj):
        if obj is not None:
            if isinstance(obj, str):
                obj = cls[obj.replace(cls.__name__ + ".", "")]
            elif not isinstance(obj, cls):
                raise TypeError(
                    f"Invalid Weight class provided; expected {cls.__name__} but received "
                    f"{obj.__class__.__name__}.")
        return obj

    def get_state_dict(self, *args, **kwargs):
        from ..hub import load_state_dict_from_url

        return load_state_dict_from_url(self.url, *args, **kwargs)

    def __repr__(self):
        return f"{self.__class__.__name__}.{self._name_}"

    @property
    def url(self):
        return self.value.url

    @property
    def transforms(self):
        return self.value.transforms

    @property
    def meta(self):
        return self.value.meta


BUILTIN_MODELS: dict[str, Callable[..., Any]] = {}


def register_model(name: Optional[str] = None) -> Callable[[_F], _F]:
    def wrapper(fn: _F) -> _F:
        key = name if name is not None else fn.__name__
        if key in BUILTIN_MODELS:
            raise ValueError(f"An entry is already registered under the name '{key}'.")
        BUILTIN_MODELS[key] = fn
        return fn

    return wrapper


def list_models(module: Optional[types.ModuleType] = None,
                include: Union[str, Iterable[str], None] = None,
                exclude: Union[str, Iterable[str], None] = None) -> list[str]:
    """Registered model names (optionally only those of ``module``), filtered by globs."""
    models = {k for k, v in BUILTIN_MODELS.items()
              if module is None or v.__module__.rsplit(".", 1)[0] == module.__name__
              or v.__module__ == module.__name__}
    if include:
        include = [include] if isinstance(include, str) else include
        models = {m for m in models if any(fnmatch.fnmatch(m, p) for p in include)}
    if exclude:
        exclude = [exclude] if isinstance(exclude, str) else exclude
        models = {m for m in models if not any(fnmatch.fnmatch(m, p) for p in exclude)}
    return sorted(models)


def get_model_builder(name: str) -> Callable[..., Any]:
    name = name.lower()
    try:
        return BUILTIN_MODELS[name]
    except KeyError:
        raise ValueError(f"Unknown model {name}") from None


def get_model(name: str, **config: Any) -> "Module":
    """Build a registered model by name: ``get_model("resnet18", weights="DEFAULT")``."""
    return get_model_builder(name)(**config)


def get_model_weights(name: Union[str, Callable[..., Any]]) -> Any:
    """The weights enum class of a model, given its name or its builder (a ``WeightsEnum``
    subclass, typed Any so that its members, ``DEFAULT`` among them, type-check)."""
    model = get_model_builder(name) if isinstance(name, str) else name
    ann = inspect.signature(model).parameters["weights"].annotation
    if isinstance(ann, type) and issubclass(ann, WeightsEnum):
        return ann
    raise ValueError(
        f"The weight enum of {model.__name__} could not be found from its annotation.")


def get_weight(name: str) -> WeightsEnum:
    """``get_weight("ResNet50_Weights.IMAGENET1K_V2")`` -> that enum member."""
    try:
        enum_name, value_name = name.split(".")
    except ValueError:
        raise ValueError(f"Invalid weight name provided: '{name}'.") from None
    from . import resnet

    for module in (resnet, sys.modules[__name__.rsplit(".", 1)[0]]):
        enum = getattr(module, enum_name, None)
        if isinstance(enum, type) and issubclass(enum, WeightsEnum):
            return enum[value_name]
    raise ValueError(f"The weight enum '{enum_name}' for the specific method couldn't be "
                     "retrieved.")


def _ovewrite_named_param(kwargs, param, new_value):
    if param in kwargs:
        if kwargs[param] != new_value:
            raise ValueError(
                f"The parameter '{param}' expected value {new_value} but got {kwargs[param]} "
                "instead.")
    else:
        kwargs[param] = new_value


def handle_legacy_interface(weights, default):
    """Let a builder take the pre-0.13 ``pretrained=`` keyword, with torchvision's warnings.

    ``pretrained=True`` means ``weights=default``, ``pretrained=False`` ``weights=None``;
    a bool given as ``weights=`` is treated the same way.
    """
    weights_param, pretrained_param = weights

    def outer(builder):
        @functools.wraps(builder)
        def inner(*args, **kwargs):
            if args:
                raise TypeError(
                    f"{builder.__name__}() takes 0 positional arguments but {len(args)} "
                    f"{'was' if len(args) == 1 else 'were'} given")
            weights_arg = kwargs.get(weights_param, None)
            legacy = pretrained_param in kwargs or (
                weights_param in kwargs and isinstance(weights_arg, bool))
            if legacy:
                if pretrained_param in kwargs:
                    pretrained = kwargs.pop(pretrained_param)
                    warnings.warn(
                        f"The parameter '{pretrained_param}' is deprecated since 0.13 and may "
                        f"be removed in the future, please use '{weights_param}' instead.",
                        UserWarning, stacklevel=2)
                else:
                    pretrained = kwargs[weights_param]
                new_value = default if pretrained else None
                msg = (f"Arguments other than a weight enum or `None` for '{weights_param}' are "
                       "deprecated since 0.13 and may be removed in the future. The current "
                       f"behavior is equivalent to passing `{weights_param}={new_value}`.")
                if pretrained:
                    msg += (f" You can also use `{weights_param}={type(new_value).__name__}"
                            ".DEFAULT` to get the most up-to-date weights.")
                warnings.warn(msg, UserWarning, stacklevel=2)
                kwargs[weights_param] = new_value
            return builder(**kwargs)

        return inner

    return outer


def model_builder(name, enum, construct, doc):
    """Register torchvision's public builder ``name(*, weights=None, progress=True, **kwargs)``.

    ``construct(weights, progress, **kwargs)`` builds the model from the verified enum member
    (or None); the builder takes ``pretrained=`` as torchvision's does, its ``weights``
    annotation is ``enum`` (which ``get_model_weights`` reads) and it lists under the module
    of ``construct``.
    """
    @register_model(name)
    @handle_legacy_interface(weights=("weights", "pretrained"), default=enum.IMAGENET1K_V1)
    def build(*, weights: enum = None, progress: bool = True, **kwargs):
        return construct(enum.verify(weights), progress, **kwargs)

    build.__name__ = build.__qualname__ = name
    build.__module__ = construct.__module__
    build.__doc__ = doc
    return build


def build_with_weights(factory, weights, progress, **kwargs):
    """``factory(**kwargs)``, sized for ``weights``' categories and loaded with its file.

    What every torchvision builder does with a weights enum member: ``num_classes`` must be
    (or becomes) the number of categories, then the checked download is loaded strictly.
    """
    if weights is not None:
        _ovewrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]))
    model = factory(**kwargs)
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    return model


def build_with_aux_weights(factory, weights, progress, keep_aux, aux_heads, **kwargs):
    """GoogLeNet and Inception v3 from ``weights``: the published files hold auxiliary heads
    and were trained on inputs transformed the torchvision way, so the model is built with
    both, loaded, and its heads (the attributes named in ``aux_heads``) dropped unless
    ``keep_aux``. Returns the model."""
    if weights is not None:
        if "transform_input" not in kwargs:
            _ovewrite_named_param(kwargs, "transform_input", True)
        _ovewrite_named_param(kwargs, "aux_logits", True)
        _ovewrite_named_param(kwargs, "init_weights", False)
    model = build_with_weights(factory, weights, progress, **kwargs)
    if weights is not None and not keep_aux:
        model.aux_logits = False
        for name in aux_heads:
            setattr(model, name, None)
    return model

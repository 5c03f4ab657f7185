"""The v2 ``Transform`` protocol: any structure of inputs in, the same structure out.

Inputs are flattened (tuples, lists, dicts, nested), the image-like leaves are transformed with
one set of random parameters, the rest pass through, as torchvision's v2 does for plain
tensors and PIL images: every PIL image is an image, and when none is present the first plain
tensor is the image and later tensors (labels, ...) pass through untouched.
"""
import enum
from typing import Any

from PIL import Image

from ... import _interop as io
from .. import _rng as rng


def tree_flatten(tree):
    """Leaves of nested lists/tuples/dicts, and a spec to rebuild the structure."""
    if isinstance(tree, (list, tuple)):
        leaves, specs = [], []
        for item in tree:
            sub, spec = tree_flatten(item)
            leaves += sub
            specs.append((len(sub), spec))
        return leaves, (type(tree), specs)
    if isinstance(tree, dict):
        leaves, specs = [], []
        for key, item in tree.items():
            sub, spec = tree_flatten(item)
            leaves += sub
            specs.append((key, len(sub), spec))
        return leaves, (dict, specs)
    return [tree], None


def tree_unflatten(leaves, spec):
    if spec is None:
        return leaves[0]
    kind, specs = spec
    out, pos = [], 0
    if kind is dict:
        result = {}
        for key, n, sub in specs:
            result[key] = tree_unflatten(leaves[pos:pos + n], sub)
            pos += n
        return result
    for n, sub in specs:
        out.append(tree_unflatten(leaves[pos:pos + n], sub))
        pos += n
    return kind(out)


def is_image_like(x):
    return isinstance(x, Image.Image) or io.is_tensor(x)


def needs_transform_list(flat, accepts=is_image_like):
    """Which leaves a transform acts on: all PIL images, else only the first tensor."""
    tensor_is_image = not any(isinstance(x, Image.Image) for x in flat)
    out = []
    for x in flat:
        needed = accepts(x)
        if needed and io.is_tensor(x):
            needed, tensor_is_image = tensor_is_image, False
        out.append(needed)
    return out


def query_chw(flat):
    from .. import functional as F

    for x in flat:
        if is_image_like(x):
            return F.get_dimensions(x)
    raise TypeError("No image, video, mask, bounding box of keypoint was found in the sample")


def query_size(flat):
    return query_chw(flat)[1:]


class Transform:
    """Base of the v2 transforms: ``make_params`` draws once per call, ``transform`` is
    applied to every image leaf; ``repr`` lists public attributes like an nn.Module's."""

    _accepts = staticmethod(is_image_like)

    def __call__(self, *inputs: Any) -> Any:
        return self.forward(*inputs)

    def check_inputs(self, flat_inputs):
        pass

    def make_params(self, flat_inputs):
        return {}

    def transform(self, inpt, params):
        raise NotImplementedError

    def forward(self, *inputs: Any) -> Any:
        flat, spec = tree_flatten(inputs if len(inputs) > 1 else inputs[0])
        self.check_inputs(flat)
        needs = needs_transform_list(flat, self._accepts)
        params = self.make_params([x for x, n in zip(flat, needs) if n])
        out = [self.transform(x, params) if n else x for x, n in zip(flat, needs)]
        return tree_unflatten(out, spec)

    def extra_repr(self):
        extra = []
        for name, value in self.__dict__.items():
            if name.startswith("_") or name == "training":
                continue
            if not isinstance(value, (bool, int, float, str, tuple, list, enum.Enum)):
                continue
            extra.append(f"{name}={value}")
        return ", ".join(extra)

    def __repr__(self):
        lines = self.extra_repr().split("\n") if self.extra_repr() else []
        if not lines:
            return f"{type(self).__name__}()"
        if len(lines) == 1:
            return f"{type(self).__name__}({lines[0]})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


class RandomApplyTransform(Transform):
    """A transform that acts with probability ``p`` (one ``rand`` draw before anything)."""

    def __init__(self, p: float = 0.5) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError("`p` should be a floating point value in the interval [0.0, 1.0].")
        self.p = p

    def forward(self, *inputs: Any) -> Any:
        inputs = inputs if len(inputs) > 1 else inputs[0]
        flat, spec = tree_flatten(inputs)
        self.check_inputs(flat)
        if rng.rand() >= self.p:
            return inputs
        needs = needs_transform_list(flat, self._accepts)
        params = self.make_params([x for x, n in zip(flat, needs) if n])
        out = [self.transform(x, params) if n else x for x, n in zip(flat, needs)]
        return tree_unflatten(out, spec)


def setup_fill(fill):
    """torchvision's ``_setup_fill_arg``: a per-type dict (here one entry for every input)."""
    if isinstance(fill, dict):
        return {k: setup_fill(v)["others"] for k, v in fill.items()}
    if fill is not None and not isinstance(fill, (int, float, tuple, list)):
        raise TypeError(
            "Got inappropriate fill arg, only Numbers, tuples, lists and dicts are allowed.")
    if fill is None or isinstance(fill, (int, float)):
        return {"others": fill}
    return {"others": [float(v) for v in fill]}


def get_fill(fill_dict, inpt):
    if type(inpt) in fill_dict:
        return fill_dict[type(inpt)]
    return fill_dict.get("others")

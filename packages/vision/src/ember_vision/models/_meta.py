"""Metadata shared by the ImageNet weights: the 1000 class names in torchvision's order, and
one helper that writes a weights entry from the few facts that differ between checkpoints."""
from functools import partial
from importlib import resources

from ..transforms._presets import ImageClassification
from ._api import Weights


def _read_categories():
    text = resources.files("ember_vision").joinpath("data/imagenet_categories.txt").read_text(
        encoding="utf-8")
    return [line for line in text.splitlines() if line]


_IMAGENET_CATEGORIES = _read_categories()

_BLOG = ("<https://pytorch.org/blog/how-to-train-state-of-the-art-models-using-torchvision-"
         "latest-primitives/>`_.")
# the `_docs` sentences torchvision's weights carry (whitespace collapsed to single spaces)
DOCS = {
    "simple": "These weights reproduce closely the results of the paper using a simple training "
              "recipe.",
    "simplified": "These weights reproduce closely the results of the paper using a simplified "
                  "training recipe.",
    "scratch_simplified": "These weights were trained from scratch by using a simplified "
                          "training recipe.",
    "scratch_simple": "These weights were trained from scratch by using a simple training "
                      "recipe.",
    "scratch_paper": "These weights were trained from scratch to reproduce closely the results "
                     "of the paper.",
    "features": "These weights can't be used for classification because they are missing "
                "values in the `classifier` module. Only the `features` module has valid "
                "values and can be used for feature extraction. The weights were trained using "
                "the original input standardization method as described in the paper.",
    "paper": "These weights are ported from the original paper.",
    "luatorch": "These weights are ported from LuaTorch.",
    "improve_simple": "These weights improve upon the results of the original paper by using a "
                      "simple training recipe.",
    "new_recipe": "These weights improve upon the results of the original paper by using "
                  "TorchVision's `new training recipe " + _BLOG,
    "modified_recipe": "These weights improve upon the results of the original paper by using "
                       "a modified version of TorchVision's `new training recipe " + _BLOG,
    "marginal": "These weights improve marginally upon the results of the original paper by "
                "using a modified version of TorchVision's `new training recipe " + _BLOG,
}


def imagenet_weights(file: str, *, num_params: int, acc1: float, acc5: float, ops: float,
                     size: float, recipe: str, docs: str, min_size=(1, 1), crop: int = 224,
                     categories=_IMAGENET_CATEGORIES, **preset) -> Weights:
    """A ``Weights`` for a checkpoint on download.pytorch.org with ImageNet-1K metrics.

    ``docs`` is a key of ``DOCS``; ``preset`` goes to ``ImageClassification`` (resize_size,
    interpolation, mean, std) next to ``crop_size=crop``.
    """
    return Weights(
        url=f"https://download.pytorch.org/models/{file}",
        transforms=partial(ImageClassification, crop_size=crop, **preset),
        meta={"min_size": min_size, "categories": categories, "num_params": num_params,
              "recipe": recipe, "_metrics": {"ImageNet-1K": {"acc@1": acc1, "acc@5": acc5}},
              "_ops": ops, "_file_size": size, "_docs": DOCS[docs]},
    )

"""Metadata shared by the ImageNet weights: the 1000 class names in torchvision's order."""
from importlib import resources


def _read_categories():
    text = resources.files("ember_vision").joinpath("data/imagenet_categories.txt").read_text(
        encoding="utf-8")
    return [line for line in text.splitlines() if line]


_IMAGENET_CATEGORIES = _read_categories()
